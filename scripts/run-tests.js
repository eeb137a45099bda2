#!/usr/bin/env node
// Runs every test/**/*.test.ts with node's own test runner through tsx.
// Node 20's --test takes no globs, so the files are listed here; extra args narrow the set
// (`node scripts/run-tests.js webhooks` runs the files whose path contains "webhooks").
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { availableParallelism, tmpdir } from 'node:os'
import { join } from 'node:path'

function walk(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name)
    return entry.isDirectory() ? walk(path) : path.endsWith('.test.ts') ? [path] : []
  })
}

const filters = process.argv.slice(2)
const files = walk('test')
  .filter((file) => filters.length === 0 || filters.some((f) => file.includes(f)))
  .sort()
if (files.length === 0) {
  console.error('no test files matched')
  process.exit(1)
}
// The CLI and server child processes run the build (dist/), as `npm start` and a user's `npx optimalcloud`
// do: a CLI process from source costs most of a second of CPU in tsx's hooks, from dist/ a third of it.
// The build is incremental, so an unchanged tree costs a second here.
const build = spawnSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json'], {
  stdio: 'inherit',
})
if (build.status !== 0) {
  console.error('the build (tsc -p tsconfig.build.json) failed: the tests run the CLI from dist/')
  process.exit(1)
}
const concurrency = Math.max(2, availableParallelism())
// The spec reporter is for people; a TAP copy is kept to print one plain closing line for CI.
const tapDir = mkdtempSync(join(tmpdir(), 'oc-tap-'))
const tapFile = join(tapDir, 'results.tap')
const result = spawnSync(
  process.execPath,
  [
    '--import',
    'tsx',
    '--test',
    `--test-concurrency=${concurrency}`,
    '--test-reporter=spec',
    '--test-reporter-destination=stdout',
    '--test-reporter=tap',
    `--test-reporter-destination=${tapFile}`,
    ...files,
  ],
  { stdio: 'inherit', env: { ...process.env, NODE_ENV: 'test', OC_TEST_CLI: 'dist' } },
)
const tap = readFileSync(tapFile, 'utf8')
rmSync(tapDir, { recursive: true, force: true })
const count = (name) => Number(new RegExp(`^# ${name} (\\d+)$`, 'm').exec(tap)?.[1] ?? 0)
// node counts a skipped test but not a skipped suite (describe with skip): those are read off the TAP lines,
// so a PostgreSQL run that was skipped shows in the closing line instead of passing unseen.
const skippedSuites = [...tap.matchAll(/^\s*ok \d+ - (.+?) # SKIP(.*)$/gm)]
  .map((m) => `${m[1]}${m[2].trim() === '' ? '' : ` (${m[2].trim()})`}`)
  .filter((name, index, all) => all.indexOf(name) === index)
const suites = skippedSuites.length === 0 ? '' : `; skipped suites: ${skippedSuites.length}`
console.log(
  `\n${count('pass')} passed, ${count('fail') + count('cancelled')} failed, ${count('skipped')} skipped${suites}`,
)
if (skippedSuites.length > 0) console.log(skippedSuites.map((name) => `  skipped: ${name}`).join('\n'))
process.exit(result.status ?? 1)

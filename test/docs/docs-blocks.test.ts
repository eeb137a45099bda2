/**
 * Docs that work when pasted: every shell block of README.md and docs/*.md runs, in page order, against a
 * fresh server (a child process on a free port over a new SQLite database), as a newcomer would paste it.
 * The conventions a writer follows are in docs/architecture.md ("Tested docs") and test/docs/doc-blocks.ts.
 */
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { type E2eDatabase, emptyDatabase, ROOT, type RunningServer, startServer } from '../helpers/cli.js'
import { bodyMatches, type DocBlock, shellBlocks } from './doc-blocks.js'

const PAGES = [
  'README.md',
  ...readdirSync(join(ROOT, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .sort()
    .map((name) => `docs/${name}`),
].filter((page) => {
  // OC_DOCS_PAGES=cli,README runs only the pages whose path contains one of the words (while editing docs).
  const only = process.env.OC_DOCS_PAGES?.split(',').filter((word) => word !== '')
  return only === undefined || only.length === 0 || only.some((word) => page.includes(word))
})

/** Sourced by every block's shell: `npx optimalcloud` from source, and a `curl` that records each answer. */
const PRELUDE = join(ROOT, 'test/docs/prelude.sh')

interface Answer {
  status: number
  body: string
}

interface BlockRun {
  code: number | null
  stdout: string
  stderr: string
  answers: Answer[]
}

/** The parent's environment without OPTIMALCLOUD_* settings, plus the page's database. */
function shellEnv(extra: Record<string, string | undefined>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {}
  for (const [name, value] of Object.entries(process.env)) {
    if (!name.startsWith('OPTIMALCLOUD_') && name !== 'PORT') env[name] = value
  }
  for (const [name, value] of Object.entries(extra)) if (value !== undefined) env[name] = value
  return env
}

/** The body of an answer `curl -i` printed with its headers. */
function bodyOfOutput(output: string): string {
  if (!output.startsWith('HTTP/')) return output
  const end = output.indexOf('\r\n\r\n')
  return end === -1 ? '' : output.slice(end + 4)
}

class PageShell {
  private readonly dir = mkdtempSync(join(tmpdir(), 'oc-docs-'))
  private readonly state = join(this.dir, 'state.sh')
  private readonly answers = join(this.dir, 'answers.log')

  constructor(
    private readonly server: RunningServer,
    private readonly env: Record<string, string | undefined>,
  ) {
    writeFileSync(this.state, '')
  }

  /** Runs one block in a shell that starts with the variables the page's earlier blocks left. */
  run(block: DocBlock): Promise<BlockRun> {
    writeFileSync(this.answers, '')
    // The docs address a local server as `localhost:8080`; this one listens on a free port.
    const code = block.code.replaceAll('localhost:8080', `localhost:${this.server.port}`)
    const script = [
      'set -a',
      `. '${this.state}'`,
      `. '${PRELUDE}'`,
      'set -eo pipefail',
      `cd '${ROOT}'`,
      code,
      `export -p > '${this.state}'`,
    ].join('\n')
    return new Promise((resolve, reject) => {
      const child = spawn('bash', ['-c', script], {
        cwd: ROOT,
        env: shellEnv({
          ...this.env,
          // The URLs the CLI prints (HR destinations) then name this server's port, as they name 8080 for a reader.
          OPTIMALCLOUD_PUBLIC_URL: `http://{tenant}.localhost:${this.server.port}`,
          OC_ROOT: ROOT,
          OC_ANSWERS: this.answers,
        }),
        stdio: ['ignore', 'pipe', 'pipe'],
      })
      let stdout = ''
      let stderr = ''
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
        stdout += chunk
      })
      child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
        stderr += chunk
      })
      const timer = setTimeout(() => child.kill('SIGKILL'), 180_000)
      child.on('error', reject)
      child.on('close', (exit) => {
        clearTimeout(timer)
        const answers = readFileSync(this.answers, 'utf8')
          .split('\n')
          .filter((line) => line !== '')
          .map((line) => {
            const [status, body] = line.split(' ')
            return {
              status: Number(status),
              body: bodyOfOutput(Buffer.from(body ?? '', 'base64').toString('utf8')),
            }
          })
        resolve({ code: exit, stdout, stderr, answers })
      })
    })
  }

  dispose(): void {
    rmSync(this.dir, { recursive: true, force: true })
  }
}

/** What went wrong with a block, or null when it did what the page says. */
function problem(block: DocBlock, run: BlockRun): string | null {
  if (run.code !== 0) return `exited with ${run.code}`
  if (block.expected.length === 0) {
    const failed = run.answers.findIndex((answer) => answer.status < 200 || answer.status > 299)
    return failed === -1 ? null : `curl call ${failed + 1} answered ${run.answers[failed]?.status}, not 2xx`
  }
  if (run.answers.length !== block.expected.length) {
    return `the page shows ${block.expected.length} answers; the block's curl calls got ${run.answers.length}`
  }
  for (const [i, expected] of block.expected.entries()) {
    const actual = run.answers[i] as Answer
    if (actual.status !== expected.status || !bodyMatches(expected.body, actual.body)) {
      return `curl call ${i + 1}: the page shows ${expected.status} ${expected.body}, the server answered ${actual.status} ${actual.body.trim()}`
    }
  }
  return null
}

for (const page of PAGES) {
  const blocks = shellBlocks(join(ROOT, page)).map((block) => ({ ...block, page }))
  if (blocks.length === 0) continue

  describe(`${page}, pasted block by block`, { concurrency: false }, () => {
    let db: E2eDatabase
    let server: RunningServer
    let shell: PageShell
    let broken: string | undefined

    before(async () => {
      db = await emptyDatabase('sqlite')
      server = await startServer({ env: db.env })
      shell = new PageShell(server, db.env)
    })
    after(async () => {
      await server?.stop()
      shell?.dispose()
      await db?.dispose()
    })

    for (const block of blocks) {
      const title = `block ${block.index} (line ${block.line})`
      if (block.skip !== undefined) {
        it(title, { skip: `not tested: ${block.skip}` }, () => {})
        continue
      }
      it(title, async (t) => {
        if (broken !== undefined) {
          t.skip(`an earlier block failed (${broken})`)
          return
        }
        const run = await shell.run(block)
        const wrong = problem(block, run)
        if (wrong !== null) {
          broken = title
          assert.fail(
            `${page}, ${title}: ${wrong}\n--- block ---\n${block.code}\n--- stdout ---\n${run.stdout}\n--- stderr ---\n${run.stderr}`,
          )
        }
      })
    }
  })
}

/** A full or failing stdout never stops the service: log lines are dropped and counted, on both databases, with the real server. */
import assert from 'node:assert/strict'
import { type ChildProcess, spawn } from 'node:child_process'
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { LogDestination } from '../../src/http/log-destination.js'
import { DEMO_REQUESTER, emptyDatabase, httpRequest, ROOT, TICKETS } from '../helpers/cli.js'
import { DIALECTS, postgresAvailable } from '../helpers/databases.js'
import { sleep } from '../helpers/rows.js'

const pgUp = await postgresAvailable()
const FULL = '/dev/full'

describe('LogDestination', () => {
  it('drops and counts lines written to a full device, without throwing or an unhandled error', async (t) => {
    if (!existsSync(FULL)) return t.skip('no /dev/full here')
    const fd = openSync(FULL, 'w')
    try {
      const destination = new LogDestination(fd, { retryAfterMs: 10 })
      for (let i = 0; i < 100; i++) {
        destination.write(`{"line":${i}}\n`)
        if (i % 10 === 0) await sleep(15)
      }
      await sleep(50)
      destination.flushSync()
      assert.equal(destination.dropped, 100, 'every line was dropped')
      assert.ok(destination.failedWrites >= 2, `${destination.failedWrites} failed writes`)
    } finally {
      closeSync(fd)
    }
  })

  it('drops what does not fit in its queue while a write is in flight, and writes the rest in order', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'oc-log-'))
    const file = join(dir, 'out.log')
    const fd = openSync(file, 'w')
    try {
      const destination = new LogDestination(fd, { maxQueuedBytes: 100 })
      const lines = Array.from({ length: 50 }, (_, i) => `line-${String(i).padStart(3, '0')}\n`)
      for (const line of lines) destination.write(line)
      for (
        let i = 0;
        i < 50 && readFileSync(file, 'utf8').split('\n').length - 1 < 50 - destination.dropped;
        i++
      )
        await sleep(10)
      const written = readFileSync(file, 'utf8')
      assert.ok(destination.dropped > 0, 'some lines did not fit')
      assert.equal(
        written.split('\n').length - 1 + destination.dropped,
        50,
        'every line is written or counted',
      )
      assert.ok(written.startsWith('line-000\nline-001\n'), 'in order')
      assert.equal(destination.failedWrites, 0)
    } finally {
      closeSync(fd)
      rmSync(dir, { recursive: true, force: true })
    }
  })
})

/** The demo tenant's key and the port, from the first-start banner on stderr. */
function banner(stderr: string): { key: string; port: number } | null {
  const key = /Management API key : (oc_[A-Za-z0-9]{43})/.exec(stderr)?.[1]
  const port = /\(listening on 127\.0\.0\.1:(\d+)\)/.exec(stderr)?.[1]
  return key === undefined || port === undefined ? null : { key, port: Number(port) }
}

for (const dialect of DIALECTS) {
  describe(`the server with stdout on a full device (${dialect})`, {
    skip: (dialect === 'postgres' && !pgUp && 'no PostgreSQL') || (!existsSync(FULL) && 'no /dev/full here'),
  }, () => {
    const children: ChildProcess[] = []
    after(() => {
      for (const child of children) child.kill('SIGKILL')
    })

    it('keeps answering /healthz and webhooks, counts the dropped lines, and exits 0 on SIGTERM', async () => {
      const db = await emptyDatabase(dialect)
      const full = openSync(FULL, 'w')
      const env: NodeJS.ProcessEnv = {}
      for (const [name, value] of Object.entries(process.env))
        if (!name.startsWith('OPTIMALCLOUD_')) env[name] = value
      const child = spawn(
        process.execPath,
        ['--import', 'tsx', 'src/cli.ts', 'serve', '--port', '0', '--host', '127.0.0.1'],
        {
          cwd: ROOT,
          env: { ...env, ...db.env, OPTIMALCLOUD_LOG_LEVEL: 'info' },
          stdio: ['ignore', full, 'pipe'],
        },
      )
      closeSync(full)
      children.push(child)
      let stderr = ''
      child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
        stderr += chunk
      })
      const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) =>
        child.on('exit', (code, signal) => resolve({ code, signal })),
      )
      try {
        let started = banner(stderr)
        for (let i = 0; i < 300 && started === null && child.exitCode === null; i++) {
          await sleep(100)
          started = banner(stderr)
        }
        assert.ok(started !== null, `the server started: ${stderr}`)
        const { key, port } = started

        for (let i = 0; i < 20; i++) {
          const health = await httpRequest(port, { path: '/healthz', host: '127.0.0.1' })
          assert.equal(health.status, 200)
        }
        for (let i = 0; i < 5; i++) {
          const created = await httpRequest(port, {
            path: `${TICKETS}/createticket`,
            host: 'demo.localhost',
            headers: { authorization: `Bearer ${key}` },
            body: { title: `Full disk ${i}`, description: 'D', requester_email: DEMO_REQUESTER },
          })
          assert.equal(created.status, 201, created.text)
          await sleep(300) // failed writes pause a second: let a few fail
        }
        const metrics = await httpRequest(port, { path: '/metrics', host: '127.0.0.1' })
        const dropped = Number(/^optimalcloud_log_lines_dropped_total (\d+)$/m.exec(metrics.text)?.[1] ?? 0)
        const failures = Number(/^optimalcloud_log_write_failures_total (\d+)$/m.exec(metrics.text)?.[1] ?? 0)
        assert.ok(dropped >= 10, `dropped lines are counted: ${dropped}`)
        assert.ok(failures >= 1, `failed writes are counted: ${failures}`)
        assert.equal(child.exitCode, null, 'still running')

        child.kill('SIGTERM')
        const exit = await exited
        assert.deepEqual(exit, { code: 0, signal: null }, stderr)
      } finally {
        child.kill('SIGKILL')
        await db.dispose()
      }
    })
  })
}

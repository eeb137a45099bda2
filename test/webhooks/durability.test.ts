/** A 2xx answer means committed — seen by a new connection at once, and kept when the process is killed. */
import assert from 'node:assert/strict'
import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import http from 'node:http'
import { createInterface } from 'node:readline'
import { after, before, describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import { type Database, openDatabase } from '../../src/storage/database.js'
import { getTicket } from '../../src/support/tickets.js'
import { DIALECTS, postgresAvailable } from '../helpers/databases.js'
import { countRows } from '../helpers/rows.js'
import {
  post,
  type SeededTenant,
  seedTenant,
  startTestApp,
  type TestApp,
  TICKETS,
} from '../helpers/test-app.js'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const CHILD = fileURLToPath(new URL('../helpers/child-server.ts', import.meta.url))

/** Starts test/helpers/child-server.ts over the test database and resolves with its port. */
async function startChild(t: TestApp): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD], {
    cwd: ROOT,
    env: { ...process.env, OC_TEST_DB_URL: t.testDb.url, OC_TEST_PG_SCHEMA: t.testDb.pgSchema ?? '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stderr = ''
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8')
  })
  const lines = createInterface({ input: child.stdout ?? process.stdin })
  const ready = new Promise<number>((resolve, reject) => {
    lines.once('line', (line) => resolve((JSON.parse(line) as { port: number }).port))
    child.once('exit', (code) => reject(new Error(`child server exited (${code}): ${stderr}`)))
  })
  const timeout = new Promise<never>((_, reject) =>
    setTimeout(() => reject(new Error(`child server did not start: ${stderr}`)), 20_000).unref(),
  )
  return { child, port: await Promise.race([ready, timeout]) }
}

/** A plain HTTP POST to the child (node:http, so the Host header names the tenant). */
function send(
  port: number,
  host: string,
  auth: string,
  body: unknown,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const request = http.request(
      {
        host: '127.0.0.1',
        port,
        path: `${TICKETS}/createticket`,
        method: 'POST',
        agent: false,
        headers: { host, authorization: auth, 'content-type': 'application/json' },
      },
      (response) => {
        const chunks: Buffer[] = []
        response.on('data', (chunk: Buffer) => chunks.push(chunk))
        response.on('end', () =>
          resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
        )
        response.on('error', reject)
      },
    )
    request.on('error', reject)
    request.end(JSON.stringify(body))
  })
}

const pgUp = await postgresAvailable()

for (const dialect of DIALECTS) {
  describe(`a 2xx is committed (${dialect})`, {
    skip: dialect === 'postgres' && !pgUp && 'no PostgreSQL',
  }, () => {
    let t: TestApp
    let acme: SeededTenant
    let fresh: Database
    before(async () => {
      t = await startTestApp(dialect)
      acme = await seedTenant(t.services, 'acme')
      // A connection of its own, opened while the app runs: it sees only what was committed.
      fresh = openDatabase(
        t.testDb.url,
        t.testDb.pgSchema === undefined ? {} : { pgSchema: t.testDb.pgSchema },
      )
    })
    after(async () => {
      await fresh.close()
      await t.close()
    })

    it('after a 201 or 200, a new connection finds the ticket, the comment and the Idempotency-Key', async () => {
      const created = await post(t.app, `${TICKETS}/createticket`, {
        host: acme.host,
        auth: acme.key,
        body: { title: 'Durable', description: 'D', requester_email: acme.requester },
        headers: { 'idempotency-key': 'durable-1' },
      })
      assert.equal(created.statusCode, 201, created.body)
      const ticket = await getTicket(fresh.db, acme.tenant.id, created.json().ticket)
      assert.equal(ticket.subject, 'Durable')
      assert.equal(await countRows(fresh.db, 'idempotency_keys', acme.tenant.id), 1)

      const incident = {
        requester_email: acme.requester,
        short_description: 'Durable incident',
        sys_id: 'dur-1',
      }
      const first = await post(t.app, `${TICKETS}/servicenow`, {
        host: acme.host,
        auth: acme.basic,
        body: incident,
      })
      assert.equal(first.statusCode, 201)
      const repeat = await post(t.app, `${TICKETS}/servicenow`, {
        host: acme.host,
        auth: acme.basic,
        body: { ...incident, state: 'closed' },
      })
      assert.equal(repeat.statusCode, 200)
      const comments = (await getTicket(fresh.db, acme.tenant.id, repeat.json().ticket)).comments ?? []
      assert.deepEqual(
        comments.map((comment) => comment.body),
        ['sys_id: dur-1', 'state: closed'],
      )
      assert.ok((await countRows(fresh.db, 'deliveries', acme.tenant.id)) >= 3)
    })

    it('a process killed right after answering keeps every ticket it acknowledged', async () => {
      const { child, port } = await startChild(t)
      const exited = once(child, 'exit')
      try {
        const acknowledged: Array<{ number: number; title: string }> = []
        const calls = Array.from({ length: 40 }, async (_, i) => {
          const title = `Killed ${i}`
          const answer = await send(port, acme.host, `Bearer ${acme.key}`, {
            title,
            description: 'D',
            requester_email: acme.requester,
          })
          if (answer.status === 201) {
            acknowledged.push({ number: (JSON.parse(answer.body) as { ticket: number }).ticket, title })
            // Killed at the first answer, with the others still in flight.
            child.kill('SIGKILL')
          }
        })
        await Promise.allSettled(calls)
        assert.ok(acknowledged.length >= 1, 'at least one answer arrived')
        await exited
        for (const { number, title } of acknowledged) {
          const ticket = await getTicket(fresh.db, acme.tenant.id, number)
          assert.equal(ticket.subject, title)
        }
      } finally {
        child.kill('SIGKILL')
      }
    })
  })
}

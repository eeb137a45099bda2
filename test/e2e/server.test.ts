/** The real server and the real CLI on one database: what the CLI makes works at once; the first start. */
import assert from 'node:assert/strict'
import { createServer } from 'node:net'
import { after, before, describe, it } from 'node:test'
import {
  type CliResult,
  cliJson,
  type E2eDatabase,
  type Env,
  emptyDatabase,
  httpRequest,
  type RunningServer,
  runCli,
  startServer,
  TICKETS,
} from '../helpers/cli.js'
import { DIALECTS, postgresAvailable } from '../helpers/databases.js'

function records(value: unknown): Array<Record<string, unknown>> {
  assert.ok(Array.isArray(value), `expected a JSON array, got ${JSON.stringify(value)}`)
  return value as Array<Record<string, unknown>>
}

function record(value: unknown): Record<string, unknown> {
  assert.ok(typeof value === 'object' && value !== null && !Array.isArray(value), JSON.stringify(value))
  return value as Record<string, unknown>
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

for (const dialect of DIALECTS) {
  describe(`server and CLI share the ${dialect} database`, {
    skip: dialect === 'postgres' && !(await postgresAvailable()) && 'PostgreSQL is not running',
  }, () => {
    let db: E2eDatabase
    let env: Env
    let server: RunningServer
    let busy: CliResult
    before(async () => {
      db = await emptyDatabase(dialect)
      env = db.env
      // A first start on a port that is taken: it must fail at once (not hang on an open pool) and
      // must not spend the one showing of the demo secrets.
      const taken = createServer()
      await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve))
      const address = taken.address()
      const port = typeof address === 'object' && address !== null ? address.port : 0
      try {
        busy = await runCli(['serve', '--port', String(port), '--host', '127.0.0.1'], {
          env,
          timeoutMs: 20_000,
        })
      } finally {
        taken.close()
      }
      server = await startServer({ env })
    })
    after(async () => {
      await server?.stop()
      await db?.dispose()
    })

    it('serve on a taken port exits non-zero at once; the next start still creates demo and shows its secrets', async () => {
      assert.notEqual(busy.code, 0)
      assert.match(busy.stderr, /EADDRINUSE/)
      assert.ok(!busy.stderr.includes('First start'), busy.stderr)
      await server.waitFor('stderr', 'First start')
    })

    it('a key, a service account and a requester made by the CLI work at once; tickets and deliveries read back; a revoked key stops within 5 s', async () => {
      assert.equal(record(await cliJson(['tenant', 'create', 'acme'], { env })).name, 'acme')
      const [key, , service] = await Promise.all([
        cliJson(['apikey', 'create', '--tenant', 'acme', '--name', 'servicenow', '--management'], { env }),
        cliJson(
          [
            'requester',
            'add',
            '--tenant',
            'acme',
            '--email',
            'Jane.Roe@Acme.example.com',
            '--name',
            'Jane Roe',
          ],
          { env },
        ),
        cliJson(
          [
            'user',
            'create',
            '--tenant',
            'acme',
            '--email',
            'svc@acme.example.com',
            '--service-account',
            '--password-stdin',
          ],
          {
            env,
            stdin: 'service secret 123\n',
          },
        ),
      ])
      const bearer = `Bearer ${String(record(key).key)}`
      const basic = `Basic ${Buffer.from(`${String(record(service).email)}:service secret 123`).toString('base64')}`
      const host = `acme.localhost:${server.port}`

      // The very first request with the new key: no warm-up, no retry.
      const first = await httpRequest(server.port, {
        path: `${TICKETS}/createticket`,
        host,
        headers: { authorization: bearer },
        body: {
          title: 'Printer on fire',
          description: 'Third floor',
          requester_email: 'jane.roe@acme.example.com',
          priority: 'high',
        },
      })
      assert.equal(first.status, 201, first.text)
      assert.deepEqual(first.body, { ticket: 1 })
      const second = await httpRequest(server.port, {
        path: `${TICKETS}/servicenow`,
        host,
        headers: { authorization: basic },
        body: {
          requester_email: 'Jane.Roe@Acme.example.com',
          number: 'INC0001',
          short_description: 'VPN down',
          description: 'Since 9am',
          sys_id: 'abc123',
        },
      })
      assert.equal(second.status, 201, second.text)
      assert.deepEqual(second.body, { ticket: 2 })
      const bad = await httpRequest(server.port, {
        path: `${TICKETS}/createticket`,
        host,
        headers: { authorization: bearer },
        body: { description: 'no title', requester_email: 'jane.roe@acme.example.com' },
      })
      assert.equal(bad.status, 400)
      assert.deepEqual(bad.body, { error: 'title is a required field' })

      const [list, ticket, deliveries, failed] = await Promise.all([
        runCli(['ticket', 'list', '--tenant', 'acme', '--json'], { env }),
        cliJson(['ticket', 'get', '--tenant', 'acme', '1'], { env }),
        runCli(['deliveries', 'list', '--tenant', 'acme', '--json'], { env }),
        cliJson(['deliveries', 'list', '--tenant', 'acme', '--failed'], { env }),
      ])
      assert.equal(list.code, 0, list.stderr)
      const tickets = records(JSON.parse(list.stdout))
      assert.deepEqual(tickets.map((t) => t.ticket).sort(), [1, 2])
      const incident = tickets.find((t) => t.ticket === 2)
      assert.equal(incident?.subject, 'VPN down')
      assert.equal(incident?.external_id, 'abc123')

      const one = record(ticket)
      assert.equal(one.ticket, 1)
      assert.equal(one.subject, 'Printer on fire')
      assert.equal(one.priority, 'high')
      assert.equal(one.requester_email, 'jane.roe@acme.example.com')
      assert.equal(one.external_id, null)
      const comments = records(one.comments)
      assert.equal(comments.length, 1)
      assert.match(String(comments[0]?.body), /^Third floor/)

      assert.equal(deliveries.code, 0, deliveries.stderr)
      const log = records(JSON.parse(deliveries.stdout))
      assert.deepEqual(log.map((d) => d.status).sort(), [201, 201, 400])
      assert.deepEqual(
        log
          .map((d) => d.ticket)
          .filter((n) => n !== null)
          .sort(),
        [1, 2],
      )
      for (const secret of [String(record(key).key), 'service secret 123', basic.slice(6)]) {
        assert.ok(!deliveries.stdout.includes(secret), 'the delivery log holds no secret')
      }
      const failures = records(failed)
      assert.equal(failures.length, 1)
      assert.equal(failures[0]?.status, 400)
      assert.equal(failures[0]?.error, 'title is a required field')

      // Revocation through the CLI: the running server answers 401 within 5 s.
      const revoked = await cliJson(['apikey', 'revoke', '--tenant', 'acme', String(record(key).id)], { env })
      assert.deepEqual(revoked, { id: record(key).id, revoked: true })
      const since = Date.now()
      let status = 0
      while (Date.now() - since < 5000) {
        const answer = await httpRequest(server.port, {
          path: `${TICKETS}/createticket`,
          host,
          headers: { authorization: bearer },
          body: { title: 'after revoke', description: 'x', requester_email: 'jane.roe@acme.example.com' },
        })
        status = answer.status
        if (status === 401) break
        assert.equal(status, 201, answer.text)
        await sleep(200)
      }
      assert.equal(status, 401, `still accepted ${Date.now() - since} ms after the revoke`)
      // The service account is untouched by the key's revocation.
      const stillBasic = await httpRequest(server.port, {
        path: `${TICKETS}/createticket`,
        host,
        headers: { authorization: basic },
        body: { title: 'basic after revoke', description: 'x', requester_email: 'jane.roe@acme.example.com' },
      })
      assert.equal(stillBasic.status, 201, stillBasic.text)
    })
  })
}

describe('first start on an empty database', () => {
  let db: E2eDatabase
  before(async () => {
    db = await emptyDatabase('sqlite')
  })
  after(() => db.dispose())

  it('creates tenant demo, prints its secrets and working curl commands once; a second start prints none', async () => {
    const first = await startServer({ env: db.env })
    let banner: string
    try {
      await first.waitFor('stderr', 'Then read it back')
      banner = first.output().stderr
    } catch (error) {
      await first.stop('SIGKILL')
      throw error
    }
    const key = /Management API key : (oc_[A-Za-z0-9]{43})\n/.exec(banner)?.[1]
    const account = /Service account\s+: (\S+@\S+) \/ (\S+)\n/.exec(banner)
    assert.ok(key, banner)
    assert.ok(account?.[1] !== undefined && account[2] !== undefined, banner)
    const password = account[2]

    // The two curl commands, taken apart as a shell would and sent as they are.
    const curls = [
      ...banner.matchAll(/curl -i -X POST (\S+) \\\n\s+-H '([^']+)' -H '([^']+)' \\\n\s+-d '([^']+)'/g),
    ]
    assert.equal(curls.length, 2, banner)
    const numbers: unknown[] = []
    for (const [, address = '', authorization = '', contentType = '', data = ''] of curls) {
      const url = new URL(address)
      assert.equal(url.hostname, 'demo.localhost')
      assert.equal(url.port, String(first.port), 'the curl names the port the server listens on')
      assert.ok(url.pathname.startsWith(`${TICKETS}/`), url.pathname)
      const [name, value] = authorization.split(': ')
      assert.equal(name, 'Authorization')
      assert.equal(contentType, 'Content-Type: application/json')
      const answer = await httpRequest(first.port, {
        path: url.pathname,
        host: url.host,
        headers: { authorization: value ?? '' },
        body: JSON.parse(data),
      })
      assert.equal(answer.status, 201, `${address}: ${answer.text}`)
      numbers.push(record(answer.body).ticket)
    }
    assert.deepEqual(numbers, [1, 2])
    assert.match(curls[0]?.[1] ?? '', /\/createticket$/)
    assert.match(curls[0]?.[2] ?? '', new RegExp(`Bearer ${key}$`))

    // "Then read it back: npx optimalcloud ticket get --tenant demo 1"
    assert.match(banner, /ticket get --tenant demo 1/)
    const ticket = record(await cliJson(['ticket', 'get', '--tenant', 'demo', '1'], { env: db.env }))
    for (const field of ['ticket', 'subject', 'priority', 'requester_email', 'external_id', 'comments']) {
      assert.ok(field in ticket, `ticket get has ${field}`)
    }
    assert.equal(ticket.ticket, 1)
    assert.equal(ticket.subject, 'Test Ticket')
    assert.equal(ticket.requester_email, 'john.doe@optimalidm.com')
    assert.equal(records(ticket.comments)[0]?.body, 'Generated by the CreateTicket webhook')

    assert.deepEqual(await first.stop(), { code: 0, signal: null })
    const logs = first.output().stdout
    for (const line of logs.trim().split('\n'))
      assert.doesNotThrow(() => JSON.parse(line), `a JSON log line: ${line}`)
    assert.ok(!logs.includes(key) && !logs.includes(password), 'the logs hold no secret')

    const second = await startServer({ env: db.env })
    const again = await httpRequest(second.port, {
      path: `${TICKETS}/createticket`,
      host: `demo.localhost:${second.port}`,
      headers: { authorization: `Bearer ${key}` },
      body: { title: 'again', description: 'after a restart', requester_email: 'john.doe@optimalidm.com' },
    })
    assert.equal(again.status, 201, again.text)
    assert.deepEqual(again.body, { ticket: 3 })
    assert.deepEqual(await second.stop(), { code: 0, signal: null })
    const { stdout, stderr } = second.output()
    for (const text of [stdout, stderr]) {
      assert.ok(!text.includes(key), 'the key is not printed again')
      assert.ok(!text.includes(password), 'the password is not printed again')
      assert.ok(!text.includes('First start'), text)
    }
    const tenants = records(await cliJson(['tenant', 'list'], { env: db.env }))
    assert.deepEqual(
      tenants.map((t) => t.name),
      ['demo'],
    )
  })
})

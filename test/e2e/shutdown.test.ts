/** The real server under SIGTERM (drain, answer everything, exit 0) and SIGKILL (a 2xx means committed). */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import {
  cliJson,
  DEMO_REQUESTER,
  demoKey,
  type E2eDatabase,
  emptyDatabase,
  type HttpAnswer,
  httpRequest,
  type RunningServer,
  startServer,
  TICKETS,
} from '../helpers/cli.js'
import { postgresAvailable } from '../helpers/databases.js'

const CONCURRENT = 50
const skipPostgres = !(await postgresAvailable()) && 'PostgreSQL is not running'

/** One createticket call as tenant demo on a connection of its own. */
function createTicket(
  server: RunningServer,
  key: string,
  title: string,
  onConnect?: () => void,
): Promise<HttpAnswer> {
  return httpRequest(server.port, {
    path: `${TICKETS}/createticket`,
    host: `demo.localhost:${server.port}`,
    headers: { authorization: `Bearer ${key}` },
    body: { title, description: `${title}: e2e`, requester_email: DEMO_REQUESTER },
    ...(onConnect === undefined ? {} : { onConnect }),
  })
}

/** The ticket numbers `ticket list --json` shows for tenant demo. */
async function storedTickets(db: E2eDatabase): Promise<number[]> {
  const list = await cliJson(['ticket', 'list', '--tenant', 'demo'], { env: db.env })
  assert.ok(Array.isArray(list))
  return list.map((t: { ticket: number }) => t.ticket).sort((a, b) => a - b)
}

function ticketNumber(answer: HttpAnswer): number {
  assert.equal(answer.status, 201, answer.text)
  const body = answer.body as { ticket?: unknown }
  assert.equal(typeof body.ticket, 'number', answer.text)
  return Number(body.ticket)
}

/** Runs `work` against a first-started server on a fresh database, and always cleans up. */
async function withDemoServer(
  dialect: 'sqlite' | 'postgres',
  work: (server: RunningServer, key: string, db: E2eDatabase) => Promise<void>,
  options: { args?: string[]; env?: Record<string, string> } = {},
): Promise<void> {
  const db = await emptyDatabase(dialect)
  let server: RunningServer | undefined
  try {
    server = await startServer({ env: { ...db.env, ...options.env }, args: options.args ?? [] })
    await work(server, await demoKey(server), db)
  } finally {
    await server?.stop('SIGKILL')
    await db.dispose()
  }
}

/**
 * Fifty requests in flight, then SIGTERM: every one is answered, a request during the drain too (with
 * `Connection: close`), the server exits 0 and the database holds exactly the acknowledged tickets.
 * The drain is made long (OPTIMALCLOUD_DRAIN_MS) so that a busy machine still gets the late request
 * in while the server accepts.
 */
async function sigtermUnderLoad(dialect: 'sqlite' | 'postgres', args: string[] = []): Promise<void> {
  await withDemoServer(
    dialect,
    async (server, key, db) => {
      const warmup = await createTicket(server, key, 'before the signal')
      const first = ticketNumber(warmup)
      assert.equal(warmup.headers.connection, 'keep-alive', 'a normal answer keeps the connection')

      // Fifty requests, each on its own connection; the signal goes once every connection is established.
      const connected: Array<Promise<void>> = []
      const inFlight = Array.from({ length: CONCURRENT }, (_, i) => {
        let onConnect = () => {}
        connected.push(
          new Promise<void>((resolve) => {
            onConnect = resolve
          }),
        )
        return createTicket(server, key, `in flight ${i}`, () => onConnect())
      })
      await Promise.all(connected)
      server.child.kill('SIGTERM')

      // A request that arrives during the drain is answered, and told to close its connection.
      await server.waitFor('stdout', 'shutting down')
      const late = await createTicket(server, key, 'during the drain')
      const lateNumber = ticketNumber(late)
      assert.equal(late.headers.connection, 'close', 'an answer during the drain closes the connection')

      const settled = await Promise.allSettled(inFlight)
      const failures = settled.filter((s) => s.status === 'rejected').map((s) => String(s.reason))
      assert.deepEqual(failures, [], 'no request that reached the server was reset')
      const numbers = settled.map((s) => (s.status === 'fulfilled' ? ticketNumber(s.value) : 0))

      const output = () => {
        const { stdout, stderr } = server.output()
        return `stdout (end): ${stdout.slice(-3000)}\nstderr: ${stderr.slice(-3000)}`
      }
      assert.deepEqual(await server.exited, { code: 0, signal: null }, output())
      assert.match(server.output().stdout, /"msg":"stopped"/)
      const stored = await storedTickets(db)
      const acknowledged = [first, lateNumber, ...numbers].sort((a, b) => a - b)
      assert.deepEqual(stored, acknowledged, 'every 201 is in the database, and nothing else')
      assert.equal(new Set(stored).size, CONCURRENT + 2)
    },
    { args, env: { OPTIMALCLOUD_DRAIN_MS: '3000' } },
  )
}

describe('SIGTERM', () => {
  it('sqlite: answers every request that reached the server, tells late ones Connection: close, exits 0, loses nothing', () =>
    sigtermUnderLoad('sqlite'))
  it(
    'postgres, --workers 2: the same, with the requests spread over two processes',
    { skip: skipPostgres },
    () => sigtermUnderLoad('postgres', ['--workers', '2']),
  )
})

describe('serve --workers', () => {
  it('refuses more than one worker on SQLite, with the reason', async () => {
    const db = await emptyDatabase('sqlite')
    try {
      const server = startServer({ env: db.env, args: ['--workers', '2'], timeoutMs: 20_000 })
      await assert.rejects(server, /--workers > 1 needs PostgreSQL/)
    } finally {
      await db.dispose()
    }
  })
})

/**
 * Fires CONCURRENT createticket calls at once and SIGKILLs the server the moment the `killAt`-th 201
 * arrives; then every acknowledged ticket must be in the database.
 */
async function killAfterAcknowledged(dialect: 'sqlite' | 'postgres', killAt: number): Promise<void> {
  await withDemoServer(dialect, async (server, key, db) => {
    const acknowledged: number[] = []
    const unexpected: string[] = []
    const calls = Array.from({ length: CONCURRENT }, (_, i) =>
      createTicket(server, key, `durable ${i}`).then((answer) => {
        if (answer.status !== 201) unexpected.push(`${answer.status} ${answer.text}`)
        else acknowledged.push(ticketNumber(answer))
        if (acknowledged.length === killAt) server.child.kill('SIGKILL')
      }),
    )
    const settled = await Promise.allSettled(calls)
    assert.deepEqual(unexpected, [], 'every answer before the kill is a 201')
    assert.deepEqual(await server.exited, { code: null, signal: 'SIGKILL' })
    assert.equal(acknowledged.length >= killAt, true, `only ${acknowledged.length} answers before the kill`)
    if (killAt === CONCURRENT) assert.ok(settled.every((s) => s.status === 'fulfilled'))
    const stored = new Set(await storedTickets(db))
    const lost = acknowledged.filter((n) => !stored.has(n))
    assert.deepEqual(lost, [], 'acknowledged tickets missing after SIGKILL')
  })
}

describe('SIGKILL right after a 201: a 2xx means committed', () => {
  it('sqlite: killed the moment the last of 50 concurrent 201s arrives', () =>
    killAfterAcknowledged('sqlite', CONCURRENT))
  it('sqlite: killed halfway, with requests still in flight', () =>
    killAfterAcknowledged('sqlite', CONCURRENT / 2))
  it('postgres: killed the moment the last of 50 concurrent 201s arrives', { skip: skipPostgres }, () =>
    killAfterAcknowledged('postgres', CONCURRENT),
  )
})

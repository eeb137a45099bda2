/** The real server under SIGTERM (drain, answer everything, exit 0) and SIGKILL (a 2xx means committed). */
import assert from 'node:assert/strict'
import { readdirSync, readFileSync } from 'node:fs'
import { describe, it } from 'node:test'
import {
  cliJson,
  DEMO_REQUESTER,
  demoKey,
  type E2eDatabase,
  emptyDatabase,
  type HttpAnswer,
  httpRequest,
  type LaunchedServer,
  launchServer,
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

      const numbers = await allAnswered(server, inFlight)
      await stoppedCleanly(server)
      const stored = await storedTickets(db)
      const acknowledged = [first, lateNumber, ...numbers].sort((a, b) => a - b)
      assert.deepEqual(stored, acknowledged, 'every 201 is in the database, and nothing else')
      assert.equal(new Set(stored).size, CONCURRENT + 2)
    },
    { args, env: { OPTIMALCLOUD_DRAIN_MS: '3000' } },
  )
}

/**
 * A machine too busy to run the server (each worker under --workers) for more than a few
 * milliseconds at a time: twenty connections arrive while it is stopped (SIGSTOP) and wait in the
 * kernel's accept queue, each already established for its client; SIGTERM comes with no drain time;
 * then the server runs in slices of 5 ms every 125 ms. Node accepts one connection per event-loop
 * turn, so for seconds the queue is not empty although no connection has been accepted lately;
 * closing the listener then would reset the rest. Every one must be answered, and the exit be 0.
 */
async function sigtermOnAStarvedServer(dialect: 'sqlite' | 'postgres', args: string[] = []): Promise<void> {
  await withDemoServer(
    dialect,
    async (server, key, db) => {
      const first = ticketNumber(await createTicket(server, key, 'before the signal'))
      const serverPid = server.child.pid ?? 0
      const servers = args.includes('--workers') ? childrenOf(serverPid) : [serverPid]
      assert.ok(servers.length > 0, 'no server process found')
      const signal = (name: NodeJS.Signals) => {
        for (const pid of servers) {
          try {
            process.kill(pid, name)
          } catch {
            // it has exited
          }
        }
      }
      signal('SIGSTOP')
      const connected: Array<Promise<void>> = []
      const queued = Array.from({ length: 20 }, (_, i) => {
        let onConnect = () => {}
        connected.push(
          new Promise<void>((resolve) => {
            onConnect = resolve
          }),
        )
        return createTicket(server, key, `queued ${i}`, () => onConnect())
      })
      let starving = true
      const slices = (async () => {
        const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
        try {
          await Promise.all(connected)
          server.child.kill('SIGTERM') // under --workers the primary passes it on; pending while stopped
          while (starving) {
            await sleep(120)
            signal('SIGCONT')
            await sleep(5)
            if (starving) signal('SIGSTOP')
          }
        } finally {
          signal('SIGCONT')
        }
      })()
      void server.exited.then(() => {
        starving = false
      })
      await Promise.allSettled(queued).finally(() => {
        starving = false
      })
      await slices
      const numbers = await allAnswered(server, queued)
      await stoppedCleanly(server)
      const stored = await storedTickets(db)
      assert.deepEqual(
        stored,
        [first, ...numbers].sort((a, b) => a - b),
      )
    },
    { args, env: { OPTIMALCLOUD_DRAIN_MS: '0' } },
  )
}

/** The pids of a process's children (the workers of `serve --workers`), read from /proc. */
function childrenOf(parent: number): number[] {
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .filter((name) => {
      try {
        // "pid (comm) state ppid ...": comm may hold spaces and parentheses, so read after the last ')'.
        const stat = readFileSync(`/proc/${name}/stat`, 'utf8')
        return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === parent
      } catch {
        return false // ended meanwhile
      }
    })
    .map(Number)
}

/** Every call answered 201 (none reset); their ticket numbers. On failure, the server's output says why. */
async function allAnswered(server: RunningServer, calls: Array<Promise<HttpAnswer>>): Promise<number[]> {
  const settled = await Promise.allSettled(calls)
  const failures = settled.filter((s) => s.status === 'rejected').map((s) => String(s.reason))
  assert.deepEqual(failures, [], `no request that reached the server was reset\n${outputOf(server)}`)
  return settled.map((s) => (s.status === 'fulfilled' ? ticketNumber(s.value) : 0))
}

async function stoppedCleanly(server: RunningServer): Promise<void> {
  assert.deepEqual(await server.exited, { code: 0, signal: null }, outputOf(server))
  assert.match(server.output().stdout, /"msg":"stopped"/)
}

function outputOf(server: LaunchedServer): string {
  const { stdout, stderr } = server.output()
  return `stdout (end): ${stdout.slice(-3000)}\nstderr: ${stderr.slice(-3000)}`
}

describe('SIGTERM', () => {
  it('sqlite: answers every request that reached the server, tells late ones Connection: close, exits 0, loses nothing', () =>
    sigtermUnderLoad('sqlite'))
  it(
    'postgres, --workers 2: the same, with the requests spread over two processes',
    { skip: skipPostgres },
    () => sigtermUnderLoad('postgres', ['--workers', '2']),
  )
  it('sqlite, starved of CPU: every queued connection is answered, even with no drain time', () =>
    sigtermOnAStarvedServer('sqlite'))
  it(
    'postgres, --workers 2, starved of CPU: every queued connection is answered',
    { skip: skipPostgres },
    () => sigtermOnAStarvedServer('postgres', ['--workers', '2']),
  )
})

describe('SIGTERM while starting', () => {
  it('right after the listener opens, during the first-start bootstrap: finishes starting, drains, exits 0', async () => {
    const db = await emptyDatabase('sqlite')
    let server: RunningServer | undefined
    try {
      server = await startServer({ env: { ...db.env, OPTIMALCLOUD_DRAIN_MS: '0' } })
      server.child.kill('SIGTERM') // the demo tenant's passwords are still being hashed
      await stoppedCleanly(server)
      assert.match(server.output().stderr, /First start: created tenant "demo"/)
    } finally {
      await server?.stop('SIGKILL')
      await db.dispose()
    }
  })
})

describe('serve --workers', () => {
  it('a SIGTERM while the workers are still starting stops them all and exits 0', {
    skip: skipPostgres,
  }, async () => {
    const db = await emptyDatabase('postgres')
    const server = launchServer({ env: db.env, args: ['--workers', '2'] })
    const pid = server.child.pid ?? 0
    try {
      // Both workers forked: they are loading the service, far from listening.
      const deadline = Date.now() + 20_000
      while (childrenOf(pid).length < 2 && Date.now() < deadline)
        await new Promise((resolve) => setTimeout(resolve, 5))
      assert.equal(childrenOf(pid).length, 2, `the workers never started\n${outputOf(server)}`)
      server.child.kill('SIGTERM')
      assert.deepEqual(await server.exited, { code: 0, signal: null }, outputOf(server))
      assert.doesNotMatch(server.output().stderr, /starting another/)
    } finally {
      await server.stop('SIGKILL')
      await db.dispose()
    }
  })

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

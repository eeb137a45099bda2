// One benchmark target in its own process: a bare Fastify handler, Fastify + pg doing one INSERT, or the
// real service over SQLite or PostgreSQL. Started by bench/run.js with fork(); talks to it over IPC.
// argv: the target's name (`apikey`, `pg-adduser`, `pg-apikey-x2` ...). With BENCH_PG_URL the service
// runs on that PostgreSQL database; with BENCH_JOIN (the first instance's ready message) it is a
// further instance of an already prepared database and only listens. Not part of the service.
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/** `pg-apikey-x2` runs as `apikey` on PostgreSQL; the runner starts the second instance. */
const target = (process.argv[2] ?? 'bare').replace(/^pg-/, '').replace(/-x\d+$/, '')
const PG_URL = process.env.BENCH_PG_URL ?? null
const JOIN = process.env.BENCH_JOIN ? JSON.parse(process.env.BENCH_JOIN) : null
const dist = new URL('../dist/', import.meta.url)
/** A module of the built service. */
const imports = (path) => import(new URL(path, dist).href)
const TENANT = 'bench'
const PASSWORD = 'bench password, long enough'

/** Answers written, counted on the raw server so the app is untouched. */
const counters = { answered2xx: 0, answeredOther: 0 }
/** The requests in flight (no answer written yet), to tell at the end which of them lost their client. */
const unanswered = new Set()

function countAnswers(server) {
  server.on('request', (request, response) => {
    unanswered.add(request)
    // Counted when the handler ends the answer, not when the socket closes: a client that hangs up
    // early closes the socket before its request is committed and answered.
    const end = response.end
    response.end = function counted(...args) {
      unanswered.delete(request)
      if (response.statusCode >= 200 && response.statusCode < 300) counters.answered2xx++
      else counters.answeredOther++
      response.end = end
      return end.apply(this, args)
    }
  })
}

/** Counts the SQL statements run and the time spent in them, by their text, when BENCH_QUERIES=1 (profiling only). */
async function countQueries() {
  const { default: BetterSqlite3 } = await import('better-sqlite3')
  const probe = new BetterSqlite3(':memory:')
  const Statement = Object.getPrototypeOf(probe.prepare('select 1'))
  probe.close()
  const counts = new Map()
  for (const method of ['run', 'get', 'all', 'iterate']) {
    const original = Statement[method]
    Statement[method] = function counted(...args) {
      const started = process.hrtime.bigint()
      try {
        return original.apply(this, args)
      } finally {
        const entry = counts.get(this.source) ?? { count: 0, nanos: 0n }
        entry.count++
        entry.nanos += process.hrtime.bigint() - started
        counts.set(this.source, entry)
      }
    }
  }
  return counts
}

/** The same for PostgreSQL: statements sent by pg and the time until each answered (round trip included). */
async function countPgQueries() {
  const { default: pg } = await import('pg')
  const counts = new Map()
  const original = pg.Client.prototype.query
  pg.Client.prototype.query = function counted(config, values, callback) {
    const text = typeof config === 'string' ? config : config?.text
    const started = process.hrtime.bigint()
    const done = () => {
      const entry = counts.get(text) ?? { count: 0, nanos: 0n }
      entry.count++
      entry.nanos += process.hrtime.bigint() - started
      counts.set(text, entry)
    }
    // pg.Pool passes a callback (as the last argument); a direct call gets a promise.
    const last = [config, values, callback].findLastIndex((arg) => typeof arg === 'function')
    const args = [config, values, callback]
    if (last >= 0) {
      const cb = args[last]
      args[last] = (...results) => {
        done()
        cb(...results)
      }
    }
    const result = original.apply(this, args)
    if (result && typeof result.then === 'function') result.then(done, done)
    return result
  }
  return counts
}

/**
 * With BENCH_WITHOUT_LIST_INDEXES=1 (an experiment, never the service): drops every index of the hot tables
 * that serves only lists, filters, retention or reading a ticket's comments, and keeps those that enforce
 * uniqueness. It measures what those indexes cost a request on SQLite.
 */
const LIST_INDEXES = [
  'deliveries_tenant',
  'deliveries_tenant_id',
  'deliveries_tenant_endpoint',
  'deliveries_tenant_destination',
  'deliveries_replay_of',
  'deliveries_created',
  'tickets_tenant_id',
  'tickets_tenant_source',
  'ticket_comments_ticket',
  'users_tenant_status',
  'users_tenant_destination',
  'user_history_user',
  'user_history_created',
]
async function dropListIndexes(db) {
  if (process.env.BENCH_WITHOUT_LIST_INDEXES !== '1') return
  const { sql } = await import('kysely')
  for (const name of LIST_INDEXES) await db.transaction((trx) => sql.raw(`drop index ${name}`).execute(trx))
}

async function bare() {
  const { default: Fastify } = await import('fastify')
  const app = Fastify({ logger: { level: 'warn' } })
  app.post('/bare', async (request, reply) => {
    if (typeof request.body !== 'object' || request.body === null)
      return reply.code(400).send({ error: 'no' })
    return reply.code(201).send({ ticket: 1 })
  })
  return { app, info: { path: '/bare', headers: { 'content-type': 'application/json' } } }
}

/**
 * The floor of the service's SQLite data model: Fastify, then exactly the rows a createticket commits
 * (the ticket, its first comment, the delivery-log entry with the body) into the service's own schema and
 * indexes, with its pragmas and its checkpoint thread, group-committed per turn of the event loop. No
 * authentication, no validation, no savepoints, no query builder: what is left is the cost of the rows.
 */
async function sqliteFloor() {
  const { default: Fastify } = await import('fastify')
  const [database, migrate, tenants] = await Promise.all([
    imports('storage/database.js'),
    imports('storage/migrate.js'),
    imports('tenancy/tenants.js'),
  ])
  const dir = mkdtempSync(join(tmpdir(), 'optimalcloud-bench-'))
  const dbFile = join(dir, 'bench.db')
  const db = database.openDatabase(`sqlite:${dbFile}`, { sqliteCheckpointWorker: true })
  await migrate.migrateToLatest(db)
  await dropListIndexes(db)
  const tenant = await tenants.createTenant(db, TENANT)
  // The service's writer connection is idle from here on: the rows go through one of our own, set up as
  // the service sets up its connections beside the checkpoint thread.
  const writer = database.connectSqlite(dbFile, { sqliteCheckpointWorker: true })
  const ticket = writer.prepare(
    'insert into tickets (id, tenant_id, number, subject, priority, requester_email, external_id, source, dedupe_key, source_fields, backend, created_at, updated_at) values (?, ?, ?, ?, ?, ?, null, ?, null, ?, ?, ?, ?)',
  )
  const comment = writer.prepare(
    'insert into ticket_comments (id, tenant_id, ticket_id, body, created_at) values (?, ?, ?, ?, ?)',
  )
  const delivery = writer.prepare(
    'insert into deliveries (id, tenant_id, endpoint, destination_id, principal, status_code, error, reason, ticket_number, user_id, request_id, idempotency_key, duration_ms, request_body, request_body_note, replay_of, created_at) values (?, ?, ?, null, ?, 201, null, null, ?, null, ?, null, 1, ?, null, null, ?)',
  )
  let number = 0
  let sequence = 0
  const id = (prefix) => `${prefix}_${Date.now().toString(36)}${(sequence++).toString(36).padStart(8, '0')}`
  const writeBatch = writer.transaction((batch) => {
    for (const { body, number } of batch) {
      const at = new Date().toISOString()
      const ticketId = id('tkt')
      const fields = JSON.stringify(body)
      ticket.run(
        ticketId,
        tenant.id,
        number,
        body.title,
        'high',
        body.requester_email,
        'generic',
        fields,
        'builtin',
        at,
        at,
      )
      comment.run(id('cmt'), tenant.id, ticketId, `description: ${body.description}`, at)
      delivery.run(id('dlv'), tenant.id, 'createticket', 'api_key:bench', number, id('req'), fields, at)
    }
  })
  let queue = []
  const flush = () => {
    const batch = queue
    queue = []
    writeBatch(batch)
    for (const entry of batch) entry.done()
  }
  const app = Fastify({ logger: { level: 'warn' } })
  app.post('/floor', (request, reply) => {
    const body = request.body
    if (typeof body !== 'object' || body === null) return reply.code(400).send({ error: 'no' })
    const taken = ++number
    if (queue.length === 0) setImmediate(flush)
    return new Promise((resolve) => queue.push({ body, number: taken, done: resolve })).then(() =>
      reply.code(201).send({ ticket: taken }),
    )
  })
  return {
    app,
    info: {
      path: '/floor',
      headers: { 'content-type': 'application/json' },
      dbFile,
      dir,
      tenantId: tenant.id,
    },
  }
}

/** The PostgreSQL baseline: Fastify with a pg pool, one autocommitted INSERT per request (table made by the runner). */
async function pgBare() {
  const { default: Fastify } = await import('fastify')
  const { default: pg } = await import('pg')
  const pool = new pg.Pool({ connectionString: PG_URL, max: 10 })
  const app = Fastify({ logger: { level: 'warn' } })
  app.post('/bare', async (request, reply) => {
    const body = request.body
    if (typeof body !== 'object' || body === null) return reply.code(400).send({ error: 'no' })
    const { rows } = await pool.query(
      'insert into bench_bare (tenant_id, subject, requester_email, body) values ($1, $2, $3, $4) returning id',
      ['bench', String(body.title), String(body.requester_email), JSON.stringify(body)],
    )
    return reply.code(201).send({ ticket: Number(rows[0].id) })
  })
  return { app, info: { path: '/bare', headers: { 'content-type': 'application/json' } } }
}

async function service() {
  // As `serve` runs: the old generation's growth limited (heap-growth.ts).
  ;(await imports('heap-growth.js')).limitHeapGrowth()
  const [
    { buildApp },
    { loadConfig },
    { createServices },
    database,
    migrate,
    tenants,
    apiKeys,
    users,
    requesters,
  ] = await Promise.all([
    imports('app.js'),
    imports('config.js'),
    imports('services.js'),
    imports('storage/database.js'),
    imports('storage/migrate.js'),
    imports('tenancy/tenants.js'),
    imports('auth/api-keys.js'),
    imports('directory/users.js'),
    imports('support/requesters.js'),
  ])
  const dir = PG_URL === null ? (JOIN?.dir ?? mkdtempSync(join(tmpdir(), 'optimalcloud-bench-'))) : undefined
  const dbFile = dir === undefined ? undefined : join(dir, 'bench.db')
  const config = loadConfig(
    {},
    {
      databaseUrl: PG_URL ?? `sqlite:${dbFile}`,
      logLevel: 'warn',
      secretKey: () => 'bench-secret-key-not-for-production',
      sqliteSynchronous: process.env.BENCH_SYNCHRONOUS === 'FULL' ? 'FULL' : 'NORMAL',
    },
  )
  // As `serve` opens it: checkpoints on their own thread.
  const db = database.openDatabase(config.databaseUrl, {
    sqliteSynchronous: config.sqliteSynchronous,
    sqliteCheckpointWorker: process.env.BENCH_CHECKPOINT_WORKER !== '0',
  })
  const services = createServices(config, db)
  if (JOIN !== null) {
    const { type: _type, port: _port, pid: _pid, ...shared } = JOIN
    return { app: await buildApp(services), info: shared }
  }
  await migrate.migrateToLatest(db)
  await dropListIndexes(db)
  const tenant = await tenants.createTenant(db, TENANT)
  const key = await apiKeys.createApiKey(db, tenant.id, {
    name: 'bench',
    management: true,
    expiresInMs: null,
  })
  const serviceEmail = `svc@${TENANT}.example.com`
  await users.createUser(db, tenant.id, { email: serviceEmail, serviceAccount: true, password: PASSWORD })
  const requester = `john.doe@${TENANT}.example.com`
  await requesters.addRequester(db, tenant.id, requester, 'John Doe')

  const basic = `Basic ${Buffer.from(`${serviceEmail}:${PASSWORD}`).toString('base64')}`
  const bearer = `Bearer ${key.key}`
  const headers = { host: `${TENANT}.localhost`, 'content-type': 'application/json' }
  let path = '/v5.0/mgmt/api/v1.0/webhooks/helpdesk/createticket'
  let destinationId = null
  if (target === 'adduser') {
    const destination = await createGenericHrDestination(services, tenant)
    destinationId = destination.id
    path = `/v5.0/mgmt/api/v1.0/webhooks/provisioning/${destination.pluginId}/adduser`
  }
  const app = await buildApp(services)
  return {
    app,
    info: {
      path,
      headers: { ...headers, authorization: target === 'basic' ? basic : bearer },
      requester,
      dbFile,
      dir,
      tenantId: tenant.id,
      destinationId,
    },
  }
}

/** The generic-hr destination for the adduser target; its plugin_id is also its row id. */
async function createGenericHrDestination(services, tenant) {
  const { createDestination } = await imports('directory/destinations.js')
  const made = await createDestination(services, tenant, { type: 'generic-hr', name: 'bench-hr' })
  return { id: made.plugin_id, pluginId: made.plugin_id }
}

async function main() {
  const queries =
    process.env.BENCH_QUERIES !== '1' ? null : PG_URL === null ? await countQueries() : await countPgQueries()
  const { app, info } =
    target === 'bare'
      ? await (PG_URL === null ? bare() : pgBare())
      : target === 'floor'
        ? await sqliteFloor()
        : await service()
  countAnswers(app.server)
  await app.listen({ host: '127.0.0.1', port: 0 })
  const address = app.server.address()
  let mark = { cpu: process.cpuUsage(), answered: 0 }
  process.on('message', async (message) => {
    if (message?.type === 'mark') {
      // The measured run starts: CPU time, answers and SQL statements are counted from here.
      mark = { cpu: process.cpuUsage(), answered: counters.answered2xx + counters.answeredOther }
      queries?.clear()
    }
    if (message?.type !== 'stats') return
    // Let the requests the load generator abandoned at its deadline finish (or fail) first.
    const deadline = Date.now() + 10_000
    // A request whose client left before its body was read is never answered: once nothing has been
    // answered for a second and every unanswered request has lost its client, the rest never will be.
    const answered = () => counters.answered2xx + counters.answeredOther
    let last = { answered: answered(), at: Date.now() }
    while (unanswered.size > 0 && Date.now() < deadline) {
      if (answered() !== last.answered) last = { answered: answered(), at: Date.now() }
      const clientsGone = [...unanswered].every((request) => request.socket.destroyed)
      if (clientsGone && Date.now() - last.at >= 1000) break
      await new Promise((r) => setTimeout(r, 10))
    }
    const cpu = process.cpuUsage(mark.cpu)
    process.send?.({
      type: 'stats',
      cpuMicros: cpu.user + cpu.system,
      answeredSinceMark: counters.answered2xx + counters.answeredOther - mark.answered,
      rss: process.memoryUsage().rss,
      inFlight: unanswered.size,
      inFlightClientGone: [...unanswered].filter((request) => request.socket.destroyed).length,
      answered2xx: counters.answered2xx,
      answeredOther: counters.answeredOther,
      queries:
        queries === null
          ? null
          : [...queries.entries()]
              .map(([source, { count, nanos }]) => [source, count, Number(nanos) / 1000])
              .sort((a, b) => b[2] - a[2]),
    })
  })
  // The runner ends this process with SIGKILL (to show that what was answered survives it).
  process.on('disconnect', () => process.exit(0))
  process.send?.({ type: 'ready', port: address.port, pid: process.pid, ...info })
}

main().catch((error) => {
  process.send?.({
    type: 'error',
    message: error instanceof Error ? (error.stack ?? error.message) : String(error),
  })
  process.exit(1)
})

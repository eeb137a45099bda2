/** /readyz tells the truth: a database that cannot be written answers 503 until it can again, and the service recovers without a restart. */
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { chmodSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import type { FastifyInstance } from 'fastify'
import { sql } from 'kysely'
import pg from 'pg'
import { buildApp } from '../../src/app.js'
import { loadConfig } from '../../src/config.js'
import { Readiness } from '../../src/http/readiness.js'
import { createServices, type Services } from '../../src/services.js'
import { type Database, openDatabase } from '../../src/storage/database.js'
import { migrateToLatest } from '../../src/storage/migrate.js'
import { freshDatabase, PG_URL, postgresAvailable, type TestDatabase } from '../helpers/databases.js'
import {
  answerProblems,
  MANAGEMENT_ROUTES,
  mgmt,
  type OpenApiOperations,
} from '../helpers/management-routes.js'
import { sleep } from '../helpers/rows.js'
import { post, type SeededTenant, seedTenant, TEST_SECRET_KEY, TICKETS } from '../helpers/test-app.js'

const pgUp = await postgresAvailable()
const UNAVAILABLE = '{"error":"The service cannot use its database right now; try again later"}'

async function appOn(url: string, database: Database): Promise<{ app: FastifyInstance; services: Services }> {
  const config = loadConfig({}, { databaseUrl: url, secretKey: () => TEST_SECRET_KEY })
  const services = createServices(config, database)
  const app = await buildApp(services, { logger: false })
  await app.ready()
  return { app, services }
}

const readyz = async (app: FastifyInstance) =>
  (await app.inject({ method: 'GET', url: '/readyz' })).statusCode

/** Polls /readyz until it answers `status` (the probe runs at most once a second); fails after `ms`. */
async function eventually(app: FastifyInstance, status: number, ms = 6000): Promise<void> {
  const deadline = Date.now() + ms
  let last = 0
  while (Date.now() < deadline) {
    last = await readyz(app)
    if (last === status) return
    await sleep(100)
  }
  assert.fail(`/readyz answered ${last}, not ${status}, for ${ms} ms`)
}

function ticket(app: FastifyInstance, tenant: SeededTenant) {
  return post(app, `${TICKETS}/createticket`, {
    host: tenant.host,
    auth: `Bearer ${tenant.key}`,
    body: { title: 'Ready?', description: 'D', requester_email: tenant.requester },
  })
}

/**
 * Makes a file read-only for this process. Root ignores permission bits, so for root the file is
 * made immutable (chattr +i, ext4 and most disk file systems); null when neither works here.
 */
function readOnlyFile(path: string): { restore(): void } | null {
  if (process.getuid?.() !== 0) {
    chmodSync(path, 0o444)
    return { restore: () => chmodSync(path, 0o644) }
  }
  try {
    execFileSync('chattr', ['+i', path], { stdio: 'ignore' })
  } catch {
    return null
  }
  return { restore: () => execFileSync('chattr', ['-i', path], { stdio: 'ignore' }) }
}

describe('/readyz on SQLite', () => {
  it('answers 503 for a database file that was read-only at start, and 200 once it is writable, without a restart', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'oc-ready-'))
    const file = join(dir, 'test.db')
    const url = `sqlite:${file}`
    const seeding = openDatabase(url)
    await migrateToLatest(seeding)
    const { app: seedApp, services: seedServices } = await appOn(url, seeding)
    const acme = await seedTenant(seedServices, 'acme')
    await seedApp.close()
    await seeding.close()

    const lock = readOnlyFile(file)
    if (lock === null) {
      rmSync(dir, { recursive: true, force: true })
      t.skip('this file system cannot make a file read-only for root (chattr)')
      return
    }
    let locked = true
    const database = openDatabase(url)
    const { app } = await appOn(url, database)
    try {
      assert.equal(await readyz(app), 503, 'a read-only database is not ready')
      const refused = await ticket(app, acme)
      assert.equal(refused.statusCode, 503, refused.body)
      assert.equal(refused.body, UNAVAILABLE)
      assert.equal((await app.inject({ method: 'GET', url: '/healthz' })).statusCode, 200, 'alive all along')

      lock.restore()
      locked = false
      await eventually(app, 200)
      const created = await ticket(app, acme)
      assert.equal(created.statusCode, 201, created.body)
    } finally {
      if (locked) lock.restore()
      await app.close()
      await database.close()
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it('answers 503 while the database cannot grow (disk full), and 200 once it can again', async () => {
    const testDb = await freshDatabase('sqlite')
    const { app, services } = await appOn(testDb.url, testDb.database)
    try {
      const acme = await seedTenant(services, 'acme')
      await eventually(app, 200)
      // SQLite's own stand-in for a full disk: the writer may not add pages beyond the file's size.
      await sql`vacuum`.execute(testDb.database.db)
      const setLimit = (pages: number | null) =>
        testDb.database.transaction(async (trx) => {
          const size = (await sql<{ page_count: number }>`pragma page_count`.execute(trx)).rows[0]
          await sql.raw(`pragma max_page_count = ${pages ?? size?.page_count ?? 1}`).execute(trx)
        })
      await setLimit(null)
      let refused = 0
      for (let i = 0; i < 200 && refused === 0; i++) {
        const res = await ticket(app, acme)
        if (res.statusCode === 503) refused += 1
        else assert.equal(res.statusCode, 201, res.body)
      }
      assert.equal(refused, 1, 'a ticket was refused once the database could not grow')
      assert.equal(await readyz(app), 503, 'a write that failed for lack of room makes /readyz 503 at once')
      await sleep(1100)
      assert.equal(await readyz(app), 503, 'and the next probe, which needs room to grow, agrees')

      await setLimit(1_000_000_000)
      await eventually(app, 200)
      assert.equal((await ticket(app, acme)).statusCode, 201)
    } finally {
      await app.close()
      await testDb.dispose()
    }
  })
})

describe('/readyz on PostgreSQL', { skip: !pgUp && 'no PostgreSQL' }, () => {
  let testDb: TestDatabase
  let role: string
  let admin: pg.Client
  let app: FastifyInstance
  let database: Database
  let services: Services
  let acme: SeededTenant

  before(async () => {
    testDb = await freshDatabase('postgres')
    const schema = testDb.pgSchema ?? ''
    role = `oc_ready_${process.pid}_${Date.now().toString(36)}`
    admin = new pg.Client({ connectionString: PG_URL })
    await admin.connect()
    await admin.query(`create role ${role} login`)
    await admin.query(`grant usage on schema ${schema} to ${role}`)
    await admin.query(`grant select, insert, update, delete on all tables in schema ${schema} to ${role}`)
    // The service connects as this role, as an application user would (not as the superuser).
    const url = new URL(PG_URL)
    url.username = role
    database = openDatabase(url.toString(), { pgSchema: schema, pgPoolSize: 2 })
    const started = await appOn(url.toString(), database)
    app = started.app
    services = started.services
    acme = await seedTenant(started.services, 'acme')
  })

  after(async () => {
    await app.close()
    await database.close()
    await admin.query(`drop owned by ${role}`)
    await testDb.dispose()
    await admin.query(`drop role ${role}`)
    await admin.end()
  })

  /** Ends the role's connections, so the pool opens new ones under the role's new defaults. */
  const reconnect = () =>
    admin.query('select pg_terminate_backend(pid) from pg_stat_activity where usename = $1', [role])

  it('answers 503 while the write permission is revoked, and 200 once it is granted again', async () => {
    const schema = testDb.pgSchema ?? ''
    await eventually(app, 200)
    await admin.query(`revoke insert, update, delete on all tables in schema ${schema} from ${role}`)
    try {
      await eventually(app, 503)
      const refused = await ticket(app, acme)
      assert.equal(refused.statusCode, 503, refused.body)
      assert.equal(refused.body, UNAVAILABLE)
    } finally {
      await admin.query(`grant insert, update, delete on all tables in schema ${schema} to ${role}`)
    }
    await eventually(app, 200)
    assert.equal((await ticket(app, acme)).statusCode, 201)
  })

  it('answers every Management API operation 503 as its OpenAPI document says while the database refuses the role, and changes nothing', async () => {
    const schema = testDb.pgSchema ?? ''
    await eventually(app, 200)
    const document = (
      await mgmt(app, 'GET', '/openapi.json', { host: acme.host })
    ).json() as OpenApiOperations
    // Everything each call needs exists first; then the role may neither read nor write.
    const calls = []
    for (const route of MANAGEMENT_ROUTES)
      calls.push({ route, ...(await route.prepare(services, app, acme)) })
    const before = await admin.query(`select count(*)::int as n from ${schema}.audit_log`)
    await admin.query(`revoke all on all tables in schema ${schema} from ${role}`)
    try {
      // The Management API key was verified a moment ago; its cached verification expires in 2 s, and the
      // calls must fail at the database, not at authentication: wait it out.
      await sleep(2100)
      for (const { route, path, body } of calls) {
        const res = await mgmt(app, route.method, path, {
          host: acme.host,
          auth: `Bearer ${acme.key}`,
          ...(body === undefined ? {} : { body }),
        })
        const where = `${route.method} ${route.route}`
        assert.equal(res.statusCode, 503, `${where}: ${res.body}`)
        assert.equal(answerProblems(document, route, 503, res.json()), undefined, `${where}: ${res.body}`)
      }
    } finally {
      await admin.query(`grant select, insert, update, delete on all tables in schema ${schema} to ${role}`)
    }
    const after = await admin.query(`select count(*)::int as n from ${schema}.audit_log`)
    assert.equal(after.rows[0].n, before.rows[0].n, 'no change was audited: none was made')
    await eventually(app, 200)
  })

  /** The role read-only (default_transaction_read_only) until 503, then writable again: 200 and tickets. */
  async function readOnlyThenWritable(reconnectAfterReset: boolean) {
    await eventually(app, 200)
    await admin.query(`alter role ${role} set default_transaction_read_only = on`)
    await reconnect()
    try {
      await eventually(app, 503)
      assert.equal((await ticket(app, acme)).statusCode, 503)
    } finally {
      await admin.query(`alter role ${role} reset default_transaction_read_only`)
      if (reconnectAfterReset) await reconnect()
    }
    await eventually(app, 200)
    for (let i = 0; i < 3; i++) assert.equal((await ticket(app, acme)).statusCode, 201)
  }

  it('answers 503 while the database is read-only (default_transaction_read_only), and 200 once it is not', () =>
    readOnlyThenWritable(true))

  // Only sessions opened after the reset are writable; the pool's open ones stay read-only for life, and
  // /readyz polled every 100 ms keeps them busy.
  it('recovers when the read-only setting is reset while its sessions stay open (nothing reconnects them)', () =>
    readOnlyThenWritable(false))
})

describe('Readiness probe rate', () => {
  it('probes at most once per interval whatever the request rate, and shares one probe between concurrent callers', async () => {
    let probes = 0
    let clock = 0
    let failing = false
    const database = {
      probeWrite: async () => {
        probes += 1
        await sleep(5)
        if (failing) throw new Error('read-only')
      },
      lastStorageFailureAt: () => 0,
    } as unknown as Database
    const readiness = new Readiness(database, 1000, () => clock)
    const answers = await Promise.all(Array.from({ length: 50 }, () => readiness.isReady()))
    assert.ok(answers.every((ready) => ready))
    assert.equal(probes, 1, '50 concurrent calls, one probe')
    for (let i = 0; i < 100; i++) await readiness.isReady()
    assert.equal(probes, 1, 'no new probe within the interval')
    failing = true
    clock = 1000
    assert.equal(await readiness.isReady(), false)
    assert.equal(probes, 2)
    failing = false
    clock = 1500
    assert.equal(await readiness.isReady(), false, 'not ready until the next probe says so')
    clock = 2000
    assert.equal(await readiness.isReady(), true)
    assert.equal(probes, 3)
  })

  it('turns not ready at once when a request failed to write since the last probe', async () => {
    let failureAt = 0
    let clock = 10
    const database = {
      probeWrite: async () => {},
      lastStorageFailureAt: () => failureAt,
    } as unknown as Database
    const readiness = new Readiness(database, 1000, () => clock)
    assert.equal(await readiness.isReady(), true)
    clock = 20
    failureAt = 20
    assert.equal(
      await readiness.isReady(),
      false,
      'a write failed after the probe: not ready, no probe needed',
    )
  })
})

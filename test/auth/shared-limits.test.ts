/** The failure limit holds across instances: two apps over one PostgreSQL schema count together, in its table or in Redis. */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { Redis } from 'ioredis'
import { sql } from 'kysely'
import { Authenticator } from '../../src/auth/authenticator.js'
import { verifyPassword } from '../../src/auth/passwords.js'
import type { Services } from '../../src/services.js'
import { uniqueAddress } from '../helpers/client-address.js'
import { type Instance, onEachDatabase, type Suite } from '../helpers/suite.js'
import { post, TICKETS } from '../helpers/test-app.js'

const PATH = `${TICKETS}/createticket`
const REDIS_URL = process.env.OPTIMALCLOUD_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379'
/** Keys of this run only: parallel runs (and other engineers' tests) share the Redis. */
const REDIS_PREFIX = `oc-test-${process.pid}-${Date.now().toString(36)}`

async function redisAnswers(): Promise<boolean> {
  const client = new Redis(REDIS_URL, { lazyConnect: true, connectTimeout: 2000, maxRetriesPerRequest: 0 })
  client.on('error', () => {})
  try {
    await client.connect()
    return (await client.ping()) === 'PONG'
  } catch (error) {
    if (process.env.CI === 'true')
      throw new Error(`Redis is required under CI but unreachable at ${REDIS_URL}: ${String(error)}`)
    return false
  } finally {
    client.disconnect()
  }
}
const redisUp = await redisAnswers()

/** Counts KDF runs on every instance given, together. */
function countKdfRuns(all: Services[]): () => number {
  let runs = 0
  for (const services of all) {
    services.authenticator = new Authenticator(services.database, services.failures, {
      checkPassword: (password, stored) => {
        runs += 1
        return verifyPassword(password, stored)
      },
    })
  }
  return () => runs
}

function statuses(responses: Array<{ statusCode: number }>): Record<number, number> {
  const counts: Record<number, number> = {}
  for (const res of responses) counts[res.statusCode] = (counts[res.statusCode] ?? 0) + 1
  return counts
}

function sharedLimitTests(s: Suite, expectedStore: 'postgres' | 'redis') {
  // A second instance over the suite's database, with the suite's config (its store), closed with the suite.
  let second: Instance
  before(async () => {
    second = await s.instance()
  })

  it(`counts in ${expectedStore} on both instances`, () => {
    assert.equal(s.services.failures.storeKind, expectedStore)
    assert.equal(second.services.failures.storeKind, expectedStore)
  })

  it('100 wrong passwords from one address split between two instances: 30 checks in all, the rest 429', async () => {
    const runs = countKdfRuns([s.services, second.services])
    const address = uniqueAddress()
    const answers = await Promise.all(
      Array.from({ length: 100 }, (_, i) =>
        post(i % 2 === 0 ? s.app : second.app, PATH, {
          host: s.acme.host,
          auth: `Basic ${Buffer.from(`${s.acme.serviceEmail}:guess ${i}`).toString('base64')}`,
          body: {},
          remoteAddress: address,
        }),
      ),
    )
    assert.equal(runs(), 30)
    assert.deepEqual(statuses(answers), { 401: 30, 429: 70 })
  })

  it('an address shut out on one instance is refused on the other, without a check', async () => {
    const runs = countKdfRuns([s.services, second.services])
    const address = uniqueAddress()
    for (let i = 0; i < 31; i++) {
      const res = await post(s.app, PATH, {
        host: s.acme.host,
        auth: 'Bearer nope',
        body: {},
        remoteAddress: address,
      })
      assert.equal(res.statusCode, i < 30 ? 401 : 429)
    }
    const other = await post(second.app, PATH, {
      host: s.acme.host,
      auth: `Basic ${Buffer.from(`${s.acme.serviceEmail}:a guess`).toString('base64')}`,
      body: {},
      remoteAddress: address,
    })
    assert.equal(other.statusCode, 429)
    assert.equal(runs(), 0)
    // And a good key of another address works on both.
    for (const app of [s.app, second.app]) {
      const res = await post(app, PATH, {
        host: s.acme.host,
        auth: `Bearer ${s.acme.key}`,
        body: {},
        remoteAddress: uniqueAddress(),
      })
      assert.equal(res.statusCode, 400, res.body)
    }
  })
}

onEachDatabase('failure limit shared through the database', { dialects: ['postgres'] }, (s) => {
  sharedLimitTests(s, 'postgres')

  it('counts in the auth_limits table migration 002 made: unlogged, in the schema the connection uses', async () => {
    const table = await sql<{ schema: string; persistence: string }>`
      select n.nspname as schema, c.relpersistence as persistence
      from pg_class c join pg_namespace n on n.oid = c.relnamespace
      where c.relname = 'auth_limits' and n.nspname = current_schema()`.execute(s.db)
    assert.deepEqual(table.rows, [{ schema: s.t.testDb.pgSchema, persistence: 'u' }])
    const rows = await sql<{ key: string }>`select key from auth_limits`.execute(s.db)
    assert.ok(rows.rows.some((row) => row.key.startsWith('addr:')))
    // Account keys are hashes: the table holds no email.
    assert.ok(rows.rows.every((row) => !row.key.includes('@')))
  })
})

if (!redisUp) describe('failure limit shared through Redis', { skip: `no Redis at ${REDIS_URL}` }, () => {})

onEachDatabase(
  'failure limit shared through Redis',
  {
    dialects: redisUp ? ['postgres'] : [],
    config: { redisUrl: REDIS_URL, redisKeyPrefix: REDIS_PREFIX },
  },
  (s) => {
    sharedLimitTests(s, 'redis')

    it('keeps its counts in Redis under the configured prefix, and none in the database', async () => {
      const client = new Redis(REDIS_URL)
      try {
        const keys = await client.keys(`${REDIS_PREFIX}:*`)
        assert.ok(
          keys.some((key) => key.startsWith(`${REDIS_PREFIX}:addr:`)),
          keys.join(','),
        )
        assert.ok(keys.every((key) => !key.includes('@')))
      } finally {
        client.disconnect()
      }
      const rows = await sql<{ n: string }>`select count(*) as n from auth_limits`.execute(s.db)
      assert.equal(Number(rows.rows[0]?.n), 0)
    })

    after(async () => {
      const client = new Redis(REDIS_URL)
      const keys = await client.keys(`${REDIS_PREFIX}:*`)
      if (keys.length > 0) await client.del(...keys)
      client.disconnect()
    })
  },
)

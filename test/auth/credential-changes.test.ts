/** SPEC §3: a revoked key, a changed password or a disabled account stops working within 5 s on every instance. */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import type { FastifyInstance } from 'fastify'
import { buildApp } from '../../src/app.js'
import { createApiKey, revokeApiKey } from '../../src/auth/api-keys.js'
import { loadConfig } from '../../src/config.js'
import { createUser, setPassword, setUserStatus } from '../../src/directory/users.js'
import { createServices } from '../../src/services.js'
import { type Database, openDatabase } from '../../src/storage/database.js'
import { uniqueAddress } from '../helpers/client-address.js'
import { DIALECTS, postgresAvailable } from '../helpers/databases.js'
import { sleep } from '../helpers/rows.js'
import {
  post,
  type SeededTenant,
  seedTenant,
  startTestApp,
  TEST_SECRET_KEY,
  type TestApp,
  TICKETS,
} from '../helpers/test-app.js'

const PATH = `${TICKETS}/createticket`
const LIMIT_MS = 5000

function basic(email: string, password: string): string {
  return `Basic ${Buffer.from(`${email}:${password}`).toString('base64')}`
}

/** The status a request with `auth` gets; `{}` is answered 400 once authenticated, so nothing is created. */
async function statusWith(app: FastifyInstance, host: string, auth: string): Promise<number> {
  const res = await post(app, PATH, { host, auth, body: {}, remoteAddress: uniqueAddress() })
  return res.statusCode
}

/** Milliseconds until `auth` is refused (401), polling every 250 ms; Infinity when it still works after 5 s. */
async function msUntilRefused(
  app: FastifyInstance,
  host: string,
  auth: string,
  since: number,
): Promise<number> {
  while (Date.now() - since <= LIMIT_MS) {
    const status = await statusWith(app, host, auth)
    if (status === 401) return Date.now() - since
    assert.equal(status, 400, 'authenticated requests are answered 400 for {}')
    await sleep(250)
  }
  return Number.POSITIVE_INFINITY
}

const pgUp = await postgresAvailable()

for (const dialect of DIALECTS) {
  describe(`credential changes on two instances (${dialect})`, {
    skip: dialect === 'postgres' && !pgUp && 'no PostgreSQL',
  }, () => {
    let t: TestApp
    let acme: SeededTenant
    let secondDatabase: Database
    let second: FastifyInstance
    before(async () => {
      t = await startTestApp(dialect)
      acme = await seedTenant(t.services, 'acme')
      // A second instance over the same database, with the default re-check interval (2 s).
      const config = loadConfig({}, { databaseUrl: t.testDb.url, secretKey: () => TEST_SECRET_KEY })
      assert.equal(config.credentialRecheckMs, 2000)
      secondDatabase = openDatabase(
        t.testDb.url,
        t.testDb.pgSchema === undefined ? {} : { pgSchema: t.testDb.pgSchema },
      )
      second = await buildApp(createServices(config, secondDatabase), { logger: false })
      await second.ready()
    })
    after(async () => {
      await second.close()
      await secondDatabase.close()
      await t.close()
    })

    it('a key made on one instance works at once on the other', async () => {
      const key = await createApiKey(t.services.database, acme.tenant.id, {
        name: 'new',
        management: true,
        expiresInMs: null,
      })
      assert.equal(await statusWith(second, acme.host, `Bearer ${key.key}`), 400)
      const email = 'fresh@acme.example.com'
      await createUser(t.services.database, acme.tenant.id, {
        email,
        serviceAccount: true,
        password: 'fresh password',
      })
      assert.equal(await statusWith(second, acme.host, basic(email, 'fresh password')), 400)
    })

    it('a revoked key, a changed password and a disabled account stop working within 5 s on both', async () => {
      const { database } = t.services
      const tenantId = acme.tenant.id
      const key = await createApiKey(database, tenantId, {
        name: 'to revoke',
        management: true,
        expiresInMs: null,
      })
      const changed = await createUser(database, tenantId, {
        email: 'changed@acme.example.com',
        serviceAccount: true,
        password: 'old password',
      })
      const disabled = await createUser(database, tenantId, {
        email: 'disabled@acme.example.com',
        serviceAccount: true,
        password: 'some password',
      })
      const credentials = {
        'revoked key': `Bearer ${key.key}`,
        'changed password': basic(changed.email, 'old password'),
        'disabled account': basic(disabled.email, 'some password'),
      }
      // Both instances verify (and so cache) every credential first.
      for (const app of [t.app, second]) {
        for (const [name, auth] of Object.entries(credentials)) {
          assert.equal(await statusWith(app, acme.host, auth), 400, name)
          assert.equal(await statusWith(app, acme.host, auth), 400, `${name}, cached`)
        }
      }

      const since = Date.now()
      await revokeApiKey(database, tenantId, key.id)
      await setPassword(database, tenantId, changed.id, 'new password')
      await setUserStatus(database, tenantId, disabled.id, 'disabled')

      // The new password works at once, on both instances.
      for (const app of [t.app, second]) {
        assert.equal(await statusWith(app, acme.host, basic(changed.email, 'new password')), 400)
      }
      const waits = await Promise.all(
        [t.app, second].flatMap((app, instance) =>
          Object.entries(credentials).map(async ([name, auth]) => ({
            what: `${name} on instance ${instance + 1}`,
            ms: await msUntilRefused(app, acme.host, auth, since),
          })),
        ),
      )
      for (const { what, ms } of waits) assert.ok(ms <= LIMIT_MS, `${what} still worked after 5 s`)
    })
  })
}

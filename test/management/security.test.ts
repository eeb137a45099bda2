/** Management API authentication on every route: only the tenant's Management API keys; every refusal the same 401; the limiter; nothing logged or leaked. */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { createApiKey, revokeApiKey } from '../../src/auth/api-keys.js'
import { sha256 } from '../../src/ids.js'
import { uniqueAddress } from '../helpers/client-address.js'
import { DIALECTS, postgresAvailable } from '../helpers/databases.js'
import { MANAGEMENT_ROUTES, mgmt, tenantSnapshot } from '../helpers/management-routes.js'
import { sleep } from '../helpers/rows.js'
import { type SeededTenant, seedTenant, startTestApp, type TestApp } from '../helpers/test-app.js'

const UNAUTHORIZED = '{"error":"ERROR"}'
const pgUp = await postgresAvailable()

interface Fixture {
  acme: SeededTenant
  other: SeededTenant
  plainKey: string
  revokedKey: string
  expiredKey: string
}

const BAD_CREDENTIALS: Array<{ name: string; auth(f: Fixture): string | undefined; host?: string }> = [
  { name: 'no Authorization header', auth: () => undefined },
  { name: 'garbage', auth: () => 'garbage' },
  { name: 'an unknown key', auth: () => `Bearer oc_${'A'.repeat(43)}` },
  { name: "another tenant's key", auth: (f) => `Bearer ${f.other.key}` },
  { name: "a service account's Basic credentials", auth: (f) => f.acme.basic },
  { name: 'a key without the Management API option', auth: (f) => `Bearer ${f.plainKey}` },
  { name: 'a revoked key', auth: (f) => `Bearer ${f.revokedKey}` },
  { name: 'an expired key', auth: (f) => `ApiKey ${f.expiredKey}` },
  {
    name: 'an unknown tenant with a good key',
    auth: (f) => `Bearer ${f.acme.key}`,
    host: 'nosuch.localhost',
  },
]

async function makeFixture(t: TestApp): Promise<Fixture> {
  const { database } = t.services
  const acme = await seedTenant(t.services, 'acme')
  const other = await seedTenant(t.services, 'other')
  const key = (name: string, management: boolean, expiresInMs: number | null) =>
    createApiKey(database, acme.tenant.id, { name, management, expiresInMs })
  const plain = await key('plain', false, null)
  const revoked = await key('revoked', true, null)
  await revokeApiKey(database, acme.tenant.id, revoked.id)
  const expired = await key('expired', true, 1)
  await sleep(5)
  return { acme, other, plainKey: plain.key, revokedKey: revoked.key, expiredKey: expired.key }
}

for (const dialect of DIALECTS) {
  describe(`management API security (${dialect})`, {
    skip: dialect === 'postgres' && !pgUp && 'no PostgreSQL',
  }, () => {
    let t: TestApp
    let f: Fixture
    before(async () => {
      t = await startTestApp(dialect)
      f = await makeFixture(t)
    })
    after(() => t.close())

    for (const route of MANAGEMENT_ROUTES) {
      it(`${route.method} ${route.route}: every bad credential is the same 401 and changes nothing; the key works`, async () => {
        const { path, body } = await route.prepare(t.services, t.app, f.acme)
        const before = await tenantSnapshot(t.services, f.acme.tenant.id)
        for (const bad of BAD_CREDENTIALS) {
          const auth = bad.auth(f)
          const res = await mgmt(t.app, route.method, path, {
            host: bad.host ?? f.acme.host,
            ...(auth === undefined ? {} : { auth }),
            ...(body === undefined ? {} : { body }),
            remoteAddress: uniqueAddress(),
          })
          assert.equal(res.statusCode, 401, `${bad.name}: ${res.body}`)
          assert.equal(res.body, UNAUTHORIZED, bad.name)
          assert.equal(res.headers['content-type'], 'application/json; charset=utf-8', bad.name)
        }
        // Credentials come first: bad ones with a bad body are still 401, never 400.
        const badBody = await mgmt(t.app, route.method, path, {
          host: f.acme.host,
          auth: `Bearer ${f.other.key}`,
          raw: '{"not json',
          remoteAddress: uniqueAddress(),
        })
        assert.equal(badBody.body, UNAUTHORIZED)
        assert.equal(await tenantSnapshot(t.services, f.acme.tenant.id), before, 'nothing changed')

        const ok = await mgmt(t.app, route.method, path, {
          host: f.acme.host,
          auth: `Bearer ${f.acme.key}`,
          ...(body === undefined ? {} : { body }),
        })
        assert.ok(ok.statusCode >= 200 && ok.statusCode < 300, `the good key: ${ok.statusCode} ${ok.body}`)
      })
    }

    it('the key in every accepted header form; the OpenAPI document needs none', async () => {
      for (const auth of [`Bearer ${f.acme.key}`, `apikey ${f.acme.key}`, f.acme.key]) {
        const res = await mgmt(t.app, 'GET', '/apikeys', { host: f.acme.host, auth })
        assert.equal(res.statusCode, 200, auth.slice(0, 10))
      }
      const doc = await mgmt(t.app, 'GET', '/openapi.json', { host: 'nosuch.localhost' })
      assert.equal(doc.statusCode, 200)
    })

    it('more than 30 failures a minute from one address: 429 {"error":"ERROR"}, even with the good key', async () => {
      const address = uniqueAddress()
      // Service accounts count as failures here: they authenticate, but do not administer.
      for (let i = 0; i < 30; i++) {
        const res = await mgmt(t.app, 'GET', '/users', {
          host: f.acme.host,
          auth: i % 2 === 0 ? f.acme.basic : 'Bearer nope',
          remoteAddress: address,
        })
        assert.equal(res.statusCode, 401)
      }
      const still = await mgmt(t.app, 'GET', '/users', {
        host: f.acme.host,
        auth: `Bearer ${f.acme.key}`,
        remoteAddress: address,
      })
      assert.equal(still.statusCode, 200, 'thirty failures change nothing')
      await mgmt(t.app, 'GET', '/users', { host: f.acme.host, auth: 'Bearer nope', remoteAddress: address })
      const blocked = await mgmt(t.app, 'GET', '/users', {
        host: f.acme.host,
        auth: `Bearer ${f.acme.key}`,
        remoteAddress: address,
      })
      assert.equal(blocked.statusCode, 429)
      assert.equal(blocked.body, UNAUTHORIZED)
    })

    it('management calls are not written to the delivery log', async () => {
      const count = async () =>
        (
          await t.services.database.db
            .selectFrom('deliveries')
            .select('id')
            .where('tenant_id', '=', f.other.tenant.id)
            .execute()
        ).length
      const auth = `Bearer ${f.other.key}`
      await mgmt(t.app, 'POST', '/apikeys', { host: f.other.host, auth, body: { name: 'logged?' } })
      await mgmt(t.app, 'POST', '/apikeys', { host: f.other.host, auth, body: { name: 7 } })
      await mgmt(t.app, 'GET', '/users/nope', { host: f.other.host, auth })
      await mgmt(t.app, 'GET', '/users', { host: f.other.host })
      assert.equal(await count(), 0)
    })

    it('no secret in any answer: keys, passwords, the Paylocity client secret, the Zendesk token', async () => {
      const tenant = await seedTenant(t.services, 'secrets')
      const auth = `Bearer ${tenant.key}`
      const call = (method: 'GET' | 'POST' | 'PUT', path: string, body?: unknown) =>
        mgmt(t.app, method, path, { host: tenant.host, auth, ...(body === undefined ? {} : { body }) })
      // Every GET route's path is made while the tenant still uses the built-in support system.
      const reads: string[] = []
      for (const route of MANAGEMENT_ROUTES.filter((r) => r.method === 'GET')) {
        reads.push((await route.prepare(t.services, t.app, tenant)).path)
      }
      const password = 'service account password 123'
      const clientSecret = 'paylocity-client-secret=='
      const token = 'zendesk-api-token-0123456789'
      const created = await call('POST', '/apikeys', { name: 'fresh', management: true })
      const freshKey = (created.json() as { key: string }).key
      const writes = [
        await call('POST', '/users', { email: 'svc2@secrets.example.com', service_account: true, password }),
        await call('POST', '/destinations', {
          type: 'paylocity',
          name: 'Payroll',
          settings: { client_id: 'id', client_secret: clientSecret },
        }),
        await call('PUT', '/support', {
          backend: 'zendesk',
          settings: {
            url: 'https://secrets.zendesk.com',
            email: 'agent@secrets.example.com',
            api_token: token,
          },
        }),
      ]
      for (const res of writes) assert.ok(res.statusCode < 300, res.body)
      const secrets = [
        password,
        clientSecret,
        token,
        freshKey,
        sha256(freshKey),
        tenant.key,
        sha256(tenant.key),
      ]
      const answers = writes.map((res) => res.body)
      for (const path of reads) answers.push((await call('GET', path)).body)
      assert.ok(answers.length >= 12)
      for (const answer of answers) {
        for (const secret of secrets)
          assert.ok(!answer.includes(secret), `a secret in ${answer.slice(0, 120)}`)
        assert.ok(!answer.includes('key_hash') && !answer.includes('password_hash'), answer.slice(0, 120))
      }
      const keys = await call('GET', '/apikeys')
      for (const key of keys.json() as Array<Record<string, unknown>>) {
        assert.deepEqual(Object.keys(key).sort(), [
          'created_at',
          'expires_at',
          'id',
          'management',
          'name',
          'prefix',
          'revoked_at',
        ])
      }
    })
  })
}

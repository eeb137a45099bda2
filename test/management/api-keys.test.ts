/** Management API, API keys: list, create (the key shown once), revoke; clear 400s that change nothing. */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { DIALECTS, postgresAvailable } from '../helpers/databases.js'
import { as, mgmt, tenantSnapshot } from '../helpers/management-routes.js'
import {
  post,
  type SeededTenant,
  seedTenant,
  startTestApp,
  type TestApp,
  TICKETS,
} from '../helpers/test-app.js'

const pgUp = await postgresAvailable()

interface Key {
  id: string
  name: string
  prefix: string
  management: boolean
  created_at: string
  expires_at: string | null
  revoked_at: string | null
  key?: string
}

for (const dialect of DIALECTS) {
  describe(`management API: API keys (${dialect})`, {
    skip: dialect === 'postgres' && !pgUp && 'no PostgreSQL',
  }, () => {
    let t: TestApp
    let acme: SeededTenant
    let other: SeededTenant
    before(async () => {
      t = await startTestApp(dialect)
      acme = await seedTenant(t.services, 'acme')
      other = await seedTenant(t.services, 'other')
    })
    after(() => t.close())

    /** Lists the tenant's keys with `key` (a Management API key) and reports whether it was accepted. */
    const works = async (key: string, tenant = acme) =>
      (await mgmt(t.app, 'GET', '/apikeys', { host: tenant.host, auth: `Bearer ${key}` })).statusCode === 200

    it('creates a key, shown once, that works at once; lists keys without the key or its hash', async () => {
      const created = await as<Key>(t.app, acme, 'POST', '/apikeys', {
        name: ' helpdesk ',
        management: true,
        expires_in: '90d',
      })
      assert.equal(created.status, 201)
      const key = created.body.key ?? ''
      assert.match(key, /^oc_[A-Za-z0-9]{43}$/)
      assert.equal(created.body.name, 'helpdesk')
      assert.equal(created.body.prefix, key.slice(0, 8))
      assert.equal(created.body.management, true)
      const lifetime = Date.parse(created.body.expires_at ?? '') - Date.parse(created.body.created_at)
      assert.equal(lifetime, 90 * 86_400_000)
      assert.ok(await works(key), 'the new key administers the tenant at once')
      const webhook = await post(t.app, `${TICKETS}/createticket`, {
        host: acme.host,
        auth: `Bearer ${key}`,
        body: { title: 'T', description: 'D', requester_email: acme.requester },
      })
      assert.equal(webhook.statusCode, 201, 'and calls webhooks')

      const list = await as<Key[]>(t.app, acme, 'GET', '/apikeys')
      assert.equal(list.status, 200)
      const listed = list.body.find((k) => k.id === created.body.id)
      assert.ok(listed !== undefined)
      assert.equal(listed.key, undefined)
      assert.ok(!list.raw.includes(key.slice(8)), 'the key is never listed')
      assert.ok(!list.raw.includes('hash'))
      assert.ok(
        list.body.every((k) => k.id !== other.keyId),
        "another tenant's keys are not listed",
      )
    })

    it('a key without the Management API option (the default) calls neither webhooks nor this API', async () => {
      const created = await as<Key>(t.app, acme, 'POST', '/apikeys', { name: 'plain' })
      assert.equal(created.status, 201)
      assert.equal(created.body.management, false)
      assert.equal(created.body.expires_at, null)
      assert.equal(await works(created.body.key ?? ''), false)
    })

    it('refuses bad input with a clear 400 and creates nothing', async () => {
      const before = await tenantSnapshot(t.services, acme.tenant.id)
      const cases: Array<[unknown, string]> = [
        [{}, 'name is a required field'],
        [{ name: '   ' }, 'name is a required field'],
        [{ name: 7 }, 'name must be a string'],
        [{ name: null }, 'name must be a string'],
        [{ name: 'x', management: 'yes' }, 'management must be a boolean (true or false)'],
        [{ name: 'x', expires_in: 'soon' }, 'expires_in must look like 90d, 12h, 30m or 45s'],
        [{ name: 'x', expires_in: '0d' }, 'expires_in must be positive'],
        [{ name: 'x', expires_in: 90 }, 'expires_in must be a string'],
        [{ name: 'x', expiresIn: '90d' }, 'expiresIn is not a known field'],
        [[{ name: 'x' }], 'Request body must be a JSON object'],
        ['a string', 'Request body must be a JSON object'],
      ]
      for (const [body, message] of cases) {
        const res = await as(t.app, acme, 'POST', '/apikeys', body)
        assert.equal(res.status, 400, JSON.stringify(body))
        assert.deepEqual(res.body, { error: message }, JSON.stringify(body))
      }
      for (const raw of ['', '{"name":', 'null']) {
        const res = await mgmt(t.app, 'POST', '/apikeys', {
          host: acme.host,
          auth: `Bearer ${acme.key}`,
          raw,
        })
        assert.equal(res.statusCode, 400, raw)
        assert.deepEqual(res.json(), { error: 'Request body must be a JSON object' }, raw)
      }
      assert.equal(await tenantSnapshot(t.services, acme.tenant.id), before)
    })

    it('revokes by POST …/revoke or DELETE: the key stops at once; again is fine; unknown is 404', async () => {
      for (const method of ['POST', 'DELETE'] as const) {
        const created = await as<Key>(t.app, acme, 'POST', '/apikeys', { name: 'doomed', management: true })
        const key = created.body.key ?? ''
        assert.ok(await works(key))
        const path = method === 'POST' ? `/apikeys/${created.body.id}/revoke` : `/apikeys/${created.body.id}`
        const revoked = await as(t.app, acme, method, path)
        assert.equal(revoked.status, 200)
        assert.deepEqual(revoked.body, { id: created.body.id, revoked: true })
        assert.equal(await works(key), false, `${method}: refused right after the revoke`)
        const again = await as(t.app, acme, method, path)
        assert.deepEqual(again.body, { id: created.body.id, revoked: true })
        // An action takes no body; an empty one sent as JSON is no body either.
        const empty = await mgmt(t.app, method, path, {
          host: acme.host,
          auth: `Bearer ${acme.key}`,
          raw: '',
          headers: { 'content-type': 'application/json' },
        })
        assert.equal(empty.statusCode, 200, empty.body)
        const listed = (await as<Key[]>(t.app, acme, 'GET', '/apikeys')).body.find(
          (k) => k.id === created.body.id,
        )
        assert.equal(typeof listed?.revoked_at, 'string')
      }
    })

    it("404 for an unknown key and for another tenant's key, which keeps working", async () => {
      const before = await tenantSnapshot(t.services, other.tenant.id)
      for (const [method, path] of [
        ['POST', `/apikeys/${other.keyId}/revoke`],
        ['DELETE', `/apikeys/${other.keyId}`],
        ['POST', '/apikeys/key_nope/revoke'],
      ] as const) {
        const res = await as(t.app, acme, method, path)
        assert.equal(res.status, 404, path)
        assert.deepEqual(res.body, { error: 'API key not found' })
      }
      assert.ok(await works(other.key, other))
      assert.equal(await tenantSnapshot(t.services, other.tenant.id), before)
    })
  })
}

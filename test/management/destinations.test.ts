/** Management API, provisioning destinations: create with the three URLs, list, get, update, enable and disable; secrets never shown. */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { createDestination } from '../../src/directory/destinations.js'
import { DIALECTS, postgresAvailable } from '../helpers/databases.js'
import { as, tenantSnapshot } from '../helpers/management-routes.js'
import { post, type SeededTenant, seedTenant, startTestApp, type TestApp } from '../helpers/test-app.js'

const pgUp = await postgresAvailable()

interface Destination {
  plugin_id: string
  type: string
  name: string
  enabled: boolean
  settings: Record<string, string>
  has_client_secret: boolean
  urls: { adduser: string; modifyuser: string; deleteuser: string }
}

const SECRET = 'paylocity-secret-value=='

for (const dialect of DIALECTS) {
  describe(`management API: destinations (${dialect})`, {
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

    /** Calls a destination's adduser URL (its path) as acme; 404 when it is unknown or disabled. */
    const addUser = (url: string, employeeId: string) =>
      post(t.app, new URL(url).pathname, {
        host: acme.host,
        auth: `Bearer ${acme.key}`,
        body: {
          employee_id: employeeId,
          first_name: 'A',
          last_name: 'B',
          email: `${employeeId}@acme.example.com`,
        },
      })

    it('creates a destination whose adduser URL works at once; lists and gets it; the secret is masked', async () => {
      const created = await as<Destination>(t.app, acme, 'POST', '/destinations', {
        type: 'paylocity',
        name: 'Payroll',
        settings: { client_id: 'client', client_secret: SECRET, login_id: 'employee_id' },
      })
      assert.equal(created.status, 201)
      const { plugin_id: pluginId, urls } = created.body
      assert.match(pluginId, /^[A-Za-z0-9]{24,64}$/)
      assert.equal(
        urls.adduser,
        `http://acme.localhost:8080/v5.0/mgmt/api/v1.0/webhooks/provisioning/${pluginId}/adduser`,
      )
      assert.ok(urls.modifyuser.endsWith(`/${pluginId}/modifyuser`))
      assert.ok(urls.deleteuser.endsWith(`/${pluginId}/deleteuser`))
      assert.deepEqual(created.body.settings, {
        login_id: 'employee_id',
        client_id: 'client',
        client_secret: '********',
      })
      assert.equal(created.body.has_client_secret, true)
      assert.equal((await addUser(urls.adduser, 'P-1')).statusCode, 201)

      const list = await as<Destination[]>(t.app, acme, 'GET', '/destinations')
      assert.deepEqual(
        list.body.map((d) => d.plugin_id),
        [pluginId],
      )
      const one = await as<Destination>(t.app, acme, 'GET', `/destinations/${pluginId}`)
      assert.equal(one.status, 200)
      assert.deepEqual(one.body, list.body[0])
      for (const raw of [created.raw, list.raw, one.raw]) assert.ok(!raw.includes(SECRET))
      const stored = await t.services.database.db
        .selectFrom('destinations')
        .select('settings')
        .where('id', '=', pluginId)
        .executeTakeFirstOrThrow()
      assert.ok(!stored.settings.includes(SECRET), 'sealed at rest')
    })

    it('refuses bad destinations with a clear 400 and creates nothing', async () => {
      const before = await tenantSnapshot(t.services, acme.tenant.id)
      const cases: Array<[unknown, string]> = [
        [{ name: 'x' }, 'type is a required field'],
        [{ type: 'workday', name: 'x' }, 'type must be one of: generic-hr, paylocity, bamboohr'],
        [{ type: 'generic-hr' }, 'name is a required field'],
        [{ type: 'generic-hr', name: ' ' }, 'name is required (1 to 200 characters)'],
        [
          { type: 'generic-hr', name: 'x', settings: { client_id: 'a' } },
          'Unknown setting "client_id" for a generic-hr destination (known: login_id, termination_limit, mode)',
        ],
        [
          { type: 'generic-hr', name: 'x', settings: { login_id: 'phone' } },
          'Setting login_id must be email or employee_id',
        ],
        [{ type: 'generic-hr', name: 'x', settings: { login_id: 1 } }, 'settings.login_id must be a string'],
        [{ type: 'generic-hr', name: 'x', settings: 'login_id=email' }, 'settings must be an object'],
        [
          { type: 'paylocity', name: 'x', settings: { client_id: 'a' } },
          'client_id and client_secret must be set together',
        ],
        [{ type: 'generic-hr', name: 'x', enabled: false }, 'enabled is not a known field'],
      ]
      for (const [body, message] of cases) {
        const res = await as(t.app, acme, 'POST', '/destinations', body)
        assert.equal(res.status, 400, JSON.stringify(body))
        assert.deepEqual(res.body, { error: message }, JSON.stringify(body))
      }
      assert.equal(await tenantSnapshot(t.services, acme.tenant.id), before)
    })

    it('updates name and settings (null removes one); bad changes are 400 and change nothing', async () => {
      const created = await as<Destination>(t.app, acme, 'POST', '/destinations', {
        type: 'paylocity',
        name: 'Old',
        settings: { client_id: 'c', client_secret: SECRET, token_url: 'https://token.example.com/t' },
      })
      const path = `/destinations/${created.body.plugin_id}`
      const updated = await as<Destination>(t.app, acme, 'PATCH', path, {
        name: 'New',
        settings: { token_url: null, login_id: 'employee_id' },
      })
      assert.equal(updated.status, 200)
      assert.equal(updated.body.name, 'New')
      assert.deepEqual(updated.body.settings, {
        login_id: 'employee_id',
        client_id: 'c',
        client_secret: '********',
      })
      const before = await tenantSnapshot(t.services, acme.tenant.id)
      const cases: Array<[unknown, string]> = [
        [{}, 'Give name, settings or enabled'],
        [{ name: '' }, 'name is required (1 to 200 characters)'],
        [{ settings: { client_secret: null } }, 'client_id and client_secret must be set together'],
        [{ settings: { token_url: 'ftp://x' } }, 'Setting token_url must be an https URL of a public host'],
        [{ settings: { token_url: 5 } }, 'settings.token_url must be a string or null'],
        [{ enabled: 'no' }, 'enabled must be a boolean (true or false)'],
        [{ type: 'generic-hr' }, 'type is not a known field'],
      ]
      for (const [body, message] of cases) {
        const res = await as(t.app, acme, 'PATCH', path, body)
        assert.equal(res.status, 400, JSON.stringify(body))
        assert.deepEqual(res.body, { error: message }, JSON.stringify(body))
      }
      assert.equal(await tenantSnapshot(t.services, acme.tenant.id), before)
    })

    it('disable answers 404 on the URLs at once, enable accepts again (also by PATCH enabled)', async () => {
      const created = await as<Destination>(t.app, acme, 'POST', '/destinations', {
        type: 'generic-hr',
        name: 'HR',
      })
      const { plugin_id: pluginId, urls } = created.body
      assert.equal((await addUser(urls.adduser, 'G-1')).statusCode, 201, 'cached as enabled')
      const disabled = await as<Destination>(t.app, acme, 'POST', `/destinations/${pluginId}/disable`)
      assert.equal(disabled.status, 200)
      assert.equal(disabled.body.enabled, false)
      const refused = await addUser(urls.adduser, 'G-2')
      assert.equal(refused.statusCode, 404)
      assert.deepEqual(refused.json(), { error: 'Provisioning destination not found' })
      const enabled = await as<Destination>(t.app, acme, 'POST', `/destinations/${pluginId}/enable`)
      assert.equal(enabled.body.enabled, true)
      assert.equal((await addUser(urls.adduser, 'G-2')).statusCode, 201)
      const patched = await as<Destination>(t.app, acme, 'PATCH', `/destinations/${pluginId}`, {
        enabled: false,
      })
      assert.equal(patched.body.enabled, false)
      assert.equal((await addUser(urls.adduser, 'G-3')).statusCode, 404)
    })

    it("404 for an unknown destination and for another tenant's, which is left alone", async () => {
      const theirs = await createDestination(t.services, other.tenant, { type: 'generic-hr', name: 'Theirs' })
      const before = await tenantSnapshot(t.services, other.tenant.id)
      for (const pluginId of [theirs.plugin_id, 'nope', 'A'.repeat(32)]) {
        for (const [method, path, body] of [
          ['GET', `/destinations/${pluginId}`, undefined],
          ['PATCH', `/destinations/${pluginId}`, { name: 'Mine now' }],
          ['POST', `/destinations/${pluginId}/disable`, undefined],
          ['POST', `/destinations/${pluginId}/enable`, undefined],
        ] as const) {
          const res = await as(t.app, acme, method, path, body)
          assert.equal(res.status, 404, `${method} ${path}`)
          assert.deepEqual(res.body, { error: 'Provisioning destination not found' })
        }
      }
      assert.equal(await tenantSnapshot(t.services, other.tenant.id), before)
    })
  })
}

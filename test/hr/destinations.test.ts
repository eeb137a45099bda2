/** Provisioning destinations: plugin_id and URLs, settings validation, the secret sealed at rest, 404 after auth. */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { loadConfig } from '../../src/config.js'
import {
  createDestination,
  destinationUrls,
  getDestination,
  listDestinations,
  updateDestination,
} from '../../src/directory/destinations.js'
import { weblinkSettings } from '../../src/hr-vendors/paylocity.js'
import { createServices } from '../../src/services.js'
import { adapterContext } from '../../src/webhooks/hr-routes.js'
import { DIALECTS, postgresAvailable } from '../helpers/databases.js'
import { sleep } from '../helpers/rows.js'
import {
  type SeededTenant,
  seedTenant,
  startTestApp,
  TEST_SECRET_KEY,
  type TestApp,
} from '../helpers/test-app.js'
import { hr } from './hr-helpers.js'

const pgUp = await postgresAvailable()
const NOT_FOUND = '{"error":"Provisioning destination not found"}'
const SECRET = 'pAyL0c1ty+Secret/Value=='

describe('destinationUrls', () => {
  it('uses https://{tenant}.{base domain} by default, and OPTIMALCLOUD_PUBLIC_URL with {tenant} when set', () => {
    const base = loadConfig({}, { baseDomain: 'theoptimalcloud.com' })
    assert.deepEqual(destinationUrls(base, 'acme', 'PLUGIN'), {
      adduser: 'https://acme.theoptimalcloud.com/v5.0/mgmt/api/v1.0/webhooks/provisioning/PLUGIN/adduser',
      modifyuser:
        'https://acme.theoptimalcloud.com/v5.0/mgmt/api/v1.0/webhooks/provisioning/PLUGIN/modifyuser',
      deleteuser:
        'https://acme.theoptimalcloud.com/v5.0/mgmt/api/v1.0/webhooks/provisioning/PLUGIN/deleteuser',
    })
    const local = loadConfig({ OPTIMALCLOUD_PUBLIC_URL: 'http://{tenant}.localhost:8080/' })
    assert.equal(
      destinationUrls(local, 'acme', 'P').adduser,
      'http://acme.localhost:8080/v5.0/mgmt/api/v1.0/webhooks/provisioning/P/adduser',
    )
  })
})

for (const dialect of DIALECTS) {
  describe(`provisioning destinations (${dialect})`, {
    skip: dialect === 'postgres' && !pgUp && 'no PostgreSQL',
  }, () => {
    let t: TestApp
    let acme: SeededTenant
    let other: SeededTenant
    before(async () => {
      t = await startTestApp(dialect, { credentialRecheckMs: 200 })
      acme = await seedTenant(t.services, 'acme')
      other = await seedTenant(t.services, 'other')
    })
    after(() => t.close())

    const rowsOf = (tenantId: string) =>
      t.services.database.db
        .selectFrom('destinations')
        .selectAll()
        .where('tenant_id', '=', tenantId)
        .execute()

    it('creates a destination with an unguessable URL-safe plugin_id and its three URLs', async () => {
      const created = await createDestination(t.services, acme.tenant, {
        type: 'generic-hr',
        name: ' HR feed ',
      })
      assert.match(created.plugin_id, /^[A-Za-z0-9]{32}$/)
      assert.equal(created.name, 'HR feed')
      assert.equal(created.type, 'generic-hr')
      assert.equal(created.enabled, true)
      assert.deepEqual(created.settings, { login_id: 'email' })
      assert.equal(created.has_client_secret, false)
      assert.equal(
        created.urls.adduser,
        `http://acme.localhost:8080/v5.0/mgmt/api/v1.0/webhooks/provisioning/${created.plugin_id}/adduser`,
      )
      assert.ok(created.urls.modifyuser.endsWith(`/${created.plugin_id}/modifyuser`))
      assert.ok(created.urls.deleteuser.endsWith(`/${created.plugin_id}/deleteuser`))
      const second = await createDestination(t.services, acme.tenant, { type: 'generic-hr', name: 'HR feed' })
      assert.notEqual(second.plugin_id, created.plugin_id)
    })

    it('rejects unknown types and settings and bad values with a clear 400, storing nothing', async () => {
      const before = (await rowsOf(acme.tenant.id)).length
      const cases: Array<[Parameters<typeof createDestination>[2], RegExp]> = [
        [{ type: 'workday', name: 'x' }, /^type must be one of: generic-hr, paylocity, bamboohr$/],
        [{ type: 'generic-hr', name: '  ' }, /^name is required/],
        [
          { type: 'generic-hr', name: 'x', settings: { client_id: 'a' } },
          /^Unknown setting "client_id" for a generic-hr destination \(known: login_id, termination_limit, mode\)$/,
        ],
        [
          { type: 'paylocity', name: 'x', settings: { colour: 'red' } },
          /^Unknown setting "colour" for a paylocity destination/,
        ],
        [
          { type: 'paylocity', name: 'x', settings: { login_id: 'username' } },
          /^Setting login_id must be email or employee_id$/,
        ],
        [
          { type: 'paylocity', name: 'x', settings: { token_url: 'ftp://x.example.com/token' } },
          /^Setting token_url must be an https URL of a public host$/,
        ],
        [
          { type: 'paylocity', name: 'x', settings: { api_base_url: 'not a url' } },
          /^Setting api_base_url must be an https URL of a public host$/,
        ],
        [
          { type: 'paylocity', name: 'x', settings: { api_base_url: 'https://u:p@x.example.com' } },
          /^Setting api_base_url must not carry a user name or password$/,
        ],
        [
          { type: 'paylocity', name: 'x', settings: { client_id: 'only-id' } },
          /^client_id and client_secret must be set together$/,
        ],
        [
          { type: 'paylocity', name: 'x', settings: { client_secret: SECRET } },
          /^client_id and client_secret must be set together$/,
        ],
        [
          { type: 'paylocity', name: 'x', settings: { client_id: 7 } },
          /^Setting client_id must be a string$/,
        ],
        [
          { type: 'paylocity', name: 'x', settings: { client_id: '' } },
          /^Setting client_id must not be empty$/,
        ],
      ]
      for (const [input, message] of cases) {
        await assert.rejects(
          createDestination(t.services, acme.tenant, input),
          (error: { status?: number; message?: string }) => {
            assert.equal(error.status, 400, JSON.stringify(input))
            assert.match(error.message ?? '', message)
            assert.ok(!(error.message ?? '').includes(SECRET))
            return true
          },
        )
      }
      assert.equal((await rowsOf(acme.tenant.id)).length, before)
    })

    it('stores the Paylocity client_secret encrypted and never shows it back', async () => {
      const created = await createDestination(t.services, acme.tenant, {
        type: 'paylocity',
        name: 'Payroll',
        settings: {
          client_id: 'client-1',
          client_secret: SECRET,
          token_url: 'https://paylocity.example.com/token',
          api_base_url: 'https://paylocity.example.com',
          login_id: 'employee_id',
        },
      })
      assert.deepEqual(created.settings, {
        login_id: 'employee_id',
        client_id: 'client-1',
        client_secret: '********',
        token_url: 'https://paylocity.example.com/token',
        api_base_url: 'https://paylocity.example.com',
      })
      assert.equal(created.has_client_secret, true)
      const row = (await rowsOf(acme.tenant.id)).find((r) => r.id === created.plugin_id)
      assert.ok(row !== undefined)
      assert.ok(!row.settings.includes(SECRET), 'the raw row does not hold the secret')
      assert.match(JSON.parse(row.settings).client_secret, /^enc:v1:/)
      const listed = JSON.stringify(await listDestinations(t.services, acme.tenant))
      assert.ok(!listed.includes(SECRET))
      assert.ok(listed.includes('"has_client_secret":true'))
      assert.ok(
        !JSON.stringify(await getDestination(t.services, acme.tenant, created.plugin_id)).includes(SECRET),
      )

      const resolved = await t.services.destinations.findEnabled(acme.tenant.id, created.plugin_id)
      assert.ok(resolved !== null)
      assert.equal(resolved.loginId, 'employee_id')
      assert.deepEqual(weblinkSettings(adapterContext(t.services, resolved)), {
        clientId: 'client-1',
        clientSecret: SECRET,
        tokenUrl: 'https://paylocity.example.com/token',
        apiBaseUrl: 'https://paylocity.example.com',
      })
      // Under another key the secret cannot be read: a clear failure, not garbage sent to Paylocity.
      const wrongKey = { ...t.services.config, secretKey: () => 'another key' }
      assert.throws(
        () => weblinkSettings(adapterContext({ ...t.services, config: wrongKey }, resolved)),
        /Failed to fetch the employee from Paylocity/,
      )
    })

    it('updates: rename, replace and remove settings (client_id and client_secret go together)', async () => {
      const created = await createDestination(t.services, acme.tenant, {
        type: 'paylocity',
        name: 'P',
        settings: { client_id: 'id', client_secret: SECRET },
      })
      const renamed = await updateDestination(t.services, acme.tenant, created.plugin_id, {
        name: 'Payroll 2',
        settings: { token_url: 'https://t.example.com/token' },
      })
      assert.equal(renamed.name, 'Payroll 2')
      assert.equal(renamed.settings.client_secret, '********')
      assert.equal(renamed.settings.token_url, 'https://t.example.com/token')
      await assert.rejects(
        updateDestination(t.services, acme.tenant, created.plugin_id, { settings: { client_secret: null } }),
        /client_id and client_secret must be set together/,
      )
      const cleared = await updateDestination(t.services, acme.tenant, created.plugin_id, {
        settings: { client_id: '', client_secret: null },
      })
      assert.equal(cleared.has_client_secret, false)
      assert.deepEqual(cleared.settings, { login_id: 'email', token_url: 'https://t.example.com/token' })
      await assert.rejects(
        updateDestination(t.services, other.tenant, created.plugin_id, { name: 'stolen' }),
        /Provisioning destination not found/,
      )
    })

    it("404 for an unknown, malformed, disabled or other tenant's plugin_id, after authentication", async () => {
      const mine = await createDestination(t.services, acme.tenant, { type: 'generic-hr', name: 'mine' })
      const theirs = await createDestination(t.services, other.tenant, { type: 'generic-hr', name: 'theirs' })
      const body = { employee_id: 'D1', first_name: 'A', last_name: 'B', email: 'd1@acme.example.com' }
      for (const pluginId of [
        'A'.repeat(32),
        'short',
        'A'.repeat(65),
        'bad-chars_!',
        theirs.plugin_id,
        mine.plugin_id.toLowerCase(),
      ]) {
        for (const operation of ['adduser', 'modifyuser', 'deleteuser'] as const) {
          const res = await hr(t.app, acme, pluginId, operation, body)
          assert.equal(res.statusCode, 404, `${pluginId} ${operation}: ${res.body}`)
          assert.equal(res.body, NOT_FOUND)
        }
      }
      // 404 comes before the body is looked at.
      const badBody = await hr(t.app, acme, 'A'.repeat(32), 'adduser', undefined, { raw: '[' })
      assert.equal(badBody.body, NOT_FOUND)
      // Authentication comes first: bad credentials on an unknown plugin_id are 401, not 404.
      for (const pluginId of ['A'.repeat(32), mine.plugin_id, theirs.plugin_id]) {
        const res = await hr(t.app, acme, pluginId, 'adduser', body, { auth: 'Bearer nope' })
        assert.equal(res.statusCode, 401)
        assert.equal(res.body, '{"error":"ERROR"}')
      }
      const unknownTenant = await hr(t.app, acme, mine.plugin_id, 'adduser', body, {
        host: 'nosuch.localhost',
      })
      assert.equal(unknownTenant.statusCode, 401)

      const failed = await t.services.database.db
        .selectFrom('deliveries')
        .selectAll()
        .where('tenant_id', '=', acme.tenant.id)
        .where('status_code', '=', 404)
        .execute()
      assert.ok(failed.length > 0, 'a 404 is in the delivery log')
      assert.equal(failed[0]?.error, 'Provisioning destination not found')
    })

    it('a disabled destination answers 404 at once here, within the cache time elsewhere, and works again when enabled', async () => {
      const created = await createDestination(t.services, acme.tenant, { type: 'generic-hr', name: 'toggle' })
      const body = () => ({
        employee_id: `TG${Date.now()}${Math.random()}`,
        first_name: 'A',
        last_name: 'B',
        email: `tg${Date.now()}${Math.floor(Math.random() * 1e6)}@acme.example.com`,
      })
      assert.equal((await hr(t.app, acme, created.plugin_id, 'adduser', body())).statusCode, 201)

      await updateDestination(t.services, acme.tenant, created.plugin_id, { enabled: false })
      const off = await hr(t.app, acme, created.plugin_id, 'adduser', body())
      assert.equal(off.statusCode, 404)
      assert.equal(off.body, NOT_FOUND)
      assert.equal(
        (await listDestinations(t.services, acme.tenant)).find((d) => d.plugin_id === created.plugin_id)
          ?.enabled,
        false,
      )

      await updateDestination(t.services, acme.tenant, created.plugin_id, { enabled: true })
      assert.equal((await hr(t.app, acme, created.plugin_id, 'adduser', body())).statusCode, 201)

      // Another process (the CLI) disables it: this one notices within its cache time.
      const elsewhere = createServices(
        loadConfig({}, { databaseUrl: t.testDb.url, secretKey: () => TEST_SECRET_KEY }),
        t.services.database,
      )
      await updateDestination(elsewhere, acme.tenant, created.plugin_id, { enabled: false })
      await sleep(250)
      assert.equal((await hr(t.app, acme, created.plugin_id, 'adduser', body())).statusCode, 404)
    })
  })
}

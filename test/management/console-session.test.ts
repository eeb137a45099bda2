/** Management API with a console session: the cookie signs an administrator in, writes need its CSRF token. */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { addAdmin, postForm, signIn } from '../console/console-helpers.js'
import { DIALECTS, postgresAvailable } from '../helpers/databases.js'
import { countRows } from '../helpers/rows.js'
import { type SeededTenant, seedTenant, startTestApp, type TestApp } from '../helpers/test-app.js'

const API = '/v5.0/mgmt/api/v1.0'
const pgUp = await postgresAvailable()

for (const dialect of DIALECTS) {
  describe(`management API: console session (${dialect})`, {
    skip: dialect === 'postgres' && !pgUp && 'no PostgreSQL',
  }, () => {
    let t: TestApp
    let acme: SeededTenant
    let other: SeededTenant
    let session: { cookie: string; csrf: string }
    before(async () => {
      t = await startTestApp(dialect)
      acme = await seedTenant(t.services, 'acme')
      other = await seedTenant(t.services, 'other')
      const admin = await addAdmin(t.services, acme.tenant)
      session = await signIn(t.app, acme.host, admin.email)
    })
    after(() => t.close())

    const call = (
      method: 'GET' | 'POST',
      path: string,
      host: string,
      headers: Record<string, string>,
      body?: unknown,
    ) =>
      t.app.inject({
        method,
        url: `${API}${path}`,
        headers: { host, 'content-type': 'application/json', ...headers },
        ...(body === undefined ? {} : { payload: JSON.stringify(body) }),
      })

    it('reads with the session cookie alone', async () => {
      const keys = await call('GET', '/apikeys', acme.host, { cookie: session.cookie })
      assert.equal(keys.statusCode, 200, keys.body)
      assert.ok(Array.isArray(keys.json()))
    })

    it('writes only with the CSRF token of the session, from the same origin', async () => {
      const before = await t.services.database.db.selectFrom('api_keys').select('id').execute()
      const noToken = await call('POST', '/apikeys', acme.host, { cookie: session.cookie }, { name: 'x' })
      assert.equal(noToken.statusCode, 403, noToken.body)
      const wrongToken = await call(
        'POST',
        '/apikeys',
        acme.host,
        { cookie: session.cookie, 'x-csrf-token': 'not-the-token' },
        { name: 'x' },
      )
      assert.equal(wrongToken.statusCode, 403)
      const otherSite = await call(
        'POST',
        '/apikeys',
        acme.host,
        { cookie: session.cookie, 'x-csrf-token': session.csrf, origin: 'https://evil.example.com' },
        { name: 'x' },
      )
      assert.equal(otherSite.statusCode, 403)
      const after = await t.services.database.db.selectFrom('api_keys').select('id').execute()
      assert.equal(after.length, before.length, 'nothing was created')

      const created = await call(
        'POST',
        '/apikeys',
        acme.host,
        { cookie: session.cookie, 'x-csrf-token': session.csrf },
        { name: 'from the console', management: true },
      )
      assert.equal(created.statusCode, 201, created.body)
      assert.match((created.json() as { key: string }).key, /^oc_/)
    })

    it("is refused on another tenant's host, after sign-out, and when Authorization is sent too", async () => {
      const elsewhere = await call('GET', '/apikeys', other.host, { cookie: session.cookie })
      assert.equal(elsewhere.statusCode, 401)
      assert.equal(elsewhere.body, '{"error":"ERROR"}')
      const forged = await call('GET', '/apikeys', acme.host, { cookie: `oc_session=${'A'.repeat(43)}` })
      assert.equal(forged.statusCode, 401)
      assert.equal(forged.body, '{"error":"ERROR"}')
      // A bad key is not rescued by a good cookie: the header is what the caller chose to be checked.
      const badKey = await call('GET', '/apikeys', acme.host, {
        cookie: session.cookie,
        authorization: 'Bearer nope',
      })
      assert.equal(badKey.statusCode, 401)

      const admin = await addAdmin(t.services, acme.tenant, 'second@acme.example.com')
      const second = await signIn(t.app, acme.host, admin.email)
      assert.equal((await call('GET', '/users', acme.host, { cookie: second.cookie })).statusCode, 200)
      const out = await postForm(t.app, '/console/logout', {
        host: acme.host,
        cookie: second.cookie,
        fields: { _csrf: second.csrf },
      })
      assert.equal(out.statusCode, 303)
      const signedOut = await call('GET', '/users', acme.host, { cookie: second.cookie })
      assert.equal(signedOut.statusCode, 401)
      assert.equal(await countRows(t.services.database.db, 'tickets', acme.tenant.id), 0)
    })
  })
}

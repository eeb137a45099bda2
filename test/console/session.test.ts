/** Console sign-in, sessions bound to their tenant, sign-out, CSRF and Origin checks, on both dialects. */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { SIGN_IN_FAILED, TOO_MANY_ATTEMPTS } from '../../src/console/login-page.js'
import { createUser, setUserStatus } from '../../src/directory/users.js'
import { sha256 } from '../../src/ids.js'
import type { Dialect } from '../../src/storage/database.js'
import { DIALECTS, postgresAvailable } from '../helpers/databases.js'
import { post, type SeededTenant, seedTenant, startTestApp, type TestApp } from '../helpers/test-app.js'
import { ADMIN_PASSWORD, addAdmin, getPage, postForm, sessionCookie, signIn } from './console-helpers.js'

const escapedFailure = SIGN_IN_FAILED.replaceAll("'", '&#39;')

function suite(dialect: Dialect) {
  let t: TestApp
  let acme: SeededTenant
  let globex: SeededTenant
  let admin: { email: string; id: string }

  before(async () => {
    t = await startTestApp(dialect, { authFailuresPerMinute: 5 })
    acme = await seedTenant(t.services, 'acme')
    globex = await seedTenant(t.services, 'globex')
    admin = await addAdmin(t.services, acme.tenant)
  })
  after(() => t.close())

  it('shows the sign-in form, also on an unknown tenant', async () => {
    for (const host of ['acme.localhost', 'nosuch.localhost']) {
      const page = await getPage(t.app, '/console/login', host)
      assert.equal(page.statusCode, 200)
      assert.match(page.headers['content-type'] as string, /^text\/html/)
      assert.match(page.body, /<form class="stack" method="post" action="\/console\/login">/)
      assert.equal(page.headers['x-frame-options'], 'DENY')
    }
  })

  it('signs an administrator in with a tenant-scoped HttpOnly SameSite=Strict cookie stored as SHA-256', async () => {
    const response = await postForm(t.app, '/console/login', {
      host: 'acme.localhost',
      fields: { email: admin.email.toUpperCase(), password: ADMIN_PASSWORD },
    })
    assert.equal(response.statusCode, 303)
    assert.equal(response.headers.location, '/console/administration')
    const setCookie = String(response.headers['set-cookie'])
    assert.match(setCookie, /HttpOnly/)
    assert.match(setCookie, /SameSite=Strict/)
    // The whole site: the Management API accepts the session too (with its CSRF token).
    assert.match(setCookie, /Path=\/(;|$)/)
    assert.doesNotMatch(setCookie, /Secure/)
    const token = sessionCookie(response.headers['set-cookie']).slice('oc_session='.length)
    assert.match(token, /^[A-Za-z0-9]{43}$/)
    const rows = await t.services.database.db.selectFrom('sessions').selectAll().execute()
    assert.ok(rows.some((r) => r.id_hash === sha256(token) && r.tenant_id === acme.tenant.id))
    assert.ok(rows.every((r) => r.id_hash !== token))
    const row = rows.find((r) => r.id_hash === sha256(token))
    assert.ok(row !== undefined)
    const hours = (Date.parse(row.expires_at) - Date.parse(row.created_at)) / 3_600_000
    assert.equal(Math.round(hours), 12)
    const page = await getPage(
      t.app,
      '/console/administration/api-keys',
      'acme.localhost',
      `oc_session=${token}`,
    )
    assert.equal(page.statusCode, 200)
    assert.match(page.body, /API Key Manager/)
    assert.match(page.body, /admin@acme\.example\.com/)
  })

  it('answers every failed sign-in the same way: wrong password, unknown email, unknown tenant, not an admin, disabled', async () => {
    const svcEmail = acme.serviceEmail
    const disabled = await createUser(t.services.database, acme.tenant.id, {
      email: 'gone@acme.example.com',
      admin: true,
      password: ADMIN_PASSWORD,
    })
    await setUserStatus(t.services.database, acme.tenant.id, disabled.id, 'disabled')
    const cases: Array<[string, string, string]> = [
      ['acme.localhost', admin.email, 'wrong password 123'],
      ['acme.localhost', 'nobody@acme.example.com', ADMIN_PASSWORD],
      ['nosuch.localhost', admin.email, ADMIN_PASSWORD],
      ['globex.localhost', admin.email, ADMIN_PASSWORD],
      ['acme.localhost', svcEmail, 'correct horse battery staple'],
      ['acme.localhost', 'gone@acme.example.com', ADMIN_PASSWORD],
      ['acme.localhost', '', ''],
    ]
    const bodies = new Set<string>()
    for (const [i, [host, email, password]] of cases.entries()) {
      const response = await postForm(t.app, '/console/login', {
        host,
        fields: { email, password },
        remoteAddress: `10.0.1.${i}`,
      })
      assert.equal(response.statusCode, 401, `${host} ${email}`)
      assert.equal(response.headers['set-cookie'], undefined)
      assert.ok(response.body.includes(escapedFailure))
      // The form keeps the typed email; apart from that every answer is the same bytes.
      bodies.add(response.body.replace(/name="email" value="[^"]*"/, ''))
    }
    assert.equal(bodies.size, 1)
  })

  it('answers 429 once an address has failed too often, even with the right password', async () => {
    const remoteAddress = '10.0.2.1'
    // Five failures (this suite's limit) change nothing; the sixth attempt finds no slot left.
    for (let i = 0; i < 6; i++) {
      const r = await postForm(t.app, '/console/login', {
        host: 'acme.localhost',
        fields: { email: admin.email, password: 'nope nope nope' },
        remoteAddress,
      })
      assert.equal(r.statusCode, i < 5 ? 401 : 429)
    }
    const blocked = await postForm(t.app, '/console/login', {
      host: 'acme.localhost',
      fields: { email: admin.email, password: ADMIN_PASSWORD },
      remoteAddress,
    })
    assert.equal(blocked.statusCode, 429)
    assert.ok(blocked.body.includes(TOO_MANY_ATTEMPTS))
    assert.equal(blocked.headers['set-cookie'], undefined)
  })

  it('redirects to sign-in without a session, and refuses a session on another tenant’s host', async () => {
    const none = await getPage(t.app, '/console/users', 'acme.localhost')
    assert.equal(none.statusCode, 303)
    assert.equal(none.headers.location, '/console/login')
    const { cookie } = await signIn(t.app, 'acme.localhost', admin.email)
    const elsewhere = await getPage(t.app, '/console/users', 'globex.localhost', cookie)
    assert.equal(elsewhere.statusCode, 303)
    assert.equal(elsewhere.headers.location, '/console/login')
    const garbage = await getPage(t.app, '/console/users', 'acme.localhost', 'oc_session=not-a-token')
    assert.equal(garbage.statusCode, 303)
    assert.equal((await getPage(t.app, '/console/users', 'acme.localhost', cookie)).statusCode, 200)
    void globex
  })

  it('refuses a POST without the CSRF token or from another origin, and changes nothing', async () => {
    const { cookie, csrf } = await signIn(t.app, 'acme.localhost', admin.email)
    const count = async () =>
      (
        await t.services.database.db
          .selectFrom('api_keys')
          .select('id')
          .where('tenant_id', '=', acme.tenant.id)
          .execute()
      ).length
    const before = await count()
    const missing = await postForm(t.app, '/console/administration/api-keys', {
      host: 'acme.localhost',
      cookie,
      fields: { name: 'x', management: '1' },
    })
    assert.equal(missing.statusCode, 403)
    const wrong = await postForm(t.app, '/console/administration/api-keys', {
      host: 'acme.localhost',
      cookie,
      fields: { _csrf: `${csrf.slice(0, -2)}xx`, name: 'x' },
    })
    assert.equal(wrong.statusCode, 403)
    const crossSite = await postForm(t.app, '/console/administration/api-keys', {
      host: 'acme.localhost',
      cookie,
      fields: { _csrf: csrf, name: 'x' },
      headers: { origin: 'http://evil.example.com' },
    })
    assert.equal(crossSite.statusCode, 403)
    const noSession = await postForm(t.app, '/console/administration/api-keys', {
      host: 'acme.localhost',
      fields: { _csrf: csrf, name: 'x' },
    })
    assert.equal(noSession.statusCode, 303)
    assert.equal(await count(), before)
    const sameOrigin = await postForm(t.app, '/console/administration/api-keys', {
      host: 'acme.localhost',
      cookie,
      fields: { _csrf: csrf, name: 'x' },
      headers: { origin: 'http://acme.localhost' },
    })
    assert.equal(sameOrigin.statusCode, 200)
    assert.equal(await count(), before + 1)
  })

  it('signs out: the session row is deleted and the cookie stops working', async () => {
    const { cookie, csrf } = await signIn(t.app, 'acme.localhost', admin.email)
    const noCsrf = await postForm(t.app, '/console/logout', { host: 'acme.localhost', cookie })
    assert.equal(noCsrf.statusCode, 403)
    const out = await postForm(t.app, '/console/logout', {
      host: 'acme.localhost',
      cookie,
      fields: { _csrf: csrf },
    })
    assert.equal(out.statusCode, 303)
    assert.equal(out.headers.location, '/console/login')
    assert.match(String(out.headers['set-cookie']), /oc_session=;/)
    const token = cookie.slice('oc_session='.length)
    const row = await t.services.database.db
      .selectFrom('sessions')
      .select('id_hash')
      .where('id_hash', '=', sha256(token))
      .executeTakeFirst()
    assert.equal(row, undefined)
    assert.equal((await getPage(t.app, '/console/users', 'acme.localhost', cookie)).statusCode, 303)
  })

  it('signs out an administrator who is disabled or no longer an administrator', async () => {
    const other = await createUser(t.services.database, acme.tenant.id, {
      email: 'second@acme.example.com',
      admin: true,
      password: ADMIN_PASSWORD,
    })
    const { cookie } = await signIn(t.app, 'acme.localhost', other.email)
    await setUserStatus(t.services.database, acme.tenant.id, other.id, 'disabled')
    assert.equal((await getPage(t.app, '/console/users', 'acme.localhost', cookie)).statusCode, 303)
    await setUserStatus(t.services.database, acme.tenant.id, other.id, 'active')
    // The session was ended, not just refused: re-enabling the account does not bring it back.
    assert.equal((await getPage(t.app, '/console/users', 'acme.localhost', cookie)).statusCode, 303)
  })

  it('leaves the webhooks reading every body as JSON', async () => {
    const response = await post(t.app, '/v5.0/mgmt/api/v1.0/webhooks/helpdesk/createticket', {
      host: 'acme.localhost',
      auth: `Bearer ${acme.key}`,
      raw: 'title=a&description=b',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    })
    assert.equal(response.statusCode, 400)
    assert.deepEqual(response.json(), { error: 'Request body must be a JSON object' })
  })
}

for (const dialect of DIALECTS) {
  describe(
    `console sessions (${dialect})`,
    { skip: dialect === 'postgres' && !(await postgresAvailable()) },
    () => suite(dialect),
  )
}

describe('console cookie over https', () => {
  it('is Secure when the request came over https', async () => {
    const t = await startTestApp('sqlite', { trustProxy: 1 })
    try {
      const acme = await seedTenant(t.services, 'acme')
      const admin = await addAdmin(t.services, acme.tenant)
      const response = await postForm(t.app, '/console/login', {
        host: 'acme.localhost',
        fields: { email: admin.email, password: ADMIN_PASSWORD },
        headers: { 'x-forwarded-proto': 'https' },
      })
      assert.equal(response.statusCode, 303)
      assert.match(String(response.headers['set-cookie']), /Secure/)
    } finally {
      await t.close()
    }
  })
})

describe('console logs', () => {
  it('never write the password, the session token or a new API key', async () => {
    const { buildApp } = await import('../../src/app.js')
    const t = await startTestApp('sqlite')
    const lines: string[] = []
    const app = await buildApp(t.services, {
      logger: { level: 'trace', stream: { write: (line: string) => lines.push(line) } },
    })
    try {
      const acme = await seedTenant(t.services, 'acme')
      const admin = await addAdmin(t.services, acme.tenant)
      await postForm(app, '/console/login', {
        host: 'acme.localhost',
        fields: { email: admin.email, password: 'a wrong password' },
      })
      const { cookie, csrf } = await signIn(app, 'acme.localhost', admin.email)
      const created = await postForm(app, '/console/administration/api-keys', {
        host: 'acme.localhost',
        cookie,
        fields: { _csrf: csrf, name: 'logged', management: '1' },
      })
      const key = /data-secret="api-key">([^<]+)</.exec(created.body)?.[1] ?? 'missing'
      const log = lines.join('')
      assert.match(log, /console\/administration\/api-keys/, 'requests are logged')
      for (const secret of [
        ADMIN_PASSWORD,
        'a wrong password',
        cookie.slice('oc_session='.length),
        csrf,
        key,
      ]) {
        assert.ok(!log.includes(secret), 'a secret reached the log')
      }
    } finally {
      await app.close()
      await t.close()
    }
  })
})

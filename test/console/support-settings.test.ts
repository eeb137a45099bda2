/** Support → Support system in the console: built-in or Zendesk, the token written but never shown back. */
import assert from 'node:assert/strict'
import { before, it } from 'node:test'
import { onEachDatabase } from '../helpers/suite.js'
import { addAdmin, getPage, postForm, signIn } from './console-helpers.js'

const TOKEN = 'zendesk-token-CANARY-7f3a'
const PAGE = '/console/support/settings'

onEachDatabase('console: support system settings', (s) => {
  let session: { cookie: string; csrf: string }
  let otherSession: { cookie: string; csrf: string }

  before(async () => {
    const admin = await addAdmin(s.services, s.acme.tenant)
    session = await signIn(s.app, s.acme.host, admin.email)
    const otherAdmin = await addAdmin(s.services, s.other.tenant)
    otherSession = await signIn(s.app, s.other.host, otherAdmin.email)
  })

  const stored = async (tenant = s.acme.tenant.id) =>
    s.db
      .selectFrom('tenants')
      .select(['support_backend', 'support_settings'])
      .where('id', '=', tenant)
      .executeTakeFirstOrThrow()

  const save = (fields: Record<string, string>, who = session, host = s.acme.host) =>
    postForm(s.app, PAGE, { host, cookie: who.cookie, fields: { _csrf: who.csrf, ...fields } })

  it('shows the built-in system at first, linked from the Support tab', async () => {
    const support = await getPage(s.app, '/console/support', s.acme.host, session.cookie)
    assert.ok(support.body.includes(`href="${PAGE}"`))
    const page = await getPage(s.app, PAGE, s.acme.host, session.cookie)
    assert.equal(page.statusCode, 200)
    assert.match(page.body, /data-support-backend="builtin"/)
  })

  it('refuses Zendesk without a token, and a bad URL, changing nothing', async () => {
    const noToken = await save({
      backend: 'zendesk',
      url: 'https://acme.zendesk.com',
      email: 'agent@acme.example.com',
    })
    assert.equal(noToken.statusCode, 400)
    assert.match(noToken.body, /api_token/)
    const badUrl = await save({
      backend: 'zendesk',
      url: 'http://10.0.0.1',
      email: 'a@acme.example.com',
      api_token: TOKEN,
    })
    assert.equal(badUrl.statusCode, 400)
    assert.ok(!badUrl.body.includes(TOKEN), 'the token is not written back into the form')
    assert.equal((await stored()).support_backend, 'builtin')
  })

  it('switches to Zendesk, never shows the token, keeps it when the box is left empty', async () => {
    const saved = await save({
      backend: 'zendesk',
      url: 'https://acme.zendesk.com',
      email: 'agent@acme.example.com',
      api_token: TOKEN,
    })
    assert.equal(saved.statusCode, 200, saved.body)
    assert.match(saved.body, /Tickets now go to Zendesk/)
    assert.ok(!saved.body.includes(TOKEN))
    const row = await stored()
    assert.equal(row.support_backend, 'zendesk')
    assert.ok(!row.support_settings.includes(TOKEN), 'the token is sealed at rest')
    const page = await getPage(s.app, PAGE, s.acme.host, session.cookie)
    assert.match(page.body, /data-support-backend="zendesk"/)
    assert.match(page.body, /set \(leave empty to keep it\)/)
    assert.ok(!page.body.includes(TOKEN))

    const renamed = await save({
      backend: 'zendesk',
      url: 'https://acme.zendesk.com',
      email: 'lead@acme.example.com',
    })
    assert.equal(renamed.statusCode, 200, renamed.body)
    const after = await stored()
    assert.match(after.support_settings, /lead@acme\.example\.com/)
    assert.match(after.support_settings, /api_token/, 'the stored token was kept')
  })

  it('goes back to the built-in system, forgetting the Zendesk settings', async () => {
    const back = await save({ backend: 'builtin' })
    assert.equal(back.statusCode, 200)
    assert.deepEqual(await stored(), { support_backend: 'builtin', support_settings: '{}' })
  })

  it('refuses no session, a missing CSRF token, and another tenant’s session; changes nothing', async () => {
    const none = await postForm(s.app, PAGE, { host: s.acme.host, fields: { backend: 'zendesk' } })
    assert.equal(none.statusCode, 303)
    assert.equal((await getPage(s.app, PAGE, s.acme.host)).statusCode, 303)
    const noCsrf = await postForm(s.app, PAGE, {
      host: s.acme.host,
      cookie: session.cookie,
      fields: { backend: 'zendesk' },
    })
    assert.equal(noCsrf.statusCode, 403)
    const wrongTenant = await save(
      { backend: 'zendesk', url: 'https://acme.zendesk.com', email: 'x@acme.example.com', api_token: TOKEN },
      otherSession,
      s.acme.host,
    )
    assert.equal(wrongTenant.statusCode, 303)
    assert.equal((await stored()).support_backend, 'builtin')
    assert.equal((await stored(s.other.tenant.id)).support_backend, 'builtin')
  })
})

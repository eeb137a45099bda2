/** Identity Management → Reset password: for service accounts and administrators, in the console. */
import assert from 'node:assert/strict'
import { before, it } from 'node:test'
import { createUser } from '../../src/directory/users.js'
import { onEachDatabase } from '../helpers/suite.js'
import { post, SERVICE_PASSWORD, TICKETS } from '../helpers/test-app.js'
import { addAdmin, getPage, postForm, signIn } from './console-helpers.js'

const NEW_PASSWORD = 'a brand new service password'

onEachDatabase('console: reset a password', (s) => {
  let session: { cookie: string; csrf: string }
  let serviceId: string

  before(async () => {
    const admin = await addAdmin(s.services, s.acme.tenant)
    session = await signIn(s.app, s.acme.host, admin.email)
    const service = await s.db
      .selectFrom('users')
      .select('id')
      .where('tenant_id', '=', s.acme.tenant.id)
      .where('email', '=', s.acme.serviceEmail)
      .executeTakeFirstOrThrow()
    serviceId = service.id
  })

  const basic = (password: string) =>
    `Basic ${Buffer.from(`${s.acme.serviceEmail}:${password}`).toString('base64')}`
  const ticketWith = async (password: string) =>
    (
      await post(s.app, `${TICKETS}/createticket`, {
        host: s.acme.host,
        auth: basic(password),
        body: { title: 'T', description: 'D', requester_email: s.acme.requester },
      })
    ).statusCode
  const reset = (id: string, password: string, again = password, who = session) =>
    postForm(s.app, `/console/users/${id}/password`, {
      host: s.acme.host,
      cookie: who.cookie,
      fields: { _csrf: who.csrf, password, password_again: again },
    })

  it('links Reset password for service accounts, not for ordinary users', async () => {
    await createUser(s.services.database, s.acme.tenant.id, { email: 'plain@acme.example.com' })
    const page = await getPage(s.app, '/console/users', s.acme.host, session.cookie)
    assert.ok(page.body.includes(`href="/console/users/${serviceId}/password"`))
    assert.ok(!page.body.includes('data-reset-password="plain@acme.example.com"'))
    const form = await getPage(s.app, `/console/users/${serviceId}/password`, s.acme.host, session.cookie)
    assert.equal(form.statusCode, 200)
    assert.match(form.body, /name="password"/)
  })

  it('refuses two different passwords and a short one; the old password still works', async () => {
    assert.equal((await reset(serviceId, NEW_PASSWORD, `${NEW_PASSWORD}x`)).statusCode, 400)
    const short = await reset(serviceId, 'short')
    assert.equal(short.statusCode, 400)
    assert.match(short.body, /at least 8 characters/)
    assert.equal(await ticketWith(SERVICE_PASSWORD), 201)
  })

  it('sets the new password: the old one is refused at once, the new one signs in', async () => {
    const done = await reset(serviceId, NEW_PASSWORD)
    assert.equal(done.statusCode, 200)
    assert.match(done.body, /New password set for svc@acme\.example\.com/)
    assert.ok(!done.body.includes(NEW_PASSWORD))
    assert.equal(await ticketWith(SERVICE_PASSWORD), 401)
    assert.equal(await ticketWith(NEW_PASSWORD), 201)
  })

  it('answers 400 for a user without a password, 404 for an unknown or another tenant’s user', async () => {
    const plain = await createUser(s.services.database, s.acme.tenant.id, {
      email: 'nopass@acme.example.com',
    })
    assert.equal((await reset(plain.id, NEW_PASSWORD)).statusCode, 400)
    assert.equal((await reset('usr_nosuchuser', NEW_PASSWORD)).statusCode, 404)
    const theirs = await createUser(s.services.database, s.other.tenant.id, {
      email: 'svc2@other.example.com',
      serviceAccount: true,
      password: SERVICE_PASSWORD,
    })
    assert.equal((await reset(theirs.id, NEW_PASSWORD)).statusCode, 404)
    const page = await getPage(s.app, `/console/users/${theirs.id}/password`, s.acme.host, session.cookie)
    assert.equal(page.statusCode, 404)
  })

  it('refuses no session and a missing CSRF token, changing nothing', async () => {
    const none = await postForm(s.app, `/console/users/${serviceId}/password`, {
      host: s.acme.host,
      fields: { password: 'x'.repeat(12), password_again: 'x'.repeat(12) },
    })
    assert.equal(none.statusCode, 303)
    const noCsrf = await postForm(s.app, `/console/users/${serviceId}/password`, {
      host: s.acme.host,
      cookie: session.cookie,
      fields: { password: 'y'.repeat(12), password_again: 'y'.repeat(12) },
    })
    assert.equal(noCsrf.statusCode, 403)
    assert.equal(await ticketWith(NEW_PASSWORD), 201)
  })
})

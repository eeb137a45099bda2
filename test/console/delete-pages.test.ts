/** Deleting in the console: a confirmation page first, then only what is out of use goes. */
import assert from 'node:assert/strict'
import { before, it } from 'node:test'
import { createApiKey, revokeApiKey } from '../../src/auth/api-keys.js'
import { createDestination, updateDestination } from '../../src/directory/destinations.js'
import { changeUserStatus } from '../../src/directory/user-status.js'
import { createUser } from '../../src/directory/users.js'
import { onEachDatabase } from '../helpers/suite.js'
import { SERVICE_PASSWORD } from '../helpers/test-app.js'
import { addAdmin, getPage, postForm, signIn } from './console-helpers.js'

onEachDatabase('console: delete with confirmation', (s) => {
  let session: { cookie: string; csrf: string }

  before(async () => {
    const admin = await addAdmin(s.services, s.acme.tenant)
    session = await signIn(s.app, s.acme.host, admin.email)
  })

  const confirm = (path: string) => getPage(s.app, path, s.acme.host, session.cookie)
  const submit = (path: string, csrf = session.csrf) =>
    postForm(s.app, path, { host: s.acme.host, cookie: session.cookie, fields: { _csrf: csrf } })
  const exists = async (table: 'api_keys' | 'destinations' | 'users', id: string) =>
    (await s.db.selectFrom(table).select('id').where('id', '=', id).executeTakeFirst()) !== undefined

  it('API key: Delete only for a revoked key, after a confirmation page', async () => {
    const live = await createApiKey(s.services.database, s.acme.tenant.id, {
      name: 'live-key',
      management: true,
      expiresInMs: null,
    })
    const old = await createApiKey(s.services.database, s.acme.tenant.id, {
      name: 'old-key',
      management: false,
      expiresInMs: null,
    })
    await revokeApiKey(s.services.database, s.acme.tenant.id, old.id)
    const list = await getPage(s.app, '/console/administration/api-keys', s.acme.host, session.cookie)
    assert.ok(list.body.includes(`/console/administration/api-keys/${old.id}/delete`))
    assert.ok(!list.body.includes(`/console/administration/api-keys/${live.id}/delete`))

    const path = `/console/administration/api-keys/${old.id}/delete`
    const page = await confirm(path)
    assert.equal(page.statusCode, 200)
    assert.match(page.body, /Delete API key old-key\?[\s\S]*cannot be undone/)
    assert.ok(await exists('api_keys', old.id), 'showing the confirmation deletes nothing')

    const refused = await submit(`/console/administration/api-keys/${live.id}/delete`)
    assert.equal(refused.statusCode, 400)
    assert.match(refused.body, /Revoke the API key before deleting it/)
    assert.ok(await exists('api_keys', live.id))

    const done = await submit(path)
    assert.equal(done.statusCode, 200)
    assert.match(done.body, /Deleted API key old-key/)
    assert.ok(!(await exists('api_keys', old.id)))
    assert.equal((await confirm(path)).statusCode, 404)
  })

  it('destination: Delete once disabled and without users', async () => {
    const destination = await createDestination(s.services, s.acme.tenant, {
      type: 'generic-hr',
      name: 'Old HR',
    })
    const base = `/console/administration/provisioning/${destination.plugin_id}`
    assert.ok(!(await confirm(base)).body.includes(`${base}/delete`), 'no Delete while enabled')
    const refused = await submit(`${base}/delete`)
    assert.equal(refused.statusCode, 400)
    assert.match(refused.body, /Disable the destination before deleting it/)
    await updateDestination(s.services, s.acme.tenant, destination.plugin_id, { enabled: false })
    assert.ok((await confirm(base)).body.includes(`${base}/delete`))
    assert.match((await confirm(`${base}/delete`)).body, /Delete destination Old HR\?/)
    const done = await submit(`${base}/delete`)
    assert.equal(done.statusCode, 200)
    assert.ok(!(await exists('destinations', destination.plugin_id)))
  })

  it('service account: Delete once disabled; never another kind of user', async () => {
    const account = await createUser(s.services.database, s.acme.tenant.id, {
      email: 'retired@acme.example.com',
      serviceAccount: true,
      password: SERVICE_PASSWORD,
    })
    const path = `/console/users/${account.id}/delete`
    assert.equal((await submit(path)).statusCode, 400)
    await changeUserStatus(s.services, s.acme.tenant.id, account.id, 'disable', { actor: 'test' })
    const users = await getPage(s.app, '/console/users', s.acme.host, session.cookie)
    assert.ok(users.body.includes(path))
    assert.match((await confirm(path)).body, /Delete service account retired@acme\.example\.com\?/)
    assert.equal((await submit(path)).statusCode, 200)
    assert.ok(!(await exists('users', account.id)))

    const person = await createUser(s.services.database, s.acme.tenant.id, {
      email: 'person@acme.example.com',
    })
    await changeUserStatus(s.services, s.acme.tenant.id, person.id, 'disable', { actor: 'test' })
    const refused = await submit(`/console/users/${person.id}/delete`)
    assert.equal(refused.statusCode, 400)
    assert.ok(await exists('users', person.id))
  })

  it("refuses another tenant's things (404), no session, and a missing CSRF token; deletes nothing", async () => {
    const theirs = await createApiKey(s.services.database, s.other.tenant.id, {
      name: 'theirs',
      management: false,
      expiresInMs: null,
    })
    await revokeApiKey(s.services.database, s.other.tenant.id, theirs.id)
    const path = `/console/administration/api-keys/${theirs.id}/delete`
    assert.equal((await confirm(path)).statusCode, 404)
    assert.equal((await submit(path)).statusCode, 404)
    const mine = await createApiKey(s.services.database, s.acme.tenant.id, {
      name: 'mine',
      management: false,
      expiresInMs: null,
    })
    await revokeApiKey(s.services.database, s.acme.tenant.id, mine.id)
    const minePath = `/console/administration/api-keys/${mine.id}/delete`
    const none = await postForm(s.app, minePath, { host: s.acme.host, fields: {} })
    assert.equal(none.statusCode, 303)
    assert.equal((await submit(minePath, 'not-the-token')).statusCode, 403)
    assert.ok(await exists('api_keys', theirs.id))
    assert.ok(await exists('api_keys', mine.id))
  })
})

/** Deleting over the Management API: only what is out of use (a disabled destination without users, a disabled service account). */
import assert from 'node:assert/strict'
import { it } from 'node:test'
import { createDestination, updateDestination } from '../../src/directory/destinations.js'
import { changeUserStatus } from '../../src/directory/user-status.js'
import { createUser } from '../../src/directory/users.js'
import { as, mgmt } from '../helpers/management-routes.js'
import { onEachDatabase } from '../helpers/suite.js'
import { post, SERVICE_PASSWORD } from '../helpers/test-app.js'

const HR = '/v5.0/mgmt/api/v1.0/webhooks/provisioning'

onEachDatabase('management API: deletions', (s) => {
  const count = async (table: 'destinations' | 'users') =>
    (await s.db.selectFrom(table).select('id').where('tenant_id', '=', s.acme.tenant.id).execute()).length

  it('deletes a disabled destination without users; refuses an enabled one and one with users', async () => {
    const destination = await createDestination(s.services, s.acme.tenant, { type: 'generic-hr', name: 'HR' })
    const path = `/destinations/${destination.plugin_id}`
    const before = await count('destinations')
    const enabled = await as(s.app, s.acme, 'DELETE', path)
    assert.deepEqual(
      [enabled.status, enabled.body],
      [400, { error: 'Disable the destination before deleting it' }],
    )

    const added = await post(s.app, `${HR}/${destination.plugin_id}/adduser`, {
      host: s.acme.host,
      auth: `Bearer ${s.acme.key}`,
      body: { employee_id: '1', first_name: 'A', last_name: 'B', email: 'a.b@acme.example.com' },
    })
    assert.equal(added.statusCode, 201)
    await updateDestination(s.services, s.acme.tenant, destination.plugin_id, { enabled: false })
    const withUsers = await as<{ error: string }>(s.app, s.acme, 'DELETE', path)
    assert.equal(withUsers.status, 400)
    assert.match(withUsers.body.error, /still has users/)
    assert.equal(await count('destinations'), before)

    // Held changes wait for an administrator's decision: the destination stays until they are decided.
    const holding = await createDestination(s.services, s.acme.tenant, {
      type: 'generic-hr',
      name: 'Holding',
    })
    await updateDestination(s.services, s.acme.tenant, holding.plugin_id, { enabled: false })
    await s.services.database.transaction((trx) =>
      trx
        .insertInto('held_changes')
        .values({
          id: 'held_test_1',
          tenant_id: s.acme.tenant.id,
          destination_id: holding.plugin_id,
          user_id: 'usr_gone',
          company_id: '',
          employee_id: '9',
          delivery_id: null,
          reason: 'over the limit',
          created_at: new Date().toISOString(),
        })
        .execute(),
    )
    const held = await as<{ error: string }>(s.app, s.acme, 'DELETE', `/destinations/${holding.plugin_id}`)
    assert.equal(held.status, 400)
    assert.match(held.body.error, /held changes/)

    const empty = await createDestination(s.services, s.acme.tenant, { type: 'generic-hr', name: 'Unused' })
    await updateDestination(s.services, s.acme.tenant, empty.plugin_id, { enabled: false })
    const deleted = await as(s.app, s.acme, 'DELETE', `/destinations/${empty.plugin_id}`)
    assert.deepEqual([deleted.status, deleted.body], [200, { plugin_id: empty.plugin_id, deleted: true }])
    assert.equal((await as(s.app, s.acme, 'GET', `/destinations/${empty.plugin_id}`)).status, 404)
    assert.equal((await as(s.app, s.acme, 'DELETE', `/destinations/${empty.plugin_id}`)).status, 404)
  })

  it('deletes a disabled service account (its password no longer signs in); refuses active ones and other users', async () => {
    const account = await createUser(s.services.database, s.acme.tenant.id, {
      email: 'old-helpdesk@acme.example.com',
      serviceAccount: true,
      password: SERVICE_PASSWORD,
    })
    const plain = await createUser(s.services.database, s.acme.tenant.id, {
      email: 'person@acme.example.com',
    })
    await changeUserStatus(s.services, s.acme.tenant.id, plain.id, 'disable', { actor: 'test' })
    const before = await count('users')
    const active = await as(s.app, s.acme, 'DELETE', `/users/${account.id}`)
    assert.deepEqual(
      [active.status, active.body],
      [400, { error: 'Disable the service account before deleting it' }],
    )
    const person = await as<{ error: string }>(s.app, s.acme, 'DELETE', `/users/${plain.id}`)
    assert.equal(person.status, 400)
    assert.match(person.body.error, /Only service accounts can be deleted/)
    assert.equal(await count('users'), before)

    await changeUserStatus(s.services, s.acme.tenant.id, account.id, 'disable', { actor: 'test' })
    const deleted = await as(s.app, s.acme, 'DELETE', `/users/${account.id}`)
    assert.deepEqual([deleted.status, deleted.body], [200, { id: account.id, deleted: true }])
    assert.equal((await as(s.app, s.acme, 'GET', `/users/${account.id}`)).status, 404)
    assert.equal(await count('users'), before - 1)
    const basic = `Basic ${Buffer.from(`old-helpdesk@acme.example.com:${SERVICE_PASSWORD}`).toString('base64')}`
    const call = await post(s.app, '/v5.0/mgmt/api/v1.0/webhooks/helpdesk/createticket', {
      host: s.acme.host,
      auth: basic,
      body: { title: 'T', description: 'D', requester_email: s.acme.requester },
    })
    assert.equal(call.statusCode, 401)
  })

  it("answers 404 for another tenant's destination or service account, and 401 without a key; deletes nothing", async () => {
    const theirs = await createDestination(s.services, s.other.tenant, { type: 'generic-hr', name: 'Theirs' })
    await updateDestination(s.services, s.other.tenant, theirs.plugin_id, { enabled: false })
    const account = await createUser(s.services.database, s.other.tenant.id, {
      email: 'svc-x@other.example.com',
      serviceAccount: true,
      password: SERVICE_PASSWORD,
    })
    await changeUserStatus(s.services, s.other.tenant.id, account.id, 'disable', { actor: 'test' })
    assert.equal((await as(s.app, s.acme, 'DELETE', `/destinations/${theirs.plugin_id}`)).status, 404)
    assert.equal((await as(s.app, s.acme, 'DELETE', `/users/${account.id}`)).status, 404)
    const noKey = await mgmt(s.app, 'DELETE', `/users/${account.id}`, { host: s.other.host })
    assert.equal(noKey.statusCode, 401)
    const wrongKey = await mgmt(s.app, 'DELETE', `/destinations/${theirs.plugin_id}`, {
      host: s.other.host,
      auth: 'Bearer oc_wrong',
    })
    assert.equal(wrongKey.statusCode, 401)
    assert.equal((await as(s.app, s.other, 'GET', `/destinations/${theirs.plugin_id}`)).status, 200)
    assert.equal((await as(s.app, s.other, 'GET', `/users/${account.id}`)).status, 200)
  })
})

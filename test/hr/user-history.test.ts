/** User history: every change of a user with its time, actor (destination and delivery, key, console, CLI) and fields before → after. */
import assert from 'node:assert/strict'
import { it } from 'node:test'
import { createDestination } from '../../src/directory/destinations.js'
import { as, mgmt } from '../helpers/management-routes.js'
import { onEachDatabase, type Suite } from '../helpers/suite.js'
import { hr } from './hr-helpers.js'

interface Entry {
  id: string
  user_id: string
  action: string
  actor: string
  actor_name: string | null
  delivery_id: string | null
  changes: Record<string, { before: unknown; after: unknown }>
  created_at: string
}

let sequence = 0

async function historyOf(s: Suite, userId: string): Promise<Entry[]> {
  const res = await as<Entry[]>(s.app, s.acme, 'GET', `/users/${userId}/history`)
  assert.equal(res.status, 200, res.raw)
  return res.body
}

async function deliveryOf(s: Suite, requestId: string): Promise<string> {
  const row = await s.db
    .selectFrom('deliveries')
    .select('id')
    .where('request_id', '=', requestId)
    .executeTakeFirstOrThrow()
  return row.id
}

onEachDatabase('User history', (s) => {
  it('HR webhooks: created, updated, terminated and reactivated, each with its destination, delivery and fields before → after', async () => {
    const { plugin_id: pluginId } = await createDestination(s.services, s.acme.tenant, {
      type: 'generic-hr',
      name: `HR ${++sequence}`,
    })
    const call = (operation: 'adduser' | 'modifyuser' | 'deleteuser', body: object, requestId: string) =>
      hr(s.app, s.acme, pluginId, operation, body, { headers: { 'x-request-id': requestId } })
    const employee = {
      employee_id: 'H1',
      first_name: 'Hedy',
      last_name: 'Lamarr',
      email: 'hedy@acme.example.com',
    }
    const add = await call('adduser', employee, 'hist-add')
    assert.equal(add.statusCode, 201)
    const userId = add.json().user.id
    assert.equal(
      (await call('modifyuser', { employee_id: 'H1', mobile: '+1 555 0100' }, 'hist-mod')).statusCode,
      200,
    )
    // A modify that changes nothing adds no entry.
    assert.equal(
      (await call('modifyuser', { employee_id: 'H1', mobile: '+1 555 0100' }, 'hist-same')).statusCode,
      200,
    )
    assert.equal((await call('deleteuser', { employee_id: 'H1' }, 'hist-del')).statusCode, 200)
    assert.equal((await call('adduser', employee, 'hist-back')).statusCode, 200)

    const history = await historyOf(s, userId)
    assert.deepEqual(
      history.map((e) => e.action),
      ['created', 'updated', 'terminated', 'reactivated'],
    )
    for (const entry of history) {
      assert.equal(entry.actor, `destination:${pluginId}`)
      assert.equal(entry.actor_name, `HR ${sequence}`)
      assert.equal(entry.user_id, userId)
      assert.ok(!Number.isNaN(Date.parse(entry.created_at)))
    }
    assert.deepEqual(
      history.map((e) => e.delivery_id),
      [
        await deliveryOf(s, 'hist-add'),
        await deliveryOf(s, 'hist-mod'),
        await deliveryOf(s, 'hist-del'),
        await deliveryOf(s, 'hist-back'),
      ],
    )
    assert.deepEqual(history[0]?.changes.email, { before: null, after: 'hedy@acme.example.com' })
    assert.deepEqual(history[0]?.changes.status, { before: null, after: 'active' })
    assert.deepEqual(history[1]?.changes, { mobile: { before: null, after: '+1 555 0100' } })
    assert.deepEqual(history[2]?.changes, { status: { before: 'active', after: 'terminated' } })
    assert.deepEqual(history[3]?.changes, { status: { before: 'terminated', after: 'active' } })
  })

  it('administrators through the API: creation, disable, enable and a password change name the key; no password or hash is shown', async () => {
    const password = 'a very secret password 1'
    const created = await as<{ id: string }>(s.app, s.acme, 'POST', '/users', {
      email: `svc${++sequence}@acme.example.com`,
      service_account: true,
      password,
    })
    assert.equal(created.status, 201)
    const id = created.body.id
    assert.equal((await as(s.app, s.acme, 'POST', `/users/${id}/disable`)).status, 200)
    assert.equal((await as(s.app, s.acme, 'POST', `/users/${id}/enable`)).status, 200)
    assert.equal(
      (await as(s.app, s.acme, 'PUT', `/users/${id}/password`, { password: 'another secret pass 2' })).status,
      200,
    )
    const res = await mgmt(s.app, 'GET', `/users/${id}/history`, {
      host: s.acme.host,
      auth: `Bearer ${s.acme.key}`,
    })
    const history = res.json() as Entry[]
    assert.deepEqual(
      history.map((e) => [e.action, e.actor]),
      [
        ['created', `api_key:${s.acme.keyId}`],
        ['disabled', `api_key:${s.acme.keyId}`],
        ['enabled', `api_key:${s.acme.keyId}`],
        ['password_changed', `api_key:${s.acme.keyId}`],
      ],
    )
    assert.deepEqual(history[1]?.changes, { status: { before: 'active', after: 'disabled' } })
    // Named for people: the key's name.
    assert.equal(history[1]?.actor_name, 'test')
    assert.deepEqual(history[3]?.changes, {})
    assert.ok(!res.body.includes('secret pass') && !res.body.includes('scrypt'), res.body)
    const stored = await s.db.selectFrom('user_history').select('changes').where('user_id', '=', id).execute()
    assert.ok(
      stored.every((row) => !row.changes.includes('secret') && !row.changes.includes('password_hash')),
    )
  })

  it('an approved held termination names the approving key and the HR call that asked; a dry run leaves no history', async () => {
    const { plugin_id: pluginId } = await createDestination(s.services, s.acme.tenant, {
      type: 'generic-hr',
      name: `HR ${++sequence}`,
      settings: { termination_limit: '1' },
    })
    const ids: string[] = []
    for (const n of [1, 2]) {
      const res = await hr(s.app, s.acme, pluginId, 'adduser', {
        employee_id: `A${n}`,
        first_name: 'A',
        last_name: `${n}`,
        email: `a${n}-${sequence}@acme.example.com`,
      })
      ids.push(res.json().user.id)
    }
    await hr(s.app, s.acme, pluginId, 'deleteuser', { employee_id: 'A1' })
    const held = await hr(
      s.app,
      s.acme,
      pluginId,
      'deleteuser',
      { employee_id: 'A2' },
      { headers: { 'x-request-id': `held-${sequence}` } },
    )
    assert.equal(held.statusCode, 202)
    assert.deepEqual(
      (await historyOf(s, ids[1] as string)).map((e) => e.action),
      ['created'],
    )
    await as(s.app, s.acme, 'POST', `/destinations/${pluginId}/holds/approve`)
    const last = (await historyOf(s, ids[1] as string)).at(-1)
    assert.equal(last?.action, 'terminated')
    assert.equal(last?.actor, `api_key:${s.acme.keyId}`)
    assert.equal(last?.delivery_id, await deliveryOf(s, `held-${sequence}`))

    const pilot = await createDestination(s.services, s.acme.tenant, {
      type: 'generic-hr',
      name: `Pilot ${sequence}`,
      settings: { mode: 'dry-run' },
    })
    const before = await s.db
      .selectFrom('user_history')
      .select('id')
      .where('tenant_id', '=', s.acme.tenant.id)
      .execute()
    await hr(s.app, s.acme, pilot.plugin_id, 'adduser', {
      employee_id: 'P',
      first_name: 'P',
      last_name: 'P',
      email: `p${sequence}@acme.example.com`,
    })
    const afterRows = await s.db
      .selectFrom('user_history')
      .select('id')
      .where('tenant_id', '=', s.acme.tenant.id)
      .execute()
    assert.equal(afterRows.length, before.length)
  })

  it("an unknown user and another tenant's user are 404 alike", async () => {
    const theirs = await as<{ id: string }>(s.app, s.other, 'POST', '/users', {
      email: `x${++sequence}@other.example.com`,
    })
    const res = await as(s.app, s.acme, 'GET', `/users/${theirs.body.id}/history`)
    assert.equal(res.status, 404)
    assert.deepEqual(res.body, { error: 'User not found' })
    assert.equal((await as(s.app, s.acme, 'GET', '/users/usr_nobody/history')).status, 404)
  })
})

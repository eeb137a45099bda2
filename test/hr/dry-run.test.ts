/** Dry run: a destination with mode=dry-run authenticates, validates and answers as it would, logs what it would change, and changes no user. */
import assert from 'node:assert/strict'
import { it } from 'node:test'
import { createDestination, updateDestination } from '../../src/directory/destinations.js'
import { as } from '../helpers/management-routes.js'
import { onEachDatabase, type Suite } from '../helpers/suite.js'
import { hr, lastDelivery, userRows } from './hr-helpers.js'

let sequence = 0

async function dryRunDestination(s: Suite, settings: Record<string, string> = {}) {
  return (
    await createDestination(s.services, s.acme.tenant, {
      type: 'generic-hr',
      name: `Pilot ${++sequence}`,
      settings: { mode: 'dry-run', ...settings },
    })
  ).plugin_id
}

const snapshot = async (s: Suite) =>
  JSON.stringify(
    await s.db
      .selectFrom('users')
      .selectAll()
      .where('tenant_id', '=', s.acme.tenant.id)
      .orderBy('id')
      .execute(),
  )

onEachDatabase('Dry-run destinations', (s) => {
  it('adduser answers 201 with the user it would create plus "dry_run":true, logs it, and creates nobody', async () => {
    const pluginId = await dryRunDestination(s)
    const before = await snapshot(s)
    const res = await hr(s.app, s.acme, pluginId, 'adduser', {
      employee_id: 'D1',
      first_name: 'Dee',
      last_name: 'Ryrun',
      email: 'dee@acme.example.com',
    })
    assert.equal(res.statusCode, 201, res.body)
    const body = res.json()
    assert.equal(body.dry_run, true)
    assert.equal(body.user.email, 'dee@acme.example.com')
    assert.equal(body.user.display_name, 'Dee Ryrun')
    assert.equal(body.user.status, 'active')
    assert.equal(await snapshot(s), before)
    const logged = await lastDelivery(s.db, s.acme.tenant.id)
    assert.equal(logged.status_code, 201)
    assert.equal(logged.destination_id, pluginId)
    assert.match(
      logged.reason ?? '',
      /^dry run, nothing changed: would create user dee@acme\.example\.com: .*email: \(none\) → dee@acme\.example\.com/,
    )
    assert.equal(logged.user_id, null)
  })

  it('validates as a live call: missing fields and unknown employees are the same 400s', async () => {
    const pluginId = await dryRunDestination(s)
    const missing = await hr(s.app, s.acme, pluginId, 'adduser', { employee_id: 'D2' })
    assert.equal(missing.statusCode, 400)
    assert.deepEqual(missing.json(), { error: 'first_name is a required field' })
    const unknown = await hr(s.app, s.acme, pluginId, 'deleteuser', { employee_id: 'NOBODY' })
    assert.equal(unknown.statusCode, 400)
    assert.deepEqual(unknown.json(), { error: 'User not found in the OptimalCloud' })
    const bad = await hr(s.app, s.acme, pluginId, 'adduser', { employee_id: 'D2' }, { auth: 'Bearer wrong' })
    assert.equal(bad.statusCode, 401)
  })

  it('modify and terminate of a real user answer the user as it would be, log before → after, and change nothing', async () => {
    const pluginId = await dryRunDestination(s)
    // The user exists: made while the destination was live.
    await updateDestination(s.services, s.acme.tenant, pluginId, { settings: { mode: 'live' } })
    const add = await hr(s.app, s.acme, pluginId, 'adduser', {
      employee_id: 'D3',
      first_name: 'Real',
      last_name: 'User',
      email: 'real@acme.example.com',
    })
    assert.equal(add.statusCode, 201)
    assert.equal(add.json().dry_run, undefined)
    const userId = add.json().user.id
    await updateDestination(s.services, s.acme.tenant, pluginId, { settings: { mode: 'dry-run' } })
    const before = await snapshot(s)

    const modify = await hr(s.app, s.acme, pluginId, 'modifyuser', {
      employee_id: 'D3',
      mobile: '+1 555 0199',
    })
    assert.equal(modify.statusCode, 200, modify.body)
    assert.equal(modify.json().user.mobile, '+1 555 0199')
    assert.equal(modify.json().dry_run, true)
    let logged = await lastDelivery(s.db, s.acme.tenant.id)
    assert.equal(
      logged.reason,
      `dry run, nothing changed: would change user ${userId}: mobile: (none) → +1 555 0199`,
    )
    assert.equal(logged.user_id, userId)

    const terminate = await hr(s.app, s.acme, pluginId, 'deleteuser', { employee_id: 'D3' })
    assert.equal(terminate.statusCode, 200)
    assert.equal(terminate.json().user.status, 'terminated')
    assert.equal(terminate.json().dry_run, true)
    logged = await lastDelivery(s.db, s.acme.tenant.id)
    assert.match(logged.reason ?? '', /status: active → terminated/)
    assert.equal(await snapshot(s), before)
    const [row] = (await userRows(s.db, s.acme.tenant.id)).filter((u) => u.id === userId)
    assert.equal(row?.status, 'active')
  })

  it('an Idempotency-Key is not kept by a dry run: the same key runs for real once the destination is live', async () => {
    const pluginId = await dryRunDestination(s)
    const body = { employee_id: 'D4', first_name: 'Key', last_name: 'Holder', email: 'key@acme.example.com' }
    const headers = { 'idempotency-key': `dry-${sequence}` }
    assert.equal((await hr(s.app, s.acme, pluginId, 'adduser', body, { headers })).json().dry_run, true)
    await updateDestination(s.services, s.acme.tenant, pluginId, { settings: { mode: 'live' } })
    const live = await hr(s.app, s.acme, pluginId, 'adduser', body, { headers })
    assert.equal(live.statusCode, 201, live.body)
    assert.equal(live.json().dry_run, undefined)
    assert.ok((await userRows(s.db, s.acme.tenant.id)).some((u) => u.employee_id === 'D4'))
  })

  it('a termination the safeguard would hold answers 202 {"held":true,"dry_run":true} and holds nothing', async () => {
    const pluginId = await dryRunDestination(s, { termination_limit: '1', mode: 'live' })
    for (const id of ['H1', 'H2'])
      await hr(s.app, s.acme, pluginId, 'adduser', {
        employee_id: id,
        first_name: 'H',
        last_name: id,
        email: `${id}@acme.example.com`,
      })
    assert.equal((await hr(s.app, s.acme, pluginId, 'deleteuser', { employee_id: 'H1' })).statusCode, 200)
    await updateDestination(s.services, s.acme.tenant, pluginId, { settings: { mode: 'dry-run' } })
    const res = await hr(s.app, s.acme, pluginId, 'deleteuser', { employee_id: 'H2' })
    assert.equal(res.statusCode, 202, res.body)
    assert.deepEqual(res.json(), { held: true, dry_run: true })
    const holds = await as<unknown[]>(s.app, s.acme, 'GET', '/holds')
    assert.deepEqual(holds.body, [])
  })
})

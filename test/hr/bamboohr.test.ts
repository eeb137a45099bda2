/** BambooHR destinations: signed event-based webhooks (JSON and form posts), field-based bodies, the API fetch, and the uniform 401. */
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { after, it } from 'node:test'
import { bambooEmployeeFixture, type FakeBambooHr, startFakeBambooHr } from '../fakes/fake-bamboohr.js'
import { uniqueAddress } from '../helpers/client-address.js'
import { as } from '../helpers/management-routes.js'
import { onEachDatabase } from '../helpers/suite.js'
import { post } from '../helpers/test-app.js'
import { PROVISIONING } from '../helpers/webhook-routes.js'
import { lastDelivery, userRows } from './hr-helpers.js'

const UNAUTHORIZED = '{"error":"ERROR"}'

function fixtureText(name: string): string {
  return readFileSync(new URL(`../fixtures/${name}`, import.meta.url), 'utf8')
}

interface Destination {
  plugin_id: string
  urls: Record<string, string>
  settings: Record<string, string>
}

let sequence = 0

// The fake BambooHR listens on 127.0.0.1: the operator's allow-private setting is the only way to reach it.
const SUITE = { tenants: ['acme', 'other'], config: { allowPrivateConnectors: true } }

onEachDatabase('BambooHR webhooks', SUITE, (s) => {
  let bamboo: FakeBambooHr
  let destination: Destination
  after(async () => bamboo?.close())

  /** Creates the destination through the management API, as an administrator would. */
  async function createBambooDestination(settings: Record<string, string>): Promise<Destination> {
    const created = await as<Destination>(s.app, s.acme, 'POST', '/destinations', {
      type: 'bamboohr',
      name: 'BambooHR',
      settings,
    })
    assert.equal(created.status, 201, created.raw)
    return created.body
  }

  async function ready(): Promise<void> {
    if (bamboo !== undefined) return
    bamboo = await startFakeBambooHr()
    destination = await createBambooDestination({
      company_domain: bamboo.companyDomain,
      api_key: bamboo.apiKey,
      webhook_secret: bamboo.webhookSecret,
      api_base_url: bamboo.url,
    })
  }

  /** Sends a signed event (or `raw` bytes with their own headers) to one of the destination's URLs. */
  function send(
    payload: string,
    headers: Record<string, string>,
    options: { endpoint?: string; pluginId?: string; host?: string } = {},
  ) {
    return post(
      s.app,
      `${PROVISIONING}/${options.pluginId ?? destination.plugin_id}/${options.endpoint ?? 'events'}`,
      {
        host: options.host ?? s.acme.host,
        raw: payload,
        headers,
        remoteAddress: uniqueAddress(),
      },
    )
  }

  function signed(
    event: Record<string, unknown> | string,
    options: Parameters<FakeBambooHr['signedEvent']>[1] = {},
  ) {
    const { payload, headers } = bamboo.signedEvent(event, options)
    return send(payload, headers)
  }

  /** A new employee in the fake BambooHR, with a unique id and email. */
  function hire(overrides: Record<string, unknown> = {}): string {
    sequence += 1
    const id = `${70000 + sequence}`
    bamboo.employees.set(id, {
      ...bambooEmployeeFixture(),
      id,
      workEmail: `bamboo${sequence}@example.com`,
      ...overrides,
    })
    return id
  }

  const userOf = async (employeeId: string) =>
    (await userRows(s.db, s.acme.tenant.id)).find((row) => row.employee_id === employeeId)

  it('shows one URL, /events, and keeps the API key and webhook secret masked', async () => {
    await ready()
    assert.match(destination.urls.events ?? '', new RegExp(`/provisioning/${destination.plugin_id}/events$`))
    assert.equal(destination.settings.api_key, '********')
    assert.equal(destination.settings.webhook_secret, '********')
    const listed = await as(s.app, s.acme, 'GET', '/destinations')
    assert.ok(!listed.raw.includes(bamboo.apiKey) && !listed.raw.includes(bamboo.webhookSecret))
  })

  it('employee.created: fetches the employee from the BambooHR API and creates an active user (201)', async () => {
    await ready()
    const id = hire()
    const before = bamboo.requests.length
    const res = await signed({
      type: 'employee.created',
      timestamp: '2026-01-31T18:42:00+0000',
      data: { companyId: '12345', employeeId: id },
    })
    assert.equal(res.statusCode, 201, res.body)
    const { user } = res.json()
    assert.equal(user.first_name, 'Charlotte')
    assert.equal(user.last_name, 'Abbott')
    assert.equal(user.display_name, 'Charlie')
    assert.equal(user.mobile, '+1 801 555 0199')
    assert.equal(user.employee_id, id)
    assert.equal(user.status, 'active')
    const call = bamboo.requests[before]
    assert.ok(call !== undefined)
    assert.equal(call.path, `/api/gateway.php/${bamboo.companyDomain}/v1/employees/${id}/`)
    assert.equal(
      call.query.get('fields'),
      'firstName,lastName,preferredName,workEmail,mobilePhone,status,employeeNumber',
    )
    assert.equal(call.headers.accept, 'application/json')
    const delivery = await lastDelivery(s.db, s.acme.tenant.id)
    assert.equal(delivery.principal, `signature:${destination.plugin_id}`)
    assert.equal(delivery.endpoint, 'events')
  })

  it('a repeated delivery (BambooHR retries) changes nothing twice', async () => {
    await ready()
    const id = hire()
    const event = { type: 'employee.created', data: { employeeId: id } }
    assert.equal((await signed(event)).statusCode, 201)
    const first = await userOf(id)
    const again = await signed(event, { at: Math.floor(Date.now() / 1000) + 1 })
    assert.equal(again.statusCode, 200, again.body)
    assert.deepEqual(await userOf(id), first)
    const deleted = { type: 'employee.deleted', data: { employeeId: id } }
    assert.equal((await signed(deleted)).json().user.status, 'terminated')
    const terminated = await userOf(id)
    assert.equal((await signed(deleted)).statusCode, 200)
    assert.deepEqual(await userOf(id), terminated)
  })

  it('employee.updated (the fixture): the user is looked up first, then its fields change; Inactive terminates, Active brings it back', async () => {
    await ready()
    const id = hire()
    assert.equal((await signed({ type: 'employee.created', data: { employeeId: id } })).statusCode, 201)
    bamboo.employees.set(id, {
      ...(bamboo.employees.get(id) ?? {}),
      lastName: 'Abbott-Smith',
      preferredName: '',
    })
    const body = JSON.parse(fixtureText('bamboohr-event-updated.json')) as { data: Record<string, unknown> }
    body.data.employeeId = id
    const updated = await signed(body)
    assert.equal(updated.statusCode, 200, updated.body)
    assert.equal(updated.json().user.last_name, 'Abbott-Smith')
    assert.equal(updated.json().user.display_name, 'Charlotte Abbott-Smith')

    bamboo.employees.set(id, { ...(bamboo.employees.get(id) ?? {}), status: 'Inactive' })
    assert.equal((await signed(body)).json().user.status, 'terminated')
    bamboo.employees.set(id, { ...(bamboo.employees.get(id) ?? {}), status: 'Active' })
    assert.equal((await signed(body)).json().user.status, 'active')
  })

  it('employee.updated for an employee this destination does not know: 400 User not found, no API call', async () => {
    await ready()
    const before = bamboo.requests.length
    const res = await signed({ type: 'employee.updated', data: { employeeId: 'nobody-here' } })
    assert.equal(res.statusCode, 400)
    assert.equal(res.body, '{"error":"User not found in the OptimalCloud"}')
    assert.equal(bamboo.requests.length, before)
  })

  it('reads the form post (the fixture) like the JSON body', async () => {
    await ready()
    bamboo.employees.set('67891', {
      ...bambooEmployeeFixture(),
      id: '67891',
      workEmail: 'form.post@example.com',
    })
    const { headers, payload } = bamboo.signedEvent(fixtureText('bamboohr-event-created.form'), {
      format: 'form',
    })
    const res = await send(payload, headers)
    assert.equal(res.statusCode, 201, res.body)
    assert.equal(res.json().user.email, 'form.post@example.com')
  })

  it('reads field-based (global) bodies: every employee in one transaction, fetched from the API', async () => {
    await ready()
    const first = hire()
    const second = hire()
    for (const id of [first, second]) await signed({ type: 'employee.created', data: { employeeId: id } })
    bamboo.employees.set(second, { ...(bamboo.employees.get(second) ?? {}), firstName: 'Bryony' })
    const body = {
      employees: [
        {
          id: first,
          action: 'Updated',
          fields: { 'First Name': 'Charlotte' },
          changedFields: ['First Name'],
        },
        { id: second, action: 'Updated', fields: { 'First Name': 'Bryony' }, changedFields: ['First Name'] },
      ],
    }
    const res = await signed(body)
    assert.equal(res.statusCode, 200, res.body)
    assert.deepEqual(
      res.json().users.map((user: { first_name: string }) => user.first_name),
      ['Charlotte', 'Bryony'],
    )
    // One unknown employee: nothing of the call is applied.
    const mixed = await signed({
      employees: [
        { id: first, action: 'Deleted', fields: {}, changedFields: [] },
        { id: 'unknown-1', action: 'Updated', fields: {}, changedFields: [] },
      ],
    })
    assert.equal(mixed.statusCode, 400)
    assert.equal((await userOf(first))?.status, 'active')
  })

  it('without API settings, created fails clearly and field-based values are used as sent', async () => {
    await ready()
    const bare = await createBambooDestination({ webhook_secret: bamboo.webhookSecret })
    const event = bamboo.signedEvent({ type: 'employee.created', data: { employeeId: 'F1' } })
    const refused = await send(event.payload, event.headers, { pluginId: bare.plugin_id })
    assert.equal(refused.statusCode, 400)
    assert.equal(refused.body, '{"error":"Failed to fetch the employee from BambooHR"}')
    assert.match((await lastDelivery(s.db, s.acme.tenant.id)).reason ?? '', /no company_domain and api_key/)

    const fieldBased = JSON.parse(fixtureText('bamboohr-field-based.json')) as {
      employees: Array<Record<string, unknown>>
    }
    const [employee] = fieldBased.employees
    assert.ok(employee !== undefined)
    employee.action = 'Created'
    employee.id = 'F2'
    const signedBody = bamboo.signedEvent(fieldBased)
    const created = await send(signedBody.payload, signedBody.headers, { pluginId: bare.plugin_id })
    assert.equal(created.statusCode, 201, created.body)
    assert.equal(created.json().user.email, 'cabbott@example.com')
  })

  it('a BambooHR API failure is 400 Failed to fetch the employee from BambooHR; a replay once it is back succeeds', async () => {
    await ready()
    const id = hire()
    bamboo.failNext(2, 503)
    const failed = await signed({ type: 'employee.created', data: { employeeId: id } })
    assert.equal(failed.statusCode, 400)
    assert.equal(failed.body, '{"error":"Failed to fetch the employee from BambooHR"}')
    const delivery = await lastDelivery(s.db, s.acme.tenant.id)
    assert.match(delivery.reason ?? '', /BambooHR answered 503/)
    assert.ok(!(delivery.reason ?? '').includes(bamboo.apiKey))
    const replayed = await as<{ status: number }>(s.app, s.acme, 'POST', `/deliveries/${delivery.id}/replay`)
    assert.equal(replayed.status, 201, replayed.raw)
    assert.equal(replayed.body.status, 201)
    assert.equal((await userOf(id))?.status, 'active')
  })

  it('the three URLs take its events too: the body decides what happens', async () => {
    await ready()
    const id = hire()
    const created = bamboo.signedEvent({ type: 'employee.created', data: { employeeId: id } })
    assert.equal((await send(created.payload, created.headers, { endpoint: 'deleteuser' })).statusCode, 201)
    const deleted = bamboo.signedEvent({ type: 'employee.deleted', data: { employeeId: id } })
    const res = await send(deleted.payload, deleted.headers, { endpoint: 'adduser' })
    assert.equal(res.json().user.status, 'terminated')
  })

  it('accepts an Authorization header instead of a signature (an API key of the tenant)', async () => {
    await ready()
    const id = hire()
    const res = await post(s.app, `${PROVISIONING}/${destination.plugin_id}/events`, {
      host: s.acme.host,
      auth: `Bearer ${s.acme.key}`,
      body: { type: 'employee.created', data: { employeeId: id } },
      remoteAddress: uniqueAddress(),
    })
    assert.equal(res.statusCode, 201, res.body)
  })

  it('a wrong, stale, future, missing or malformed signature is the uniform 401, before the body is read, changing nothing', async () => {
    await ready()
    const id = hire()
    const event = { type: 'employee.created', data: { employeeId: id } }
    const now = Math.floor(Date.now() / 1000)
    const good = bamboo.signedEvent(event)
    const cases: Array<[string, string, Record<string, string>]> = [
      ['another key', ...pair(bamboo.signedEvent(event, { secret: 'not-the-webhook-secret' }))],
      ['six minutes old', ...pair(bamboo.signedEvent(event, { at: now - 360 }))],
      ['six minutes ahead', ...pair(bamboo.signedEvent(event, { at: now + 360 }))],
      ['another body', `${good.payload} `, good.headers],
      ['no timestamp', good.payload, { ...good.headers, 'x-bamboohr-timestamp': '' }],
      [
        'uppercase hex',
        good.payload,
        {
          ...good.headers,
          'x-bamboohr-signature': (good.headers['x-bamboohr-signature'] ?? '').toUpperCase(),
        },
      ],
      ['not hex', good.payload, { ...good.headers, 'x-bamboohr-signature': 'z'.repeat(64) }],
      ['short', good.payload, { ...good.headers, 'x-bamboohr-signature': 'ab' }],
      ['no headers at all', good.payload, { 'content-type': 'application/json' }],
      ['a bad body, badly signed', '{not json', { ...good.headers, 'x-bamboohr-signature': '0'.repeat(64) }],
    ]
    for (const [name, payload, headers] of cases) {
      const res = await send(payload, headers)
      assert.equal(res.statusCode, 401, name)
      assert.equal(res.body, UNAUTHORIZED, name)
    }
    assert.equal(await userOf(id), undefined)
    // Signed for acme's destination, sent to another tenant's host or an unknown destination: 401.
    assert.equal((await send(good.payload, good.headers, { host: s.other.host })).statusCode, 401)
    assert.equal((await send(good.payload, good.headers, { pluginId: 'x'.repeat(32) })).statusCode, 401)
    // A well-signed body that is not JSON passes authentication and gets the contract's 400.
    const badBody = bamboo.signedEvent('{not json')
    const res = await send(badBody.payload, badBody.headers)
    assert.equal(res.statusCode, 400)
    assert.equal(res.body, '{"error":"Request body must be a JSON object"}')
    assert.equal((await send(good.payload, good.headers)).statusCode, 201, 'the good one still works')
  })

  it('answers 404 on /events of a destination whose vendor has no such URL', async () => {
    await ready()
    const generic = await as<Destination>(s.app, s.acme, 'POST', '/destinations', {
      type: 'generic-hr',
      name: 'G',
    })
    const res = await post(s.app, `${PROVISIONING}/${generic.body.plugin_id}/events`, {
      host: s.acme.host,
      auth: `Bearer ${s.acme.key}`,
      body: {},
      remoteAddress: uniqueAddress(),
    })
    assert.equal(res.statusCode, 404)
    assert.equal(res.body, '{"error":"Provisioning destination not found"}')
  })
})

function pair(event: { payload: string; headers: Record<string, string> }): [string, Record<string, string>] {
  return [event.payload, event.headers]
}

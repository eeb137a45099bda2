/** The mass-termination safeguard: terminations beyond termination_limit per rolling hour are held, then approved or rejected. */
import assert from 'node:assert/strict'
import { it } from 'node:test'
import { createDestination } from '../../src/directory/destinations.js'
import { applyHrCommands } from '../../src/directory/provisioning.js'
import { as, mgmt } from '../helpers/management-routes.js'
import { onEachDatabase, type Suite } from '../helpers/suite.js'
import type { SeededTenant } from '../helpers/test-app.js'
import { fixture, hr, lastDelivery, userRows } from './hr-helpers.js'

let sequence = 0

/** A destination of acme with these settings, and `count` employees added through it. */
async function destinationWith(
  s: Suite,
  settings: Record<string, string>,
  count: number,
  tenant: SeededTenant = s.acme,
): Promise<{ pluginId: string; employees: string[] }> {
  const { plugin_id: pluginId } = await createDestination(s.services, tenant.tenant, {
    type: 'generic-hr',
    name: `HR ${++sequence}`,
    settings,
  })
  const employees: string[] = []
  for (let i = 0; i < count; i++) {
    const id = `S${sequence}-${i}`
    const res = await hr(s.app, tenant, pluginId, 'adduser', {
      employee_id: id,
      first_name: 'Terry',
      last_name: `Minate${i}`,
      email: `t${sequence}-${i}@${tenant.tenant.name}.example.com`,
    })
    assert.equal(res.statusCode, 201, res.body)
    employees.push(id)
  }
  return { pluginId, employees }
}

async function statusOf(
  s: Suite,
  employeeId: string,
  tenant: SeededTenant = s.acme,
): Promise<string | undefined> {
  return (await userRows(s.db, tenant.tenant.id)).find((u) => u.employee_id === employeeId)?.status
}

interface Hold {
  id: string
  plugin_id: string
  employee_id: string
  user_id: string
  delivery_id: string | null
  created_at: string
}

async function holdsOf(s: Suite, pluginId: string, tenant: SeededTenant = s.acme): Promise<Hold[]> {
  const res = await as<Hold[]>(s.app, tenant, 'GET', '/holds?limit=1000')
  assert.equal(res.status, 200, res.raw)
  return res.body.filter((h) => h.plugin_id === pluginId)
}

onEachDatabase('Mass-termination safeguard', (s) => {
  it('terminations beyond the limit change nothing and answer 202 {"held":true}; they are listed with plugin_id, employee_id and time', async () => {
    const { pluginId, employees } = await destinationWith(s, { termination_limit: '3' }, 5)
    for (const id of employees.slice(0, 3)) {
      const res = await hr(s.app, s.acme, pluginId, 'deleteuser', { employee_id: id })
      assert.equal(res.statusCode, 200, res.body)
      assert.equal(res.json().user.status, 'terminated')
    }
    const fourth = await hr(s.app, s.acme, pluginId, 'deleteuser', { employee_id: employees[3] })
    assert.equal(fourth.statusCode, 202, fourth.body)
    assert.deepEqual(fourth.json(), { held: true })
    assert.equal(await statusOf(s, employees[3] as string), 'active')
    const logged = await lastDelivery(s.db, s.acme.tenant.id)
    assert.equal(logged.status_code, 202)
    assert.match(logged.reason ?? '', /held: more than 3 terminations within an hour/)

    const holds = await holdsOf(s, pluginId)
    assert.equal(holds.length, 1)
    const [hold] = holds
    assert.equal(hold?.employee_id, employees[3])
    assert.equal(hold?.delivery_id, logged.id)
    assert.ok(!Number.isNaN(Date.parse(hold?.created_at ?? '')))
  })

  it('while a destination has held changes its further terminations are held too; adds and modifies never are', async () => {
    const { pluginId, employees } = await destinationWith(s, { termination_limit: '1' }, 3)
    assert.equal(
      (await hr(s.app, s.acme, pluginId, 'deleteuser', { employee_id: employees[0] })).statusCode,
      200,
    )
    assert.equal(
      (await hr(s.app, s.acme, pluginId, 'deleteuser', { employee_id: employees[1] })).statusCode,
      202,
    )
    const add = await hr(s.app, s.acme, pluginId, 'adduser', {
      employee_id: `NEW-${sequence}`,
      first_name: 'New',
      last_name: 'Hire',
      email: `new-${sequence}@acme.example.com`,
    })
    assert.equal(add.statusCode, 201, add.body)
    const modify = await hr(s.app, s.acme, pluginId, 'modifyuser', {
      employee_id: employees[2],
      mobile: '+1 555',
    })
    assert.equal(modify.statusCode, 200, modify.body)
    assert.equal(modify.json().user.mobile, '+1 555')
    // A repeat of the held termination is answered the same and held once.
    assert.equal(
      (await hr(s.app, s.acme, pluginId, 'deleteuser', { employee_id: employees[1] })).statusCode,
      202,
    )
    assert.equal(
      (await hr(s.app, s.acme, pluginId, 'deleteuser', { employee_id: employees[2] })).statusCode,
      202,
    )
    assert.deepEqual(
      (await holdsOf(s, pluginId)).map((h) => h.employee_id),
      [employees[1], employees[2]],
    )
  })

  it('approve applies every held termination of the destination in order: {"applied":N}; then the list is empty', async () => {
    const { pluginId, employees } = await destinationWith(s, { termination_limit: '1' }, 3)
    await hr(s.app, s.acme, pluginId, 'deleteuser', { employee_id: employees[0] })
    await hr(s.app, s.acme, pluginId, 'deleteuser', { employee_id: employees[1] })
    await hr(s.app, s.acme, pluginId, 'deleteuser', { employee_id: employees[2] })
    assert.equal(await statusOf(s, employees[2] as string), 'active')
    const res = await as(s.app, s.acme, 'POST', `/destinations/${pluginId}/holds/approve`)
    assert.equal(res.status, 200, res.raw)
    assert.deepEqual(res.body, { applied: 2 })
    for (const id of employees) assert.equal(await statusOf(s, id), 'terminated')
    assert.deepEqual(await holdsOf(s, pluginId), [])
    // Nothing left to approve.
    assert.deepEqual((await as(s.app, s.acme, 'POST', `/destinations/${pluginId}/holds/approve`)).body, {
      applied: 0,
    })
  })

  it('an adduser after a held termination of the same employee supersedes it: approving then leaves the re-hired user active', async () => {
    const { pluginId, employees } = await destinationWith(s, { termination_limit: '1' }, 3)
    await hr(s.app, s.acme, pluginId, 'deleteuser', { employee_id: employees[0] })
    assert.equal(
      (await hr(s.app, s.acme, pluginId, 'deleteuser', { employee_id: employees[1] })).statusCode,
      202,
    )
    assert.equal(
      (await hr(s.app, s.acme, pluginId, 'deleteuser', { employee_id: employees[2] })).statusCode,
      202,
    )
    const rehire = await hr(s.app, s.acme, pluginId, 'adduser', {
      employee_id: employees[1],
      first_name: 'Terry',
      last_name: 'Minate1',
      email: `t${sequence}-1@acme.example.com`,
    })
    assert.equal(rehire.statusCode, 200, rehire.body)
    assert.deepEqual(
      (await holdsOf(s, pluginId)).map((h) => h.employee_id),
      [employees[2]],
    )
    assert.deepEqual((await as(s.app, s.acme, 'POST', `/destinations/${pluginId}/holds/approve`)).body, {
      applied: 1,
    })
    assert.equal(await statusOf(s, employees[1] as string), 'active')
    assert.equal(await statusOf(s, employees[2] as string), 'terminated')
  })

  it('reject drops them without changing any user: {"rejected":N}', async () => {
    const { pluginId, employees } = await destinationWith(s, { termination_limit: '1' }, 3)
    for (const id of employees) await hr(s.app, s.acme, pluginId, 'deleteuser', { employee_id: id })
    const res = await as(s.app, s.acme, 'POST', `/destinations/${pluginId}/holds/reject`)
    assert.equal(res.status, 200, res.raw)
    assert.deepEqual(res.body, { rejected: 2 })
    assert.equal(await statusOf(s, employees[1] as string), 'active')
    assert.equal(await statusOf(s, employees[2] as string), 'active')
    assert.deepEqual(await holdsOf(s, pluginId), [])
    // The hour still counts the one applied termination: the next one is held again.
    assert.equal(
      (await hr(s.app, s.acme, pluginId, 'deleteuser', { employee_id: employees[1] })).statusCode,
      202,
    )
  })

  it('the default limit is 20 terminations an hour: 25 terminations stop at 20 with 5 held, and approving applies the 5', async () => {
    const { pluginId, employees } = await destinationWith(s, {}, 25)
    const statuses: number[] = []
    for (const id of employees)
      statuses.push((await hr(s.app, s.acme, pluginId, 'deleteuser', { employee_id: id })).statusCode)
    assert.deepEqual(statuses, [...Array(20).fill(200), ...Array(5).fill(202)])
    assert.deepEqual(
      (await holdsOf(s, pluginId)).map((h) => h.employee_id),
      employees.slice(20),
    )
    const approved = await as(s.app, s.acme, 'POST', `/destinations/${pluginId}/holds/approve`)
    assert.deepEqual(approved.body, { applied: 5 })
    for (const id of employees) assert.equal(await statusOf(s, id), 'terminated')
  })

  it('termination_limit=0 switches the safeguard off', async () => {
    const { pluginId, employees } = await destinationWith(s, { termination_limit: '0' }, 22)
    for (const id of employees)
      assert.equal((await hr(s.app, s.acme, pluginId, 'deleteuser', { employee_id: id })).statusCode, 200)
  })

  it('a repeated termination of a terminated user is not counted, and an unknown employee is still 400', async () => {
    const { pluginId, employees } = await destinationWith(s, { termination_limit: '1' }, 2)
    for (let i = 0; i < 3; i++)
      assert.equal(
        (await hr(s.app, s.acme, pluginId, 'deleteuser', { employee_id: employees[0] })).statusCode,
        200,
      )
    const unknown = await hr(s.app, s.acme, pluginId, 'deleteuser', { employee_id: 'NOBODY' })
    assert.equal(unknown.statusCode, 400)
    assert.deepEqual(unknown.json(), { error: 'User not found in the OptimalCloud' })
    assert.equal(
      (await hr(s.app, s.acme, pluginId, 'deleteuser', { employee_id: employees[1] })).statusCode,
      202,
    )
  })

  it("any vendor's terminate is held: a Paylocity Termination", async () => {
    const { plugin_id: pluginId } = await createDestination(s.services, s.acme.tenant, {
      type: 'paylocity',
      name: 'Payroll',
      settings: { termination_limit: '1' },
    })
    for (const id of ['P1', 'P2']) {
      const hire = {
        ...fixture('paylocity-new-hire.json'),
        employeeId: id,
        employeeWorkEMailAddress: `${id}@acme.example.com`,
      }
      assert.equal((await hr(s.app, s.acme, pluginId, 'adduser', hire)).statusCode, 201)
    }
    const termination = (id: string) => ({ ...fixture('paylocity-termination.json'), employeeId: id })
    assert.equal((await hr(s.app, s.acme, pluginId, 'deleteuser', termination('P1'))).statusCode, 200)
    const held = await hr(s.app, s.acme, pluginId, 'deleteuser', termination('P2'))
    assert.equal(held.statusCode, 202, held.body)
    assert.deepEqual(held.json(), { held: true })
    assert.deepEqual(
      (await holdsOf(s, pluginId)).map((h) => h.employee_id),
      ['P2'],
    )
  })

  it('a modify that terminates (an HR status such as Paylocity T) is applied, never held, and counted in the hour', async () => {
    const { pluginId, employees } = await destinationWith(s, { termination_limit: '1' }, 3)
    const target = {
      tenantId: s.acme.tenant.id,
      destinationId: pluginId,
      loginId: 'email' as const,
      terminationLimit: 1,
    }
    const ref = (id: string | undefined) => ({ employeeId: id ?? '', companyId: '' })
    const [first] = await applyHrCommands(s.services.database, target, [
      { kind: 'modify', command: { ref: ref(employees[0]), terminate: true } },
    ])
    assert.equal(first?.user.status, 'terminated')
    // Over the limit, a status-terminating modify still applies (modifies are never held)...
    const [second] = await applyHrCommands(s.services.database, target, [
      { kind: 'modify', command: { ref: ref(employees[1]), terminate: true } },
    ])
    assert.equal(second?.user.status, 'terminated')
    // ...and both count: the next deleteuser is held.
    assert.equal(
      (await hr(s.app, s.acme, pluginId, 'deleteuser', { employee_id: employees[2] })).statusCode,
      202,
    )
  })

  it('two terminations at the limit at once: exactly the limit pass, the rest are held', async () => {
    const { pluginId, employees } = await destinationWith(s, { termination_limit: '4' }, 10)
    const answers = await Promise.all(
      employees.map((id) => hr(s.app, s.acme, pluginId, 'deleteuser', { employee_id: id })),
    )
    const statuses = answers.map((a) => a.statusCode).sort()
    assert.deepEqual(
      statuses,
      [...Array(4).fill(200), ...Array(6).fill(202)],
      answers.map((a) => a.body).join('\n'),
    )
    const terminated = (await userRows(s.db, s.acme.tenant.id)).filter(
      (u) => u.destination_id === pluginId && u.status === 'terminated',
    )
    assert.equal(terminated.length, 4)
    assert.equal((await holdsOf(s, pluginId)).length, 6)
  })

  it('bad termination_limit and mode values are refused when set', async () => {
    for (const settings of [
      { termination_limit: 'many' },
      { termination_limit: '-1' },
      { termination_limit: '1.5' },
      { mode: 'maybe' },
    ]) {
      const res = await as(s.app, s.acme, 'POST', '/destinations', {
        type: 'generic-hr',
        name: 'Bad',
        settings,
      })
      assert.equal(res.status, 400, JSON.stringify(settings))
      assert.match((res.body as { error: string }).error, /termination_limit|mode/)
    }
    const ok = await as<{ settings: Record<string, string> }>(s.app, s.acme, 'POST', '/destinations', {
      type: 'generic-hr',
      name: 'Good',
      settings: { termination_limit: '5', mode: 'dry-run' },
    })
    assert.equal(ok.status, 201, ok.raw)
    assert.equal(ok.body.settings.termination_limit, '5')
    assert.equal(ok.body.settings.mode, 'dry-run')
  })

  it("another tenant's key neither sees nor decides a destination's held changes; an unknown destination is 404", async () => {
    const { pluginId, employees } = await destinationWith(s, { termination_limit: '1' }, 2)
    for (const id of employees) await hr(s.app, s.acme, pluginId, 'deleteuser', { employee_id: id })
    assert.deepEqual(await holdsOf(s, pluginId, s.other), [])
    for (const decision of ['approve', 'reject']) {
      const res = await as(s.app, s.other, 'POST', `/destinations/${pluginId}/holds/${decision}`)
      assert.equal(res.status, 404, res.raw)
      assert.deepEqual(res.body, { error: 'Provisioning destination not found' })
    }
    // acme's key on other's host is refused as bad credentials.
    const crossed = await mgmt(s.app, 'POST', `/destinations/${pluginId}/holds/approve`, {
      host: s.other.host,
      auth: `Bearer ${s.acme.key}`,
    })
    assert.equal(crossed.statusCode, 401)
    assert.equal((await holdsOf(s, pluginId)).length, 1)
    assert.equal(await statusOf(s, employees[1] as string), 'active')
    const unknown = await as(
      s.app,
      s.acme,
      'POST',
      '/destinations/NoSuchDestination0000000000000/holds/approve',
    )
    assert.equal(unknown.status, 404)
  })

  it('GET /holds pages with a Link header', async () => {
    const { pluginId, employees } = await destinationWith(s, { termination_limit: '1' }, 4)
    for (const id of employees) await hr(s.app, s.acme, pluginId, 'deleteuser', { employee_id: id })
    const first = await mgmt(s.app, 'GET', '/holds?limit=2', {
      host: s.acme.host,
      auth: `Bearer ${s.acme.key}`,
    })
    assert.equal(first.statusCode, 200)
    assert.equal(first.json().length, 2)
    const link = String(first.headers.link)
    const next = /<([^>]+)>; rel="next"/.exec(link)?.[1]
    assert.ok(next !== undefined, link)
    const second = await s.app.inject({
      method: 'GET',
      url: next,
      headers: { host: s.acme.host, authorization: `Bearer ${s.acme.key}` },
    })
    assert.equal(second.statusCode, 200)
    const ids = [...first.json(), ...second.json()].map((h: Hold) => h.id)
    assert.equal(new Set(ids).size, ids.length)
  })

  it("GET /holds?destination= lists only that destination's held changes; unknown or foreign ones list none; abusive values are 400", async () => {
    const one = await destinationWith(s, { termination_limit: '1' }, 3)
    const two = await destinationWith(s, { termination_limit: '1' }, 2)
    const foreign = await destinationWith(s, { termination_limit: '1' }, 2, s.other)
    for (const { pluginId, employees } of [one, two])
      for (const id of employees) await hr(s.app, s.acme, pluginId, 'deleteuser', { employee_id: id })
    for (const id of foreign.employees)
      await hr(s.app, s.other, foreign.pluginId, 'deleteuser', { employee_id: id })
    const list = async (query: string, tenant: SeededTenant = s.acme) => {
      const res = await as<Hold[]>(s.app, tenant, 'GET', `/holds?${query}`)
      return { status: res.status, body: res.body, raw: res.raw }
    }

    const ofOne = await list(`destination=${one.pluginId}`)
    assert.equal(ofOne.status, 200, ofOne.raw)
    assert.deepEqual(
      ofOne.body.map((h) => [h.plugin_id, h.employee_id]),
      one.employees.slice(1).map((id) => [one.pluginId, id]),
    )
    const ofTwo = await list(`destination=${two.pluginId}&limit=1`)
    assert.deepEqual(
      ofTwo.body.map((h) => [h.plugin_id, h.employee_id]),
      [[two.pluginId, two.employees[1]]],
    )
    // A filter, not a lookup: another tenant's destination and an unknown one list nothing.
    assert.deepEqual((await list(`destination=${foreign.pluginId}`)).body, [])
    assert.deepEqual((await list('destination=NoSuchDestination0000000000000')).body, [])
    assert.equal((await list(`destination=${foreign.pluginId}`, s.other)).body.length, 1)

    for (const bad of ['destination=%00', `destination=${'x'.repeat(201)}`, 'destination=a&destination=b']) {
      const res = await list(bad)
      assert.equal(res.status, 400, `${bad}: ${res.raw}`)
      assert.match(res.raw, /"error"/)
    }
  })
})

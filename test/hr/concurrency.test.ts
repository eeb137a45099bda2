/** HR webhooks under concurrency: simultaneous new hires make one user, a modify never undoes a termination. */
import assert from 'node:assert/strict'
import { before, it } from 'node:test'
import { createDestination } from '../../src/directory/destinations.js'
import { onEachDatabase } from '../helpers/suite.js'
import { hr, userRows } from './hr-helpers.js'

const PARALLEL = 8

onEachDatabase('HR webhooks under concurrency', { tenants: ['acme'] }, (s) => {
  let plugin: string
  before(async () => {
    plugin = (await createDestination(s.services, s.acme.tenant, { type: 'generic-hr', name: 'HR' }))
      .plugin_id
  })

  const usersOf = async (employeeId: string) =>
    (await userRows(s.db, s.acme.tenant.id)).filter((u) => u.employee_id === employeeId)

  it('simultaneous adduser calls for one new employee make one user: one 201, the others 200', async () => {
    const body = {
      employee_id: 'RACE-1',
      first_name: 'Ada',
      last_name: 'L',
      email: 'race1@acme.example.com',
    }
    const answers = await Promise.all(
      Array.from({ length: PARALLEL }, () => hr(s.app, s.acme, plugin, 'adduser', body)),
    )
    const statuses = answers.map((a) => a.statusCode).sort((a, b) => a - b)
    assert.deepEqual(statuses, [...Array(PARALLEL - 1).fill(200), 201], answers.map((a) => a.body).join('\n'))
    const ids = new Set(answers.map((a) => a.json().user.id))
    assert.equal(ids.size, 1)
    assert.equal((await usersOf('RACE-1')).length, 1)
  })

  it('simultaneous new employees with one email: one is created, the others fail as a clash', async () => {
    const answers = await Promise.all(
      Array.from({ length: PARALLEL }, (_, i) =>
        hr(s.app, s.acme, plugin, 'adduser', {
          employee_id: `CLASH-${i}`,
          first_name: 'Same',
          last_name: 'Mail',
          email: 'same@acme.example.com',
        }),
      ),
    )
    const created = answers.filter((a) => a.statusCode === 201)
    const failed = answers.filter((a) => a.statusCode === 400)
    assert.equal(created.length, 1, answers.map((a) => a.body).join('\n'))
    assert.equal(failed.length, PARALLEL - 1)
    for (const answer of failed)
      assert.deepEqual(answer.json(), { error: 'Failed to create user in the OptimalCloud' })
    const holders = (await userRows(s.db, s.acme.tenant.id)).filter(
      (u) => u.email_key === 'same@acme.example.com',
    )
    assert.equal(holders.length, 1)
  })

  it('simultaneous calls with one Idempotency-Key make one user and give every caller the same answer', async () => {
    const body = { employee_id: 'IDEM-1', first_name: 'I', last_name: 'K', email: 'idem1@acme.example.com' }
    const headers = { 'idempotency-key': 'race-key-1' }
    const answers = await Promise.all(
      Array.from({ length: PARALLEL }, () => hr(s.app, s.acme, plugin, 'adduser', body, { headers })),
    )
    const ids = new Set(answers.map((a) => a.json().user.id))
    assert.equal(ids.size, 1, answers.map((a) => a.body).join('\n'))
    assert.equal(answers.filter((a) => a.statusCode === 201).length >= 1, true)
    assert.equal((await usersOf('IDEM-1')).length, 1)
  })

  it('a modify racing a terminate never resurrects the user', async () => {
    for (let round = 0; round < 10; round++) {
      const employee = `MT-${round}`
      const created = await hr(s.app, s.acme, plugin, 'adduser', {
        employee_id: employee,
        first_name: 'M',
        last_name: 'T',
        email: `mt${round}@acme.example.com`,
      })
      assert.equal(created.statusCode, 201)
      const calls = [
        hr(s.app, s.acme, plugin, 'modifyuser', {
          employee_id: employee,
          first_name: `Renamed${round}`,
          mobile: '1',
        }),
        hr(s.app, s.acme, plugin, 'deleteuser', { employee_id: employee }),
        hr(s.app, s.acme, plugin, 'modifyuser', { employee_id: employee, display_name: 'X' }),
      ]
      if (round % 2 === 1) calls.reverse()
      const answers = await Promise.all(calls)
      for (const answer of answers) assert.equal(answer.statusCode, 200, answer.body)
      const [row] = await usersOf(employee)
      assert.equal(row?.status, 'terminated', `round ${round}`)
      assert.equal(row?.first_name, `Renamed${round}`, 'the modify landed too')
    }
  })
})

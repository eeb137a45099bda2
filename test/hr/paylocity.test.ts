/** Paylocity destinations: New Hire, Employee Change (with and without the Weblink API) and Termination bodies. */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { createDestination } from '../../src/directory/destinations.js'
import { type FakePaylocity, startFakePaylocity, weblinkEmployeeFixture } from '../fakes/fake-paylocity.js'
import { onEachDatabase } from '../helpers/suite.js'
import { fixture, hr, lastDelivery, USER_KEYS, userRow, userRows } from './hr-helpers.js'

let sequence = 0
/** A New Hire body as Paylocity sends it, for an employee nobody has used yet. */
function newHire(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  sequence += 1
  return {
    ...fixture('paylocity-new-hire.json'),
    employeeId: `P${sequence}`,
    employeeWorkEMailAddress: `p${sequence}@work.example.com`,
    ...overrides,
  }
}

// The fake listens on 127.0.0.1: the operator's allow-private setting is the only way to reach it.
onEachDatabase('Paylocity webhooks', { tenants: ['acme'], config: { allowPrivateConnectors: true } }, (s) => {
  let fake: FakePaylocity
  /** Without API settings. */
  let plain: string
  /** With API settings pointing at the fake. */
  let api: string
  before(async () => {
    fake = await startFakePaylocity()
    plain = (await createDestination(s.services, s.acme.tenant, { type: 'paylocity', name: 'Paylocity' }))
      .plugin_id
    api = (
      await createDestination(s.services, s.acme.tenant, {
        type: 'paylocity',
        name: 'Paylocity API',
        settings: {
          client_id: fake.clientId,
          client_secret: fake.clientSecret,
          token_url: fake.tokenUrl,
          api_base_url: fake.apiBaseUrl,
        },
      })
    ).plugin_id
  })
  after(async () => {
    await fake?.close()
  })

  describe('New Hire → adduser', () => {
    it('creates the user from the documented body; companyId is kept with the link', async () => {
      const res = await hr(s.app, s.acme, plain, 'adduser', fixture('paylocity-new-hire.json'))
      assert.equal(res.statusCode, 201, res.body)
      const { user } = res.json()
      assert.deepEqual(Object.keys(user).sort(), USER_KEYS)
      assert.equal(user.employee_id, '12345')
      assert.equal(user.first_name, 'Jane')
      assert.equal(user.last_name, 'Doe')
      assert.equal(user.display_name, 'Jane Doe')
      assert.equal(user.email, 'jdoe@work.com')
      assert.equal(user.login_id, 'jdoe@work.com')
      assert.equal(user.mobile, '(800) 555-1212')
      assert.equal(user.status, 'active')
      const row = await userRow(s.db, s.acme.tenant.id, user.id)
      assert.equal(row?.company_id, 'C01')
      assert.equal(row?.destination_id, plain)
    })

    it('employeeId is unique only within a company: the same id in another company is another user', async () => {
      const a = await hr(s.app, s.acme, plain, 'adduser', newHire({ employeeId: 'DUP', companyId: 'C01' }))
      const b = await hr(s.app, s.acme, plain, 'adduser', newHire({ employeeId: 'DUP', companyId: 'C02' }))
      assert.equal(a.statusCode, 201, a.body)
      assert.equal(b.statusCode, 201, b.body)
      assert.notEqual(a.json().user.id, b.json().user.id)
      const again = await hr(
        s.app,
        s.acme,
        plain,
        'adduser',
        newHire({ employeeId: 'DUP', companyId: 'C02', employeeWorkEMailAddress: b.json().user.email }),
      )
      assert.equal(again.statusCode, 200)
      assert.equal(again.json().user.id, b.json().user.id)
    })

    it('null fields are read as absent; a null employeeWorkPhone leaves no mobile', async () => {
      const res = await hr(
        s.app,
        s.acme,
        plain,
        'adduser',
        newHire({ employeeWorkPhone: null, employeeSupervisor: null }),
      )
      assert.equal(res.statusCode, 201, res.body)
      assert.equal(res.json().user.mobile, null)
    })

    it('answers with the generic messages, in the generic order', async () => {
      const before = (await userRows(s.db, s.acme.tenant.id)).length
      const cases: Array<[Record<string, unknown>, string]> = [
        [{ ...newHire(), employeeId: undefined }, 'employee_id is a required field'],
        [{ ...newHire(), employeeId: null }, 'employee_id is a required field'],
        [{ ...newHire(), employeeId: 12345 }, 'employee_id must be a string'],
        [{ ...newHire(), employeeFirstName: undefined }, 'first_name is a required field'],
        [{ ...newHire(), employeeLastName: '  ' }, 'last_name is a required field'],
        [{ ...newHire(), employeeWorkEMailAddress: null }, 'email is a required field'],
        [{ ...newHire(), employeeWorkEMailAddress: 'jdoe' }, 'email must be a valid email address'],
        [{ ...newHire(), employeeWorkPhone: 8005551212 }, 'mobile must be a string'],
        [{ ...newHire(), companyId: { id: 1 } }, 'companyId must be a string'],
        [{ companyId: 'C01' }, 'employee_id is a required field'],
      ]
      for (const [body, message] of cases) {
        const res = await hr(s.app, s.acme, plain, 'adduser', body)
        assert.equal(res.statusCode, 400, `${message}: ${res.body}`)
        assert.deepEqual(res.json(), { error: message })
      }
      assert.equal((await userRows(s.db, s.acme.tenant.id)).length, before)
    })

    it('accepts the generic fields too', async () => {
      const res = await hr(s.app, s.acme, plain, 'adduser', {
        employee_id: 'G-1',
        first_name: 'Gen',
        last_name: 'Eric',
        email: 'gen.eric@work.example.com',
        display_name: 'G.E.',
        companyId: 'C01',
      })
      assert.equal(res.statusCode, 201, res.body)
      assert.equal(res.json().user.display_name, 'G.E.')
    })
  })

  describe('Employee Change → modifyuser without API settings', () => {
    it('applies the fields present in the body; ids alone change nothing', async () => {
      const hire = newHire()
      const created = (await hr(s.app, s.acme, plain, 'adduser', hire)).json().user
      const idsOnly = await hr(s.app, s.acme, plain, 'modifyuser', {
        companyId: hire.companyId,
        employeeId: hire.employeeId,
      })
      assert.equal(idsOnly.statusCode, 200, idsOnly.body)
      assert.deepEqual(idsOnly.json().user, created)
      const res = await hr(s.app, s.acme, plain, 'modifyuser', {
        companyId: hire.companyId,
        employeeId: hire.employeeId,
        employeeLastName: 'Smith',
        employeeWorkPhone: null,
      })
      assert.equal(res.statusCode, 200, res.body)
      assert.equal(res.json().user.last_name, 'Smith')
      assert.equal(res.json().user.display_name, 'Jane Smith')
      assert.equal(res.json().user.mobile, null)
    })

    it('unknown employee (or known only in another company): User not found', async () => {
      const hire = newHire()
      await hr(s.app, s.acme, plain, 'adduser', hire)
      for (const body of [
        { ...fixture('paylocity-employee-change.json'), employeeId: 'NOBODY' },
        { companyId: 'OTHER', employeeId: hire.employeeId },
      ]) {
        const res = await hr(s.app, s.acme, plain, 'modifyuser', body)
        assert.equal(res.statusCode, 400)
        assert.deepEqual(res.json(), { error: 'User not found in the OptimalCloud' })
      }
      const missing = await hr(s.app, s.acme, plain, 'modifyuser', { companyId: 'C01' })
      assert.deepEqual(missing.json(), { error: 'employee_id is a required field' })
    })
  })

  describe('Employee Change → modifyuser with the Weblink API', () => {
    it('fetches the employee and maps names, preferred name, work email and mobile', async () => {
      const hire = newHire({ companyId: 'C01', employeeId: 'W1' })
      const created = (await hr(s.app, s.acme, api, 'adduser', hire)).json().user
      fake.setEmployee('C01', 'W1', {
        ...weblinkEmployeeFixture(),
        employeeId: 'W1',
        workAddress: { emailAddress: 'w1@work.example.com' },
      })
      const tokensBefore = fake.tokenRequests()
      const res = await hr(s.app, s.acme, api, 'modifyuser', { companyId: 'C01', employeeId: 'W1' })
      assert.equal(res.statusCode, 200, res.body)
      const { user } = res.json()
      assert.equal(user.id, created.id)
      assert.equal(user.first_name, 'Jane')
      assert.equal(user.last_name, 'Doe')
      assert.equal(user.display_name, 'Janie Doe')
      assert.equal(user.email, 'w1@work.example.com')
      assert.equal(user.login_id, 'w1@work.example.com')
      assert.equal(user.mobile, '3125550100')
      assert.equal(user.status, 'active')
      const last = fake.requests.at(-1)
      assert.equal(last?.path, '/api/v2/companies/C01/employees/W1')
      // The token is cached: a second change asks for none.
      const again = await hr(s.app, s.acme, api, 'modifyuser', { companyId: 'C01', employeeId: 'W1' })
      assert.equal(again.statusCode, 200)
      assert.ok(fake.tokenRequests() - tokensBefore <= 1)
    })

    it('employeeStatus T terminates the user', async () => {
      const hire = newHire({ companyId: 'C01', employeeId: 'W2' })
      await hr(s.app, s.acme, api, 'adduser', hire)
      const employee = weblinkEmployeeFixture()
      fake.setEmployee('C01', 'W2', {
        ...employee,
        workAddress: { emailAddress: hire.employeeWorkEMailAddress },
        status: { employeeStatus: 'T' },
      })
      const res = await hr(s.app, s.acme, api, 'modifyuser', { companyId: 'C01', employeeId: 'W2' })
      assert.equal(res.statusCode, 200, res.body)
      assert.equal(res.json().user.status, 'terminated')
    })

    it('looks the user up first: an unknown employee costs no call to Paylocity', async () => {
      const before = fake.requests.length
      const res = await hr(s.app, s.acme, api, 'modifyuser', { companyId: 'C01', employeeId: 'NOBODY' })
      assert.equal(res.statusCode, 400)
      assert.deepEqual(res.json(), { error: 'User not found in the OptimalCloud' })
      assert.equal(fake.requests.length, before)
    })

    it('Paylocity 404 and repeated 5xx: 400 Failed to fetch the employee, the reason in the log, nothing changed', async () => {
      const hire = newHire({ companyId: 'C01', employeeId: 'W3' })
      const created = (await hr(s.app, s.acme, api, 'adduser', hire)).json().user
      const notThere = await hr(s.app, s.acme, api, 'modifyuser', { companyId: 'C01', employeeId: 'W3' })
      assert.equal(notThere.statusCode, 400)
      assert.deepEqual(notThere.json(), { error: 'Failed to fetch the employee from Paylocity' })
      const entry = await lastDelivery(s.db, s.acme.tenant.id)
      assert.equal(entry.endpoint, 'modifyuser')
      assert.equal(entry.destination_id, api)
      assert.match(entry.reason ?? '', /Paylocity answered 404/)

      fake.setEmployee('C01', 'W3', weblinkEmployeeFixture())
      fake.failNext(2, 503)
      const down = await hr(s.app, s.acme, api, 'modifyuser', { companyId: 'C01', employeeId: 'W3' })
      assert.equal(down.statusCode, 400)
      assert.deepEqual(down.json(), { error: 'Failed to fetch the employee from Paylocity' })
      assert.match((await lastDelivery(s.db, s.acme.tenant.id)).reason ?? '', /Paylocity answered 503/)
      const row = await userRow(s.db, s.acme.tenant.id, created.id)
      assert.equal(row?.updated_at, created.updated_at)
    })

    it('a single 5xx is retried and a revoked token refreshed, so the change lands', async () => {
      const hire = newHire({ companyId: 'C01', employeeId: 'W4' })
      await hr(s.app, s.acme, api, 'adduser', hire)
      fake.setEmployee('C01', 'W4', {
        ...weblinkEmployeeFixture(),
        workAddress: { emailAddress: hire.employeeWorkEMailAddress },
      })
      fake.failNext(1, 500)
      const retried = await hr(s.app, s.acme, api, 'modifyuser', { companyId: 'C01', employeeId: 'W4' })
      assert.equal(retried.statusCode, 200, retried.body)
      fake.revokeTokens()
      const refreshed = await hr(s.app, s.acme, api, 'modifyuser', { companyId: 'C01', employeeId: 'W4' })
      assert.equal(refreshed.statusCode, 200, refreshed.body)
      assert.equal(refreshed.json().user.display_name, 'Janie Doe')
    })

    it('wrong API credentials: 400 Failed to fetch, and the secret appears nowhere', async () => {
      const wrongSecret = 'wrong+secret/value=='
      const wrong = await createDestination(s.services, s.acme.tenant, {
        type: 'paylocity',
        name: 'wrong',
        settings: {
          client_id: fake.clientId,
          client_secret: wrongSecret,
          token_url: fake.tokenUrl,
          api_base_url: fake.apiBaseUrl,
        },
      })
      const hire = newHire({ companyId: 'C01', employeeId: 'W5' })
      await hr(s.app, s.acme, wrong.plugin_id, 'adduser', hire)
      const res = await hr(s.app, s.acme, wrong.plugin_id, 'modifyuser', {
        companyId: 'C01',
        employeeId: 'W5',
      })
      assert.equal(res.statusCode, 400)
      assert.deepEqual(res.json(), { error: 'Failed to fetch the employee from Paylocity' })
      assert.match((await lastDelivery(s.db, s.acme.tenant.id)).reason ?? '', /token endpoint answered 400/)
      const everything = JSON.stringify([
        await s.db.selectFrom('deliveries').selectAll().execute(),
        await s.db.selectFrom('destinations').selectAll().execute(),
      ])
      assert.ok(!everything.includes(wrongSecret))
      assert.ok(!everything.includes(fake.clientSecret))
      for (const token of fake.issuedTokens) assert.ok(!everything.includes(token))
    })
  })

  describe('Termination → deleteuser', () => {
    it('terminates from the documented body; a repeat changes nothing; unknown is User not found', async () => {
      const hire = newHire({ companyId: 'C01', employeeId: 'T1' })
      const created = (await hr(s.app, s.acme, plain, 'adduser', hire)).json().user
      const termination = { ...fixture('paylocity-termination.json'), employeeId: 'T1' }
      const res = await hr(s.app, s.acme, plain, 'deleteuser', termination)
      assert.equal(res.statusCode, 200, res.body)
      assert.equal(res.json().user.id, created.id)
      assert.equal(res.json().user.status, 'terminated')
      assert.equal(res.json().user.first_name, created.first_name, 'other fields are ignored')
      const repeat = await hr(s.app, s.acme, plain, 'deleteuser', termination)
      assert.deepEqual(repeat.json(), res.json())
      const unknown = await hr(s.app, s.acme, plain, 'deleteuser', { ...termination, employeeId: 'NOBODY' })
      assert.equal(unknown.statusCode, 400)
      assert.deepEqual(unknown.json(), { error: 'User not found in the OptimalCloud' })
      const missing = await hr(s.app, s.acme, plain, 'deleteuser', { companyId: 'C01' })
      assert.deepEqual(missing.json(), { error: 'employee_id is a required field' })
    })

    it('a re-hire (New Hire again) reactivates the terminated user', async () => {
      const hire = newHire({ companyId: 'C01', employeeId: 'T2' })
      await hr(s.app, s.acme, plain, 'adduser', hire)
      await hr(s.app, s.acme, plain, 'deleteuser', { companyId: 'C01', employeeId: 'T2' })
      const res = await hr(s.app, s.acme, plain, 'adduser', hire)
      assert.equal(res.statusCode, 200)
      assert.equal(res.json().user.status, 'active')
    })
  })
})

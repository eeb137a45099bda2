/** The Generic HR webhooks: adduser, modifyuser, deleteuser, their errors, the user object, the log. */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { createDestination } from '../../src/directory/destinations.js'
import { createUser, setUserStatus } from '../../src/directory/users.js'
import { DIALECTS, postgresAvailable } from '../helpers/databases.js'
import { sleep } from '../helpers/rows.js'
import {
  post,
  SERVICE_PASSWORD,
  type SeededTenant,
  seedTenant,
  startTestApp,
  type TestApp,
  TICKETS,
} from '../helpers/test-app.js'
import { fixture, hr, lastDelivery, USER_KEYS, userRow, userRows } from './hr-helpers.js'

const pgUp = await postgresAvailable()

let sequence = 0
/** A Generic HR body for a new employee nobody has used yet. */
function newEmployee(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  sequence += 1
  return {
    employee_id: `E${sequence}`,
    first_name: 'Ada',
    last_name: `Lovelace${sequence}`,
    email: `ada${sequence}@acme.example.com`,
    ...overrides,
  }
}

for (const dialect of DIALECTS) {
  describe(`Generic HR webhooks (${dialect})`, {
    skip: dialect === 'postgres' && !pgUp && 'no PostgreSQL',
  }, () => {
    let t: TestApp
    let acme: SeededTenant
    let other: SeededTenant
    let plugin: string
    before(async () => {
      // A short re-check so "stops working within 5 s" is observable quickly.
      t = await startTestApp(dialect, { credentialRecheckMs: 100 })
      acme = await seedTenant(t.services, 'acme')
      other = await seedTenant(t.services, 'other')
      plugin = (await createDestination(t.services, acme.tenant, { type: 'generic-hr', name: 'HR' }))
        .plugin_id
    })
    after(() => t.close())

    const db = () => t.services.database.db

    describe('adduser', () => {
      it('creates an active user from the documented body: 201 {"user":{...}} exactly as documented', async () => {
        const body = fixture('generic-hr-adduser.json')
        const res = await hr(t.app, acme, plugin, 'adduser', body)
        assert.equal(res.statusCode, 201, res.body)
        const { user } = res.json()
        assert.deepEqual(Object.keys(res.json()), ['user'])
        assert.deepEqual(Object.keys(user).sort(), USER_KEYS)
        assert.match(user.id, /^usr_/)
        assert.deepEqual(
          { ...user, id: undefined, created_at: undefined, updated_at: undefined },
          {
            id: undefined,
            login_id: 'john.doe@example.com',
            email: 'john.doe@example.com',
            first_name: 'John',
            last_name: 'Doe',
            display_name: 'John Doe',
            mobile: '+1 555 0100',
            employee_id: '1111',
            status: 'active',
            created_at: undefined,
            updated_at: undefined,
          },
        )
        assert.ok(!Number.isNaN(Date.parse(user.created_at)))
        assert.equal(user.created_at, user.updated_at)
        const row = await userRow(db(), acme.tenant.id, user.id)
        assert.equal(row?.destination_id, plugin)
        assert.equal(row?.company_id, '')
        assert.equal(row?.is_service_account, 0)
      })

      it('accepts a service account (Basic) as well as an API key', async () => {
        const res = await hr(t.app, acme, plugin, 'adduser', newEmployee(), { auth: acme.basic })
        assert.equal(res.statusCode, 201, res.body)
      })

      it('defaults display_name to "first_name last_name" and mobile to null; trims values', async () => {
        const body = newEmployee({ first_name: '  Grace ', last_name: ' Hopper  ' })
        const res = await hr(t.app, acme, plugin, 'adduser', body)
        assert.equal(res.statusCode, 201, res.body)
        const { user } = res.json()
        assert.equal(user.display_name, 'Grace Hopper')
        assert.equal(user.first_name, 'Grace')
        assert.equal(user.mobile, null)
      })

      it('checks the required fields in order, with the exact messages, and creates nothing', async () => {
        const before = (await userRows(db(), acme.tenant.id)).length
        const full = { employee_id: 'R1', first_name: 'A', last_name: 'B', email: 'r1@acme.example.com' }
        const cases: Array<[Record<string, unknown>, string]> = [
          [{}, 'employee_id is a required field'],
          [{ ...full, employee_id: null }, 'employee_id is a required field'],
          [{ ...full, employee_id: '   ' }, 'employee_id is a required field'],
          [{ ...full, employee_id: 1111 }, 'employee_id must be a string'],
          [{ employee_id: 'R1' }, 'first_name is a required field'],
          [{ ...full, first_name: '' }, 'first_name is a required field'],
          [{ ...full, first_name: ['A'] }, 'first_name must be a string'],
          [{ employee_id: 'R1', first_name: 'A' }, 'last_name is a required field'],
          [{ ...full, last_name: false }, 'last_name must be a string'],
          [{ employee_id: 'R1', first_name: 'A', last_name: 'B' }, 'email is a required field'],
          [{ ...full, email: { a: 1 } }, 'email must be a string'],
          // Missing beats "not a string" of a later field: first failure in order wins.
          [{ first_name: 5, email: 'x' }, 'employee_id is a required field'],
          [{ ...full, mobile: 5551234 }, 'mobile must be a string'],
          [{ ...full, display_name: { first: 'A' } }, 'display_name must be a string'],
          [{ ...full, email: 'John' }, 'email must be a valid email address'],
          [{ ...full, email: 'a b@acme.example.com' }, 'email must be a valid email address'],
          [{ ...full, email: 'a@b' }, 'email must be a valid email address'],
        ]
        for (const [body, message] of cases) {
          const res = await hr(t.app, acme, plugin, 'adduser', body)
          assert.equal(res.statusCode, 400, `${JSON.stringify(body)}: ${res.body}`)
          assert.deepEqual(res.json(), { error: message }, JSON.stringify(body))
        }
        for (const raw of ['{"employee_id":', '[1,2]', '"text"', 'null', '']) {
          const res = await hr(t.app, acme, plugin, 'adduser', undefined, { raw })
          assert.equal(res.statusCode, 400, raw)
          assert.deepEqual(res.json(), { error: 'Request body must be a JSON object' })
        }
        assert.equal((await userRows(db(), acme.tenant.id)).length, before)
      })

      it('ignores fields it does not know, whatever their JSON', async () => {
        const res = await hr(
          t.app,
          acme,
          plugin,
          'adduser',
          newEmployee({ department: { id: 7 }, tags: [1, 2] }),
        )
        assert.equal(res.statusCode, 201, res.body)
      })

      it('for a known employee: updates with the given fields and answers 200 with the same user', async () => {
        const body = newEmployee({ mobile: '111' })
        const first = (await hr(t.app, acme, plugin, 'adduser', body)).json().user
        const res = await hr(t.app, acme, plugin, 'adduser', {
          ...body,
          last_name: 'King',
          email: 'ada.king@acme.example.com',
        })
        assert.equal(res.statusCode, 200, res.body)
        const { user } = res.json()
        assert.equal(user.id, first.id)
        assert.equal(user.last_name, 'King')
        assert.equal(user.display_name, 'Ada King', 'a defaulted display name follows the names')
        assert.equal(user.email, 'ada.king@acme.example.com')
        assert.equal(user.login_id, 'ada.king@acme.example.com')
        assert.equal(user.mobile, '111', 'absent mobile is left alone')
        assert.equal(user.created_at, first.created_at)
        assert.ok(user.updated_at >= first.updated_at)
      })

      it('an exact repeat changes nothing (updated_at stays)', async () => {
        const body = newEmployee()
        const first = (await hr(t.app, acme, plugin, 'adduser', body)).json().user
        await sleep(5)
        const res = await hr(t.app, acme, plugin, 'adduser', body)
        assert.equal(res.statusCode, 200)
        assert.deepEqual(res.json().user, first)
      })

      // On PostgreSQL a first attempt inserts without reading (most adduser calls are new hires); a
      // repeat or a clash fails that insert and the call runs again. The failed attempt leaves nothing.
      it('a repeat, a change and a clash each leave one log entry and only their own history', async () => {
        const body = newEmployee()
        const count = async (table: 'deliveries' | 'user_history') =>
          Number(
            (
              await db()
                .selectFrom(table)
                .select((eb) => eb.fn.countAll().as('n'))
                .where('tenant_id', '=', acme.tenant.id)
                .executeTakeFirstOrThrow()
            ).n,
          )
        const created = await hr(t.app, acme, plugin, 'adduser', body)
        assert.equal(created.statusCode, 201, created.body)
        const id = created.json().user.id
        const [deliveries, history] = [await count('deliveries'), await count('user_history')]

        assert.equal((await hr(t.app, acme, plugin, 'adduser', body)).statusCode, 200)
        assert.equal(
          (await hr(t.app, acme, plugin, 'adduser', { ...body, mobile: '+1 555 0101' })).statusCode,
          200,
        )
        const taken = await hr(t.app, acme, plugin, 'adduser', newEmployee({ email: body.email }))
        assert.equal(taken.statusCode, 400)

        assert.equal(await count('deliveries'), deliveries + 3, 'one entry per call')
        assert.equal(await count('user_history'), history + 1, 'only the mobile change is history')
        const rows = await db()
          .selectFrom('user_history')
          .select(['user_id', 'action', 'changes'])
          .where('tenant_id', '=', acme.tenant.id)
          .orderBy('id', 'desc')
          .limit(1)
          .execute()
        assert.deepEqual(rows, [
          {
            user_id: id,
            action: 'updated',
            changes: JSON.stringify({ mobile: { before: null, after: '+1 555 0101' } }),
          },
        ])
        const entry = await lastDelivery(db(), acme.tenant.id)
        assert.equal(entry.status_code, 400)
        assert.match(entry.reason ?? '', /^email .* already belongs to another user/)
      })

      it('reactivates a terminated user (200), but leaves an account an administrator disabled alone', async () => {
        const body = newEmployee()
        const created = (await hr(t.app, acme, plugin, 'adduser', body)).json().user
        assert.equal(
          (await hr(t.app, acme, plugin, 'deleteuser', { employee_id: body.employee_id })).json().user.status,
          'terminated',
        )
        const back = await hr(t.app, acme, plugin, 'adduser', body)
        assert.equal(back.statusCode, 200, back.body)
        assert.equal(back.json().user.status, 'active')
        assert.equal(back.json().user.id, created.id)

        await setUserStatus(t.services.database, acme.tenant.id, created.id, 'disabled')
        const again = await hr(t.app, acme, plugin, 'adduser', body)
        assert.equal(again.statusCode, 200)
        assert.equal(again.json().user.status, 'disabled')
      })

      it('an email of another user (any case): 400 Failed to create user, the log says which field', async () => {
        const taken = newEmployee()
        await hr(t.app, acme, plugin, 'adduser', taken)
        const before = (await userRows(db(), acme.tenant.id)).length
        const res = await hr(
          t.app,
          acme,
          plugin,
          'adduser',
          newEmployee({ email: String(taken.email).toUpperCase() }),
        )
        assert.equal(res.statusCode, 400)
        assert.deepEqual(res.json(), { error: 'Failed to create user in the OptimalCloud' })
        const entry = await lastDelivery(db(), acme.tenant.id)
        assert.equal(entry.status_code, 400)
        assert.equal(entry.endpoint, 'adduser')
        assert.equal(entry.destination_id, plugin)
        assert.match(entry.reason ?? '', /^email .* already belongs to another user/)
        assert.equal((await userRows(db(), acme.tenant.id)).length, before)

        // A service account made by hand holds its email too.
        const svc = await hr(t.app, acme, plugin, 'adduser', newEmployee({ email: acme.serviceEmail }))
        assert.equal(svc.statusCode, 400)
        assert.deepEqual(svc.json(), { error: 'Failed to create user in the OptimalCloud' })
      })

      it('login_id=employee_id: the login ID is the employee id, and a login ID clash is a create failure', async () => {
        const byId = await createDestination(t.services, acme.tenant, {
          type: 'generic-hr',
          name: 'by id',
          settings: { login_id: 'employee_id' },
        })
        const res = await hr(t.app, acme, byId.plugin_id, 'adduser', newEmployee({ employee_id: 'LOGIN-7' }))
        assert.equal(res.statusCode, 201, res.body)
        assert.equal(res.json().user.login_id, 'LOGIN-7')

        const another = await createDestination(t.services, acme.tenant, {
          type: 'generic-hr',
          name: 'by id too',
          settings: { login_id: 'employee_id' },
        })
        const clash = await hr(
          t.app,
          acme,
          another.plugin_id,
          'adduser',
          newEmployee({ employee_id: 'login-7' }),
        )
        assert.equal(clash.statusCode, 400)
        assert.deepEqual(clash.json(), { error: 'Failed to create user in the OptimalCloud' })
        assert.match(
          (await lastDelivery(db(), acme.tenant.id)).reason ?? '',
          /^login ID login-7 already belongs/,
        )
      })

      it('links by employee_id within a destination: the same id through another destination is another user', async () => {
        const second = await createDestination(t.services, acme.tenant, {
          type: 'generic-hr',
          name: 'second',
        })
        const a = await hr(t.app, acme, plugin, 'adduser', newEmployee({ employee_id: 'SAME-1' }))
        const b = await hr(t.app, acme, second.plugin_id, 'adduser', newEmployee({ employee_id: 'SAME-1' }))
        assert.equal(a.statusCode, 201)
        assert.equal(b.statusCode, 201)
        assert.notEqual(a.json().user.id, b.json().user.id)
      })
    })

    describe('modifyuser', () => {
      it('changes only the fields present; null clears mobile; null display_name goes back to the default', async () => {
        const body = newEmployee({ mobile: '+44 20', display_name: 'Countess' })
        const created = (await hr(t.app, acme, plugin, 'adduser', body)).json().user
        assert.equal(created.display_name, 'Countess')

        const renamed = await hr(t.app, acme, plugin, 'modifyuser', {
          employee_id: body.employee_id,
          first_name: 'Augusta',
        })
        assert.equal(renamed.statusCode, 200, renamed.body)
        const user = renamed.json().user
        assert.equal(user.first_name, 'Augusta')
        assert.equal(user.last_name, body.last_name)
        assert.equal(user.email, body.email)
        assert.equal(user.mobile, '+44 20')
        assert.equal(user.display_name, 'Countess', 'a display name set on purpose stays when names change')
        assert.equal(user.status, 'active')

        const cleared = (
          await hr(t.app, acme, plugin, 'modifyuser', {
            employee_id: body.employee_id,
            mobile: null,
            display_name: null,
          })
        ).json().user
        assert.equal(cleared.mobile, null)
        assert.equal(cleared.display_name, `Augusta ${body.last_name}`)
        assert.equal(cleared.first_name, 'Augusta')
      })

      it('changes the email and with it the login ID; empty or null names are left alone', async () => {
        const body = newEmployee()
        await hr(t.app, acme, plugin, 'adduser', body)
        const res = await hr(t.app, acme, plugin, 'modifyuser', {
          employee_id: body.employee_id,
          email: 'Moved@Acme.example.com',
          first_name: '',
          last_name: null,
        })
        assert.equal(res.statusCode, 200, res.body)
        const { user } = res.json()
        assert.equal(user.email, 'Moved@Acme.example.com')
        assert.equal(user.login_id, 'Moved@Acme.example.com')
        assert.equal(user.first_name, body.first_name)
        assert.equal(user.last_name, body.last_name)
      })

      it('a body with only employee_id changes nothing and answers the user (200)', async () => {
        const body = newEmployee()
        const created = (await hr(t.app, acme, plugin, 'adduser', body)).json().user
        const res = await hr(t.app, acme, plugin, 'modifyuser', { employee_id: body.employee_id })
        assert.equal(res.statusCode, 200)
        assert.deepEqual(res.json().user, created)
      })

      it('errors: required employee_id, strings, email validity, unknown employee, clash', async () => {
        const body = newEmployee()
        const created = (await hr(t.app, acme, plugin, 'adduser', body)).json().user
        const taken = newEmployee()
        await hr(t.app, acme, plugin, 'adduser', taken)
        const cases: Array<[Record<string, unknown>, string]> = [
          [{}, 'employee_id is a required field'],
          [{ employee_id: 7 }, 'employee_id must be a string'],
          [{ employee_id: body.employee_id, first_name: 5 }, 'first_name must be a string'],
          [{ employee_id: body.employee_id, mobile: 5 }, 'mobile must be a string'],
          [{ employee_id: body.employee_id, display_name: true }, 'display_name must be a string'],
          [{ employee_id: body.employee_id, email: 'nope' }, 'email must be a valid email address'],
          [{ employee_id: 'NOBODY' }, 'User not found in the OptimalCloud'],
          [
            { employee_id: body.employee_id, email: taken.email },
            'Failed to update user in the OptimalCloud',
          ],
        ]
        for (const [sent, message] of cases) {
          const res = await hr(t.app, acme, plugin, 'modifyuser', sent)
          assert.equal(res.statusCode, 400, JSON.stringify(sent))
          assert.deepEqual(res.json(), { error: message }, JSON.stringify(sent))
        }
        assert.match(
          (await lastDelivery(db(), acme.tenant.id)).reason ?? '',
          /^email .* already belongs to another user/,
        )
        const row = await userRow(db(), acme.tenant.id, created.id)
        assert.equal(row?.email, body.email, 'nothing changed')
        assert.equal(row?.updated_at, created.updated_at)
      })

      it('never reactivates: a terminated user stays terminated', async () => {
        const body = newEmployee()
        await hr(t.app, acme, plugin, 'adduser', body)
        await hr(t.app, acme, plugin, 'deleteuser', { employee_id: body.employee_id })
        const res = await hr(t.app, acme, plugin, 'modifyuser', {
          employee_id: body.employee_id,
          first_name: 'Late',
        })
        assert.equal(res.statusCode, 200)
        assert.equal(res.json().user.first_name, 'Late')
        assert.equal(res.json().user.status, 'terminated')
      })
    })

    describe('deleteuser', () => {
      it('terminates; the record and its link stay; a repeat changes nothing', async () => {
        const body = newEmployee()
        const created = (await hr(t.app, acme, plugin, 'adduser', body)).json().user
        const res = await hr(t.app, acme, plugin, 'deleteuser', {
          employee_id: body.employee_id,
          reason: 'left',
        })
        assert.equal(res.statusCode, 200, res.body)
        const { user } = res.json()
        assert.equal(user.id, created.id)
        assert.equal(user.status, 'terminated')
        await sleep(5)
        const repeat = await hr(t.app, acme, plugin, 'deleteuser', { employee_id: body.employee_id })
        assert.equal(repeat.statusCode, 200)
        assert.deepEqual(repeat.json().user, user)
        const row = await userRow(db(), acme.tenant.id, created.id)
        assert.equal(row?.status, 'terminated')
        assert.equal(row?.destination_id, plugin)
        assert.equal(row?.employee_id, body.employee_id)
      })

      it('errors: required employee_id, unknown employee', async () => {
        for (const [sent, message] of [
          [{}, 'employee_id is a required field'],
          [{ employee_id: '' }, 'employee_id is a required field'],
          [{ employee_id: ['x'] }, 'employee_id must be a string'],
          [{ employee_id: 'NOBODY' }, 'User not found in the OptimalCloud'],
        ] as const) {
          const res = await hr(t.app, acme, plugin, 'deleteuser', sent)
          assert.equal(res.statusCode, 400, JSON.stringify(sent))
          assert.deepEqual(res.json(), { error: message })
        }
        const entry = await lastDelivery(db(), acme.tenant.id)
        assert.equal(entry.endpoint, 'deleteuser')
        assert.match(entry.reason ?? '', /employee NOBODY is not known/)
      })
    })

    describe('delivery log and idempotency', () => {
      it('logs every call with its outcome, destination and user id, never the credentials', async () => {
        const body = newEmployee()
        const res = await hr(t.app, acme, plugin, 'adduser', body, { auth: acme.basic })
        const entry = await lastDelivery(db(), acme.tenant.id)
        assert.equal(entry.endpoint, 'adduser')
        assert.equal(entry.status_code, 201)
        assert.equal(entry.user_id, res.json().user.id)
        assert.equal(entry.destination_id, plugin)
        assert.match(entry.principal ?? '', /^service_account:usr_/)
        assert.deepEqual(JSON.parse(entry.request_body ?? 'null'), body)
        const all = JSON.stringify(await db().selectFrom('deliveries').selectAll().execute())
        assert.ok(!all.includes(acme.key), 'no API key in the log')
        assert.ok(!all.includes(SERVICE_PASSWORD), 'no password in the log')
        assert.ok(!all.includes(acme.basic.slice(6)), 'no Authorization value in the log')
      })

      it('an Idempotency-Key repeat answers the first answer and changes nothing; another body is 400', async () => {
        const body = newEmployee()
        const headers = { 'idempotency-key': `hr-${body.employee_id}` }
        const first = await hr(t.app, acme, plugin, 'adduser', body, { headers })
        assert.equal(first.statusCode, 201)
        const repeat = await hr(t.app, acme, plugin, 'adduser', body, { headers })
        assert.equal(repeat.statusCode, 201)
        assert.equal(repeat.body, first.body)
        const users = (await userRows(db(), acme.tenant.id)).filter((u) => u.employee_id === body.employee_id)
        assert.equal(users.length, 1)
        const other = await hr(t.app, acme, plugin, 'adduser', { ...body, first_name: 'Else' }, { headers })
        assert.equal(other.statusCode, 400)
        assert.deepEqual(other.json(), { error: 'Idempotency-Key was already used with a different request' })
      })
    })

    describe('tenancy and authentication', () => {
      it('another tenant cannot use or see this destination: 404 with its own key, 401 with ours on its host', async () => {
        const body = newEmployee()
        const asOther = await hr(t.app, other, plugin, 'adduser', body)
        assert.equal(asOther.statusCode, 404)
        assert.deepEqual(asOther.json(), { error: 'Provisioning destination not found' })
        const crossed = await hr(t.app, acme, plugin, 'adduser', body, { host: other.host })
        assert.equal(crossed.statusCode, 401)
        assert.equal(crossed.body, '{"error":"ERROR"}')
        assert.equal((await userRows(db(), other.tenant.id)).length, 1, 'only its service account')
      })

      it('a terminated service account stops working within the re-check time', async () => {
        const email = 'hr-robot@acme.example.com'
        const robot = await createUser(t.services.database, acme.tenant.id, {
          email,
          serviceAccount: true,
          password: SERVICE_PASSWORD,
        })
        const auth = `Basic ${Buffer.from(`${email}:${SERVICE_PASSWORD}`).toString('base64')}`
        const ok = await hr(t.app, acme, plugin, 'adduser', newEmployee(), { auth })
        assert.equal(ok.statusCode, 201, ok.body)
        await setUserStatus(t.services.database, acme.tenant.id, robot.id, 'terminated')
        await sleep(150)
        const res = await hr(t.app, acme, plugin, 'adduser', newEmployee(), { auth })
        assert.equal(res.statusCode, 401)
        assert.equal(res.body, '{"error":"ERROR"}')
        const ticket = await post(t.app, `${TICKETS}/createticket`, {
          host: acme.host,
          auth,
          body: { title: 'T', description: 'D', requester_email: acme.requester },
        })
        assert.equal(ticket.statusCode, 401, 'not anywhere else either')
      })
    })
  })
}

/** Management API, users: list and find, create (service accounts with a password), set password, disable and enable. */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import type { FastifyInstance } from 'fastify'
import { createDestination } from '../../src/directory/destinations.js'
import { createUser, setUserStatus } from '../../src/directory/users.js'
import { uniqueAddress } from '../helpers/client-address.js'
import { DIALECTS, postgresAvailable } from '../helpers/databases.js'
import { as, mgmt, tenantSnapshot } from '../helpers/management-routes.js'
import {
  buildLoggedApp,
  post,
  SERVICE_PASSWORD,
  type SeededTenant,
  seedTenant,
  startTestApp,
  type TestApp,
  TICKETS,
} from '../helpers/test-app.js'
import { PROVISIONING } from '../helpers/webhook-routes.js'

const pgUp = await postgresAvailable()

interface User {
  id: string
  email: string
  login_id: string
  display_name: string
  status: string
  service_account: boolean
  employee_id: string | null
  destination_id: string | null
}

function basic(email: string, password: string): string {
  return `Basic ${Buffer.from(`${email}:${password}`).toString('base64')}`
}

for (const dialect of DIALECTS) {
  describe(`management API: users (${dialect})`, {
    skip: dialect === 'postgres' && !pgUp && 'no PostgreSQL',
  }, () => {
    let t: TestApp
    let acme: SeededTenant
    let other: SeededTenant
    /** The same service with its real logger at its most talkative, written to memory. */
    let logged: FastifyInstance
    let logLines: string[] = []
    before(async () => {
      t = await startTestApp(dialect)
      acme = await seedTenant(t.services, 'acme')
      other = await seedTenant(t.services, 'other')
      ;({ app: logged, lines: logLines } = await buildLoggedApp(t.services))
    })
    after(async () => {
      await logged.close()
      await t.close()
    })

    /** Whether a Basic header may call a webhook (anything but 401 passes authentication). */
    const webhookAccepts = async (auth: string) =>
      (
        await post(t.app, `${TICKETS}/createticket`, {
          host: acme.host,
          auth,
          body: {},
          remoteAddress: uniqueAddress(),
        })
      ).statusCode !== 401

    it('lists users, finds them by email (any case) or employee id, gets one by id', async () => {
      const list = await as<User[]>(t.app, acme, 'GET', '/users')
      assert.equal(list.status, 200)
      assert.ok(list.body.some((u) => u.email === acme.serviceEmail && u.service_account))
      assert.ok(
        list.body.every((u) => !u.email.endsWith('other.example.com')),
        'only this tenant',
      )

      const byEmail = await as<User[]>(t.app, acme, 'GET', `/users?email=${acme.serviceEmail.toUpperCase()}`)
      assert.equal(byEmail.body.length, 1)
      const [found] = byEmail.body
      assert.ok(found !== undefined)
      const one = await as<User>(t.app, acme, 'GET', `/users/${found.id}`)
      assert.equal(one.status, 200)
      assert.deepEqual(one.body, found)
      assert.deepEqual((await as(t.app, acme, 'GET', '/users?email=nobody@acme.example.com')).body, [])

      const destination = await createDestination(t.services, acme.tenant, { type: 'generic-hr', name: 'HR' })
      const hired = await post(t.app, `${PROVISIONING}/${destination.plugin_id}/adduser`, {
        host: acme.host,
        auth: `Bearer ${acme.key}`,
        body: { employee_id: 'E-1', first_name: 'Ann', last_name: 'Lee', email: 'ann@acme.example.com' },
      })
      assert.equal(hired.statusCode, 201)
      const byEmployee = await as<User[]>(t.app, acme, 'GET', '/users?employee_id=E-1')
      assert.equal(byEmployee.body.length, 1)
      assert.equal(byEmployee.body[0]?.destination_id, destination.plugin_id)
      const scoped = await as<User[]>(
        t.app,
        acme,
        'GET',
        `/users?employee_id=E-1&destination=${destination.plugin_id}`,
      )
      assert.deepEqual(scoped.body, byEmployee.body)
      assert.deepEqual((await as(t.app, acme, 'GET', '/users?employee_id=E-1&destination=nope')).body, [])
    })

    it('400 for contradicting or unknown filters; 404 for an unknown user and for another tenant’s', async () => {
      const bad: Array<[string, string]> = [
        ['/users?email=a@b.co&employee_id=1', 'Give email or employee_id, not both'],
        ['/users?role=admin', 'role is not a known query parameter'],
        ['/users?status=gone', 'query parameter status must be one of: active, terminated, disabled'],
      ]
      for (const [path, message] of bad) {
        const res = await as(t.app, acme, 'GET', path)
        assert.equal(res.status, 400, path)
        assert.deepEqual(res.body, { error: message })
      }
      const theirs = await createUser(t.services.database, other.tenant.id, { email: 'x@other.example.com' })
      for (const id of [theirs.id, 'usr_nope']) {
        const res = await as(t.app, acme, 'GET', `/users/${id}`)
        assert.equal(res.status, 404)
        assert.deepEqual(res.body, { error: 'User not found' })
      }
    })

    it('creates a user and a service account whose password works at once and is never logged', async () => {
      const password = 'a long service password'
      const plain = await as<User>(t.app, acme, 'POST', '/users', {
        email: 'Jane@acme.example.com',
        first_name: 'Jane',
        last_name: 'Roe',
      })
      assert.equal(plain.status, 201)
      assert.equal(plain.body.login_id, 'Jane@acme.example.com')
      assert.equal(plain.body.display_name, 'Jane Roe')
      assert.equal(plain.body.status, 'active')
      assert.equal(plain.body.service_account, false)

      const created = await mgmt(logged, 'POST', '/users', {
        host: acme.host,
        auth: `Bearer ${acme.key}`,
        body: { email: 'robot@acme.example.com', service_account: true, password },
      })
      assert.equal(created.statusCode, 201)
      assert.equal((created.json() as User).service_account, true)
      assert.ok(await webhookAccepts(basic('robot@acme.example.com', password)))
      const refused = await mgmt(logged, 'POST', '/users', {
        host: acme.host,
        auth: `Bearer ${acme.key}`,
        body: { email: 'robot2@acme.example.com', service_account: true, password: 'short' },
      })
      assert.equal(refused.statusCode, 400)
      const all = logLines.join('')
      assert.ok(logLines.length > 0)
      assert.ok(!all.includes(password) && !all.includes('short"'), 'a password in the logs')
      assert.ok(!all.includes(acme.key), 'a key in the logs')
    })

    it('refuses bad users with a clear 4xx and creates nothing', async () => {
      await createUser(t.services.database, acme.tenant.id, { email: 'taken@acme.example.com' })
      const before = await tenantSnapshot(t.services, acme.tenant.id)
      const cases: Array<[unknown, number, string]> = [
        [{}, 400, 'email is a required field'],
        [{ email: 'not-an-email' }, 400, 'email must be a valid email address'],
        [{ email: 5 }, 400, 'email must be a string'],
        [{ email: 'TAKEN@acme.example.com' }, 409, 'A user with email TAKEN@acme.example.com already exists'],
        [
          { email: 'p@acme.example.com', password: 'long enough pass' },
          400,
          'password is only for service accounts and administrators',
        ],
        [
          { email: 'p@acme.example.com', service_account: true },
          400,
          'password is a required field for a service account',
        ],
        [
          { email: 'p@acme.example.com', service_account: true, password: 'short' },
          400,
          'password must be at least 8 characters',
        ],
        [
          { email: 'p@acme.example.com', admin: true },
          400,
          'password is a required field for an administrator',
        ],
        [{ email: 'p@acme.example.com', owner: true }, 400, 'owner is not a known field'],
        [{ email: 'p@acme.example.com', first_name: ['x'] }, 400, 'first_name must be a string'],
      ]
      for (const [body, status, message] of cases) {
        const res = await as(t.app, acme, 'POST', '/users', body)
        assert.equal(res.status, status, JSON.stringify(body))
        assert.deepEqual(res.body, { error: message }, JSON.stringify(body))
      }
      assert.equal(await tenantSnapshot(t.services, acme.tenant.id), before)
    })

    it('sets a password: the old one stops at once, the new one works; bad input changes nothing', async () => {
      const email = 'rotating@acme.example.com'
      const account = await createUser(t.services.database, acme.tenant.id, {
        email,
        serviceAccount: true,
        password: SERVICE_PASSWORD,
      })
      assert.ok(await webhookAccepts(basic(email, SERVICE_PASSWORD)), 'cached as verified')
      const set = await as<User>(t.app, acme, 'PUT', `/users/${account.id}/password`, {
        password: 'the new password',
      })
      assert.equal(set.status, 200)
      assert.equal(set.body.id, account.id)
      assert.equal(await webhookAccepts(basic(email, SERVICE_PASSWORD)), false, 'the old password, at once')
      assert.ok(await webhookAccepts(basic(email, 'the new password')))

      const before = await tenantSnapshot(t.services, acme.tenant.id)
      const plain = await createUser(t.services.database, other.tenant.id, { email: 'p@other.example.com' })
      const mine = await createUser(t.services.database, acme.tenant.id, { email: 'plain@acme.example.com' })
      const after1 = await tenantSnapshot(t.services, acme.tenant.id)
      const cases: Array<[string, unknown, number, string]> = [
        [account.id, { password: 'short' }, 400, 'password must be at least 8 characters'],
        [account.id, {}, 400, 'password is a required field'],
        [account.id, { password: 12345678 }, 400, 'password must be a string'],
        [
          mine.id,
          { password: 'long enough pass' },
          400,
          'Only service accounts and administrators have a password',
        ],
        [plain.id, { password: 'long enough pass' }, 404, 'User not found'],
        ['usr_nope', { password: 'long enough pass' }, 404, 'User not found'],
      ]
      for (const [id, body, status, message] of cases) {
        const res = await as(t.app, acme, 'PUT', `/users/${id}/password`, body)
        assert.equal(res.status, status, JSON.stringify(body))
        assert.deepEqual(res.body, { error: message })
      }
      assert.notEqual(after1, before)
      assert.equal(await tenantSnapshot(t.services, acme.tenant.id), after1)
      assert.ok(await webhookAccepts(basic(email, 'the new password')))
    })

    it('disables a service account (refused at once) and enables it again; terminated and unknown users are refused', async () => {
      const email = 'toggle@acme.example.com'
      const account = await createUser(t.services.database, acme.tenant.id, {
        email,
        serviceAccount: true,
        password: SERVICE_PASSWORD,
      })
      const auth = basic(email, SERVICE_PASSWORD)
      assert.ok(await webhookAccepts(auth))
      const disabled = await as<User>(t.app, acme, 'POST', `/users/${account.id}/disable`)
      assert.equal(disabled.status, 200)
      assert.equal(disabled.body.status, 'disabled')
      assert.equal(await webhookAccepts(auth), false, 'refused right after the disable')
      const enabled = await as<User>(t.app, acme, 'POST', `/users/${account.id}/enable`)
      assert.equal(enabled.body.status, 'active')
      assert.ok(await webhookAccepts(auth))

      const terminated = await createUser(t.services.database, acme.tenant.id, {
        email: 'gone@acme.example.com',
      })
      await setUserStatus(t.services.database, acme.tenant.id, terminated.id, 'terminated')
      const theirs = await createUser(t.services.database, other.tenant.id, { email: 'q@other.example.com' })
      // Disable leaves `terminated` as it is; enable is refused (one rule for every surface).
      const disable = await as<User>(t.app, acme, 'POST', `/users/${terminated.id}/disable`)
      assert.equal(disable.status, 200)
      assert.equal(disable.body.status, 'terminated')
      // (The disable is in the audit log: an administrator asked for it. The refusals below change nothing.)
      const before = await tenantSnapshot(t.services, acme.tenant.id)
      const otherBefore = await tenantSnapshot(t.services, other.tenant.id)
      const enable = await as(t.app, acme, 'POST', `/users/${terminated.id}/enable`)
      assert.equal(enable.status, 400)
      assert.deepEqual(enable.body, { error: 'The user was terminated by its HR system' })
      for (const action of ['disable', 'enable']) {
        for (const id of [theirs.id, 'usr_nope']) {
          const missing = await as(t.app, acme, 'POST', `/users/${id}/${action}`)
          assert.equal(missing.status, 404)
          assert.deepEqual(missing.body, { error: 'User not found' })
        }
      }
      assert.equal(await tenantSnapshot(t.services, acme.tenant.id), before)
      assert.equal(await tenantSnapshot(t.services, other.tenant.id), otherBefore)
    })

    it('creates another console administrator who can sign in to the console at once', async () => {
      const password = 'second admin password'
      const created = await as<User & { admin: boolean }>(t.app, acme, 'POST', '/users', {
        email: 'second.admin@acme.example.com',
        admin: true,
        password,
      })
      assert.equal(created.status, 201, created.raw)
      assert.equal(created.body.admin, true)
      assert.equal(created.body.service_account, false)
      const signIn = await t.app.inject({
        method: 'POST',
        url: '/console/login',
        headers: { host: acme.host, 'content-type': 'application/x-www-form-urlencoded' },
        payload: new URLSearchParams({ email: 'second.admin@acme.example.com', password }).toString(),
      })
      assert.equal(signIn.statusCode, 303, signIn.body)
    })

    it('refuses to disable the last active administrator, and allows it while another one is active', async () => {
      const first = await createUser(t.services.database, other.tenant.id, {
        email: 'admin1@other.example.com',
        admin: true,
        password: SERVICE_PASSWORD,
      })
      const refused = await as(t.app, other, 'POST', `/users/${first.id}/disable`)
      assert.equal(refused.status, 400)
      assert.deepEqual(refused.body, {
        error: 'The last active administrator of a tenant cannot be disabled',
      })
      const second = await createUser(t.services.database, other.tenant.id, {
        email: 'admin2@other.example.com',
        admin: true,
        password: SERVICE_PASSWORD,
      })
      // Both at once: exactly one of them goes through.
      const both = await Promise.all([
        as<User>(t.app, other, 'POST', `/users/${first.id}/disable`),
        as<User>(t.app, other, 'POST', `/users/${second.id}/disable`),
      ])
      assert.deepEqual(both.map((res) => res.status).sort(), [200, 400])
    })
  })
}

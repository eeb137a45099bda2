/** The console's tabs over HTTP on both dialects: each page's happy path, its bad input, and no secret shown twice. */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import type { Dialect } from '../../src/storage/database.js'
import { DIALECTS, postgresAvailable } from '../helpers/databases.js'
import {
  post,
  type SeededTenant,
  seedTenant,
  startTestApp,
  type TestApp,
  TICKETS,
} from '../helpers/test-app.js'
import { addAdmin, getPage, postForm, signIn } from './console-helpers.js'

const HOST = 'acme.localhost'

/** A page without the console's own script (the Copy buttons'), to look for any other. */
function withoutConsoleScript(body: string): string {
  return body.replace(/<script>document\.addEventListener\('click'[\s\S]*?<\/script>/, '')
}

function suite(dialect: Dialect) {
  let t: TestApp
  let acme: SeededTenant
  let globex: SeededTenant
  let cookie: string
  let csrf: string
  let adminId: string

  const form = (url: string, fields: Record<string, string>) =>
    postForm(t.app, url, { host: HOST, cookie, fields: { _csrf: csrf, ...fields } })
  const page = (url: string) => getPage(t.app, url, HOST, cookie)
  const rows = async (table: 'api_keys' | 'destinations' | 'users' | 'requesters') =>
    (
      await t.services.database.db
        .selectFrom(table)
        .selectAll()
        .where('tenant_id', '=', acme.tenant.id)
        .execute()
    ).length

  before(async () => {
    t = await startTestApp(dialect)
    acme = await seedTenant(t.services, 'acme')
    globex = await seedTenant(t.services, 'globex')
    const admin = await addAdmin(t.services, acme.tenant)
    adminId = admin.id
    ;({ cookie, csrf } = await signIn(t.app, HOST, admin.email))
  })
  after(() => t.close())

  describe('API Key Manager', () => {
    it('lists keys without the key, creates one shown once, and the key works at once', async () => {
      const list = await page('/console/administration/api-keys')
      assert.equal(list.statusCode, 200)
      assert.ok(list.body.includes(acme.key.slice(0, 8)))
      assert.ok(!list.body.includes(acme.key))
      const created = await form('/console/administration/api-keys', {
        name: 'servicenow',
        management: '1',
        expires_in: '90d',
      })
      assert.equal(created.statusCode, 200)
      const key = /data-secret="api-key">(oc_[A-Za-z0-9]{43})</.exec(created.body)?.[1]
      assert.ok(key !== undefined, 'the new key is shown')
      const again = await page('/console/administration/api-keys')
      assert.ok(again.body.includes('servicenow'))
      assert.ok(!again.body.includes(key), 'the key is never shown again')
      const call = await post(t.app, `${TICKETS}/createticket`, {
        host: HOST,
        auth: `Bearer ${key}`,
        body: { title: 'Printer', description: 'jammed', requester_email: acme.requester },
      })
      assert.equal(call.statusCode, 201)
    })

    it('refuses a missing name or a bad lifetime with 400 and creates nothing', async () => {
      const before = await rows('api_keys')
      const noName = await form('/console/administration/api-keys', { name: '  ', management: '1' })
      assert.equal(noName.statusCode, 400)
      assert.match(noName.body, /name is a required field/)
      const badExpiry = await form('/console/administration/api-keys', { name: 'x', expires_in: 'soon' })
      assert.equal(badExpiry.statusCode, 400)
      assert.match(badExpiry.body, /expires_in must look like 90d/)
      assert.match(badExpiry.body, /value="soon"/)
      assert.equal(await rows('api_keys'), before)
    })

    it('revokes a key so this instance refuses it at once; a key of another tenant is not found', async () => {
      const created = await form('/console/administration/api-keys', { name: 'temp', management: '1' })
      const key = /data-secret="api-key">(oc_[A-Za-z0-9]{43})</.exec(created.body)?.[1] ?? ''
      const auth = `Bearer ${key}`
      const body = { title: 'T', description: 'D', requester_email: acme.requester }
      assert.equal((await post(t.app, `${TICKETS}/createticket`, { host: HOST, auth, body })).statusCode, 201)
      const row = await t.services.database.db
        .selectFrom('api_keys')
        .select('id')
        .where('tenant_id', '=', acme.tenant.id)
        .where('name', '=', 'temp')
        .executeTakeFirstOrThrow()
      const revoked = await form(`/console/administration/api-keys/${row.id}/revoke`, {})
      assert.equal(revoked.statusCode, 200)
      assert.match(revoked.body, /API key temp revoked/)
      assert.equal((await post(t.app, `${TICKETS}/createticket`, { host: HOST, auth, body })).statusCode, 401)
      const foreign = await form(`/console/administration/api-keys/${globex.keyId}/revoke`, {})
      assert.equal(foreign.statusCode, 404)
      const still = await t.services.database.db
        .selectFrom('api_keys')
        .select('revoked_at')
        .where('id', '=', globex.keyId)
        .executeTakeFirstOrThrow()
      assert.equal(still.revoked_at, null)
    })
  })

  describe('Provisioning Manager', () => {
    it('creates a Generic HR destination and shows its three URLs on the User Provisioning tab', async () => {
      const created = await form('/console/administration/provisioning', {
        type: 'generic-hr',
        name: 'Workday',
      })
      assert.equal(created.statusCode, 303)
      const location = String(created.headers.location)
      const pluginId = /provisioning\/([A-Za-z0-9]+)\?created=1$/.exec(location)?.[1]
      assert.ok(pluginId !== undefined)
      const detail = await page(location)
      assert.equal(detail.statusCode, 200)
      assert.match(detail.body, /User Provisioning/)
      for (const op of ['adduser', 'modifyuser', 'deleteuser']) {
        assert.ok(
          detail.body.includes(
            `http://acme.localhost:8080/v5.0/mgmt/api/v1.0/webhooks/provisioning/${pluginId}/${op}`,
          ),
          op,
        )
      }
      const list = await page('/console/administration/provisioning')
      assert.match(list.body, /Workday/)
      const disabled = await form(`/console/administration/provisioning/${pluginId}/disable`, {})
      assert.equal(disabled.statusCode, 200)
      assert.match(disabled.body, /Destination disabled/)
      const addUser = await post(t.app, `/v5.0/mgmt/api/v1.0/webhooks/provisioning/${pluginId}/adduser`, {
        host: HOST,
        auth: `Bearer ${acme.key}`,
        body: {},
      })
      assert.equal(addUser.statusCode, 404)
      assert.equal(
        (await form(`/console/administration/provisioning/${pluginId}/enable`, {})).statusCode,
        200,
      )
    })

    it('creates a Paylocity destination whose client secret is never shown back', async () => {
      const secret = 'paylocity-client-secret-value-42'
      const created = await form('/console/administration/provisioning', {
        type: 'paylocity',
        name: 'Payroll',
        client_id: 'client-1',
        client_secret: secret,
        token_url: 'https://paylocity.example.com/token',
        api_base_url: 'https://paylocity.example.com/api',
      })
      assert.equal(created.statusCode, 303)
      const detail = await page(String(created.headers.location))
      assert.equal(detail.statusCode, 200)
      assert.match(detail.body, /client-1/)
      assert.ok(!detail.body.includes(secret))
      assert.ok(!(await page('/console/administration/provisioning')).body.includes(secret))
    })

    it('refuses a bad type, a missing name or an unknown setting with 400, keeping the form but not the secret', async () => {
      const before = await rows('destinations')
      const badType = await form('/console/administration/provisioning', { type: 'sap', name: 'X' })
      assert.equal(badType.statusCode, 400)
      const noName = await form('/console/administration/provisioning', {
        type: 'paylocity',
        name: '',
        client_id: 'keep-me',
        client_secret: 'do-not-echo-me',
      })
      assert.equal(noName.statusCode, 400)
      assert.match(noName.body, /class="error"/)
      assert.match(noName.body, /value="keep-me"/)
      assert.ok(!noName.body.includes('do-not-echo-me'))
      const wrongSetting = await form('/console/administration/provisioning', {
        type: 'generic-hr',
        name: 'Y',
        client_id: 'abc',
      })
      assert.equal(wrongSetting.statusCode, 400)
      assert.equal(await rows('destinations'), before)
    })

    it('answers 404 for a destination of another tenant or none at all', async () => {
      const theirs = await form('/console/administration/provisioning', { type: 'generic-hr', name: 'Mine' })
      const pluginId = /provisioning\/([A-Za-z0-9]+)/.exec(String(theirs.headers.location))?.[1] ?? ''
      const other = await signIn(t.app, 'globex.localhost', (await addAdmin(t.services, globex.tenant)).email)
      const foreign = await getPage(
        t.app,
        `/console/administration/provisioning/${pluginId}`,
        'globex.localhost',
        other.cookie,
      )
      assert.equal(foreign.statusCode, 404)
      assert.match(foreign.body, /Provisioning destination not found/)
      assert.equal(
        (await page('/console/administration/provisioning/nosuchdestination0000000000')).statusCode,
        404,
      )
    })
    it('offers one form per HR vendor, from the registry, and refuses an unknown type', async () => {
      const list = await page('/console/administration/provisioning')
      for (const type of ['generic-hr', 'paylocity'])
        assert.match(list.body, new RegExp(`data-new-destination="${type}"`))
      const paylocityForm = await page('/console/administration/provisioning/new?type=paylocity')
      assert.equal(paylocityForm.statusCode, 200)
      for (const key of ['login_id', 'client_id', 'client_secret', 'token_url', 'api_base_url'])
        assert.match(paylocityForm.body, new RegExp(`name="${key}"`))
      assert.match(paylocityForm.body, /name="client_secret" autocomplete="off"/)
      const generic = await page('/console/administration/provisioning/new?type=generic-hr')
      assert.ok(!generic.body.includes('name="client_id"'))
      const unknown = await page('/console/administration/provisioning/new?type=%3Cscript%3E')
      assert.equal(unknown.statusCode, 400)
      assert.ok(!withoutConsoleScript(unknown.body).includes('<script>'))
    })

    it('edits a destination: name and settings, a secret kept when left empty and removed on request', async () => {
      const secret = 'first-secret-value-99'
      const created = await form('/console/administration/provisioning', {
        type: 'paylocity',
        name: 'Payroll',
        client_id: 'client-1',
        client_secret: secret,
      })
      const pluginId = /provisioning\/([A-Za-z0-9]+)/.exec(String(created.headers.location))?.[1] ?? ''
      const edit = await page(`/console/administration/provisioning/${pluginId}/edit`)
      assert.equal(edit.statusCode, 200)
      assert.match(edit.body, /value="client-1"/)
      assert.ok(!edit.body.includes(secret), 'the secret is never shown back')
      assert.match(edit.body, /name="clear_client_secret"/)

      const saved = await form(`/console/administration/provisioning/${pluginId}`, {
        name: 'Payroll US',
        login_id: 'employee_id',
        client_id: 'client-2',
        client_secret: '',
        token_url: '',
        api_base_url: '',
      })
      assert.equal(saved.statusCode, 303)
      const stored = await t.services.database.db
        .selectFrom('destinations')
        .select(['name', 'settings'])
        .where('id', '=', pluginId)
        .executeTakeFirstOrThrow()
      assert.equal(stored.name, 'Payroll US')
      const settings = JSON.parse(stored.settings) as Record<string, string>
      assert.equal(settings.client_id, 'client-2')
      assert.equal(settings.login_id, 'employee_id')
      assert.match(settings.client_secret ?? '', /^enc:v1:/, 'kept, still sealed')

      // Removing the secret alone breaks the client_id/client_secret pair: refused, nothing changed.
      const refused = await form(`/console/administration/provisioning/${pluginId}`, {
        name: 'Payroll US',
        client_id: 'client-2',
        clear_client_secret: '1',
      })
      assert.equal(refused.statusCode, 400)
      assert.match(refused.body, /client_id and client_secret must be set together/)
      const removed = await form(`/console/administration/provisioning/${pluginId}`, {
        name: 'Payroll US',
        login_id: 'employee_id',
        client_id: '',
        clear_client_secret: '1',
      })
      assert.equal(removed.statusCode, 303)
      const after = await t.services.database.db
        .selectFrom('destinations')
        .select('settings')
        .where('id', '=', pluginId)
        .executeTakeFirstOrThrow()
      assert.deepEqual(Object.keys(JSON.parse(after.settings)), ['login_id'])
    })

    it("cannot edit another tenant's destination", async () => {
      const mine = await form('/console/administration/provisioning', { type: 'generic-hr', name: 'Acme HR' })
      const pluginId = /provisioning\/([A-Za-z0-9]+)/.exec(String(mine.headers.location))?.[1] ?? ''
      const other = await signIn(
        t.app,
        'globex.localhost',
        (await addAdmin(t.services, globex.tenant, 'second-admin@globex.example.com')).email,
      )
      const foreignEdit = await getPage(
        t.app,
        `/console/administration/provisioning/${pluginId}/edit`,
        'globex.localhost',
        other.cookie,
      )
      assert.equal(foreignEdit.statusCode, 404)
      const foreignSave = await postForm(t.app, `/console/administration/provisioning/${pluginId}`, {
        host: 'globex.localhost',
        cookie: other.cookie,
        fields: { _csrf: other.csrf, name: 'Hijacked' },
      })
      assert.equal(foreignSave.statusCode, 404)
      const stored = await t.services.database.db
        .selectFrom('destinations')
        .select('name')
        .where('id', '=', pluginId)
        .executeTakeFirstOrThrow()
      assert.equal(stored.name, 'Acme HR')
    })
  })

  describe('User Manager', () => {
    it('creates a service account with a password that signs webhooks in, never showing the password', async () => {
      const password = 'service account password 9'
      const created = await form('/console/users', {
        email: 'sas@acme.example.com',
        first_name: 'SAS',
        last_name: 'Helpdesk',
        service_account: '1',
        password,
      })
      assert.equal(created.statusCode, 200)
      assert.match(created.body, /Service account sas@acme\.example\.com created/)
      assert.ok(!created.body.includes(password))
      const basic = `Basic ${Buffer.from(`sas@acme.example.com:${password}`).toString('base64')}`
      const call = await post(t.app, `${TICKETS}/createticket`, {
        host: HOST,
        auth: basic,
        body: { title: 'Via SA', description: 'D', requester_email: acme.requester },
      })
      assert.equal(call.statusCode, 201)
      const list = await page('/console/users')
      assert.match(list.body, /SAS Helpdesk/)
    })

    it('refuses bad input with a 4xx and creates nobody', async () => {
      const before = await rows('users')
      const cases: Array<[Record<string, string>, number, RegExp]> = [
        [{ email: 'not-an-email' }, 400, /email must be a valid email address/],
        [{ email: 'short@acme.example.com', service_account: '1', password: 'short' }, 400, /at least 8/],
        [
          { email: 'nosa@acme.example.com', password: 'long enough password' },
          400,
          /only for a Service Account/,
        ],
        [{ email: acme.serviceEmail.toUpperCase() }, 409, /already exists/],
      ]
      for (const [fields, status, message] of cases) {
        const response = await form('/console/users', fields)
        assert.equal(response.statusCode, status, JSON.stringify(fields))
        assert.match(response.body, message)
      }
      assert.equal(await rows('users'), before)
    })

    it('disables and re-enables a user (a disabled service account stops at once), but not oneself', async () => {
      const user = await t.services.database.db
        .selectFrom('users')
        .select('id')
        .where('tenant_id', '=', acme.tenant.id)
        .where('email_key', '=', acme.serviceEmail)
        .executeTakeFirstOrThrow()
      const body = { title: 'T', description: 'D', requester_email: acme.requester }
      assert.equal(
        (await post(t.app, `${TICKETS}/createticket`, { host: HOST, auth: acme.basic, body })).statusCode,
        201,
      )
      const disabled = await form(`/console/users/${user.id}/disable`, {})
      assert.equal(disabled.statusCode, 200)
      assert.match(disabled.body, /disabled\./)
      assert.equal(
        (await post(t.app, `${TICKETS}/createticket`, { host: HOST, auth: acme.basic, body })).statusCode,
        401,
      )
      assert.equal((await form(`/console/users/${user.id}/enable`, {})).statusCode, 200)
      const self = await form(`/console/users/${adminId}/disable`, {})
      assert.equal(self.statusCode, 400)
      assert.match(self.body, /your own account/)
      assert.equal((await form('/console/users/usr_nosuch/disable', {})).statusCode, 404)
    })
  })

  describe('Support', () => {
    it('lists tickets and opens one with its comments', async () => {
      const created = await post(t.app, `${TICKETS}/createticket`, {
        host: HOST,
        auth: `Bearer ${acme.key}`,
        body: {
          title: '<b>VPN</b> down',
          description: 'Cannot connect <script>x</script>',
          requester_email: acme.requester,
        },
      })
      assert.equal(created.statusCode, 201)
      const number = (created.json() as { ticket: number }).ticket
      const list = await page('/console/support')
      assert.equal(list.statusCode, 200)
      assert.ok(list.body.includes('&lt;b&gt;VPN&lt;/b&gt; down'))
      assert.ok(!list.body.includes('<b>VPN'))
      const one = await page(`/console/support/tickets/${number}`)
      assert.equal(one.statusCode, 200)
      assert.ok(one.body.includes('Cannot connect &lt;script&gt;x&lt;/script&gt;'))
      assert.ok(!withoutConsoleScript(one.body).includes('<script>'))
      assert.equal((await page('/console/support/tickets/99999')).statusCode, 404)
      assert.equal((await page('/console/support/tickets/abc')).statusCode, 404)
    })

    it('adds a support account, and refuses a bad email', async () => {
      const added = await form('/console/support/requesters', {
        email: 'jane@acme.example.com',
        name: 'Jane Roe',
      })
      assert.equal(added.statusCode, 200)
      assert.match(added.body, /jane@acme\.example\.com/)
      const before = await rows('requesters')
      const bad = await form('/console/support/requesters', { email: 'jane', name: 'x' })
      assert.equal(bad.statusCode, 400)
      assert.match(bad.body, /email must be a valid email address/)
      assert.equal(await rows('requesters'), before)
    })
  })

  describe('Activity', () => {
    it('shows the delivery log newest first, failed only, and an entry without any credential', async () => {
      const failed = await post(t.app, `${TICKETS}/createticket`, {
        host: HOST,
        auth: `Bearer ${acme.key}`,
        body: {
          title: 'No requester',
          description: 'D',
          requester_email: 'stranger@acme.example.com',
          password: 'p4ss',
        },
      })
      assert.equal(failed.statusCode, 400)
      const all = await page('/console/activity')
      assert.equal(all.statusCode, 200)
      assert.match(all.body, /badge ok">201/)
      assert.match(all.body, /badge bad">400/)
      const onlyFailed = await page('/console/activity?failed=1')
      assert.doesNotMatch(onlyFailed.body, /badge ok">201/)
      const id = /href="\/console\/activity\/(dlv_[a-z0-9]+)"/.exec(onlyFailed.body)?.[1]
      assert.ok(id !== undefined)
      const detail = await page(`/console/activity/${id}`)
      assert.equal(detail.statusCode, 200)
      assert.match(detail.body, /Requestor email was not found/)
      assert.ok(detail.body.includes('stranger@acme.example.com'))
      assert.ok(!detail.body.includes('p4ss'))
      for (const body of [all.body, detail.body]) {
        assert.ok(!body.includes(acme.key))
        assert.ok(!body.includes(acme.basic))
      }
      assert.equal((await page('/console/activity/dlv_nosuch')).statusCode, 404)
    })

    it('replays a failed delivery once its cause is fixed, and refuses to replay a success', async () => {
      const failed = await post(t.app, `${TICKETS}/createticket`, {
        host: HOST,
        auth: `Bearer ${acme.key}`,
        body: { title: 'Later', description: 'D', requester_email: 'late@acme.example.com' },
      })
      assert.equal(failed.statusCode, 400)
      const list = await page('/console/activity?failed=1')
      const id = /href="\/console\/activity\/(dlv_[a-z0-9]+)"/.exec(list.body)?.[1] ?? ''
      const detail = await page(`/console/activity/${id}`)
      assert.match(detail.body, /action="\/console\/activity\/dlv_[a-z0-9]+\/replay"/)
      const noCsrf = await postForm(t.app, `/console/activity/${id}/replay`, { host: HOST, cookie })
      assert.equal(noCsrf.statusCode, 403)
      await form('/console/support/requesters', { email: 'late@acme.example.com', name: 'Late' })
      const replayed = await form(`/console/activity/${id}/replay`, {})
      assert.equal(replayed.statusCode, 303)
      const next = await page(String(replayed.headers.location))
      assert.equal(next.statusCode, 200)
      assert.match(next.body, /Replayed/)
      assert.match(next.body, /badge ok">201/)
      assert.ok(next.body.includes(id), 'names the original')
      assert.match(next.body, /console_admin:usr_/)
      assert.doesNotMatch(next.body, /action="\/console\/activity\/dlv_[a-z0-9]+\/replay"/)
      const newId = /activity\/(dlv_[a-z0-9]+)\?replayed/.exec(String(replayed.headers.location))?.[1] ?? ''
      const again = await form(`/console/activity/${newId}/replay`, {})
      assert.equal(again.statusCode, 400)
      assert.match(again.body, /Only failed deliveries can be replayed/)
      assert.equal((await form('/console/activity/dlv_nosuch/replay', {})).statusCode, 404)
    })
  })
}

for (const dialect of DIALECTS) {
  describe(
    `console pages (${dialect})`,
    { skip: dialect === 'postgres' && !(await postgresAvailable()) },
    () => suite(dialect),
  )
}

/** Management API, the support system: support accounts (requesters), backend settings (the token never shown), tickets. */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { DIALECTS, postgresAvailable } from '../helpers/databases.js'
import { as, tenantSnapshot } from '../helpers/management-routes.js'
import {
  post,
  type SeededTenant,
  seedTenant,
  startTestApp,
  type TestApp,
  TICKETS,
} from '../helpers/test-app.js'

const pgUp = await postgresAvailable()
const TOKEN = 'zendesk-api-token-abcdef0123456789'

interface Ticket {
  ticket: number
  subject: string
  priority: string
  requester_email: string
  external_id: string | null
  source: string
  comments?: Array<{ body: string }>
}

for (const dialect of DIALECTS) {
  describe(`management API: support (${dialect})`, {
    skip: dialect === 'postgres' && !pgUp && 'no PostgreSQL',
  }, () => {
    let t: TestApp
    let acme: SeededTenant
    let other: SeededTenant
    before(async () => {
      t = await startTestApp(dialect)
      acme = await seedTenant(t.services, 'acme')
      other = await seedTenant(t.services, 'other')
    })
    after(() => t.close())

    const createTicket = (tenant: SeededTenant, body: Record<string, unknown>) =>
      post(t.app, `${TICKETS}/createticket`, { host: tenant.host, auth: `Bearer ${tenant.key}`, body })

    describe('requesters', () => {
      it('adds a support account that may open tickets at once; adding again updates its name', async () => {
        const email = 'Mia.Wong@acme.example.com'
        const refused = await createTicket(acme, { title: 'T', description: 'D', requester_email: email })
        assert.equal(refused.statusCode, 400)
        const added = await as<{ email: string; name: string | null }>(t.app, acme, 'POST', '/requesters', {
          email,
          name: 'Mia',
        })
        assert.equal(added.status, 201)
        assert.equal(added.body.email, email)
        assert.equal(added.body.name, 'Mia')
        const accepted = await createTicket(acme, {
          title: 'T',
          description: 'D',
          requester_email: email.toLowerCase(),
        })
        assert.equal(accepted.statusCode, 201)
        const again = await as<{ name: string | null }>(t.app, acme, 'POST', '/requesters', {
          email,
          name: 'Mia Wong',
        })
        assert.equal(again.body.name, 'Mia Wong')
        const list = await as<Array<{ email: string; name: string | null }>>(
          t.app,
          acme,
          'GET',
          '/requesters',
        )
        assert.equal(list.status, 200)
        assert.deepEqual(
          list.body.map((r) => [r.email, r.name]),
          [
            [acme.requester, 'John Doe'],
            [email, 'Mia Wong'],
          ],
        )
      })

      it('refuses bad support accounts with a clear 400 and adds nothing', async () => {
        const before = await tenantSnapshot(t.services, acme.tenant.id)
        const cases: Array<[unknown, string]> = [
          [{}, 'email is a required field'],
          [{ email: 'nope' }, 'email must be a valid email address'],
          [{ email: 42 }, 'email must be a string'],
          [{ email: 'a@b.co', name: 3 }, 'name must be a string or null'],
          [{ email: 'a@b.co', phone: '1' }, 'phone is not a known field'],
        ]
        for (const [body, message] of cases) {
          const res = await as(t.app, acme, 'POST', '/requesters', body)
          assert.equal(res.status, 400, JSON.stringify(body))
          assert.deepEqual(res.body, { error: message })
        }
        assert.equal(await tenantSnapshot(t.services, acme.tenant.id), before)
      })
    })

    describe('support system', () => {
      it('shows builtin, switches to Zendesk (token masked, sealed at rest) and back', async () => {
        assert.deepEqual((await as(t.app, acme, 'GET', '/support')).body, { backend: 'builtin' })
        const zendesk = await as(t.app, acme, 'PUT', '/support', {
          backend: 'zendesk',
          settings: { url: 'https://acme.zendesk.com/', email: 'agent@acme.example.com', api_token: TOKEN },
        })
        assert.equal(zendesk.status, 200)
        const view = {
          backend: 'zendesk',
          url: 'https://acme.zendesk.com',
          email: 'agent@acme.example.com',
          api_token: '********',
        }
        assert.deepEqual(zendesk.body, view)
        const shown = await as(t.app, acme, 'GET', '/support')
        assert.deepEqual(shown.body, view)
        assert.ok(!zendesk.raw.includes(TOKEN) && !shown.raw.includes(TOKEN))
        const row = await t.services.database.db
          .selectFrom('tenants')
          .select('support_settings')
          .where('id', '=', acme.tenant.id)
          .executeTakeFirstOrThrow()
        assert.ok(!row.support_settings.includes(TOKEN))
        // The email alone changes; the stored token stays.
        const rotated = await as(t.app, acme, 'PUT', '/support', {
          backend: 'zendesk',
          settings: { email: 'desk@acme.example.com' },
        })
        assert.equal(rotated.status, 200)
        const back = await as(t.app, acme, 'PUT', '/support', { backend: 'builtin' })
        assert.deepEqual(back.body, { backend: 'builtin' })
        assert.deepEqual((await as(t.app, acme, 'GET', '/support')).body, { backend: 'builtin' })
        assert.deepEqual((await as(t.app, other, 'GET', '/support')).body, { backend: 'builtin' })
      })

      it('refuses bad settings with a clear 400 and changes nothing', async () => {
        const before = await tenantSnapshot(t.services, acme.tenant.id)
        const cases: Array<[unknown, string]> = [
          [{}, 'backend is a required field'],
          [{ backend: 'freshdesk' }, 'backend must be one of: builtin, zendesk'],
          [
            { backend: 'builtin', settings: { url: 'x' } },
            'The builtin support system takes no settings (got url)',
          ],
          [
            {
              backend: 'zendesk',
              settings: { url: 'https://acme.zendesk.com', email: 'a@acme.example.com' },
            },
            'api_token is required',
          ],
          [
            {
              backend: 'zendesk',
              settings: { url: 'http://acme.zendesk.com', email: 'a@b.co', api_token: TOKEN },
            },
            'url must be an https URL of a public host',
          ],
          [
            { backend: 'zendesk', settings: { subdomain: 'acme' } },
            'Unknown Zendesk setting subdomain (the settings are url, email, api_token)',
          ],
          [{ backend: 'zendesk', settings: { api_token: 7 } }, 'settings.api_token must be a string'],
        ]
        for (const [body, message] of cases) {
          const res = await as(t.app, acme, 'PUT', '/support', body)
          assert.equal(res.status, 400, JSON.stringify(body))
          assert.deepEqual(res.body, { error: message }, JSON.stringify(body))
          assert.ok(!res.raw.includes(TOKEN))
        }
        assert.equal(await tenantSnapshot(t.services, acme.tenant.id), before)
      })
    })

    describe('tickets', () => {
      it('lists tickets newest first and gets one by number with its comments', async () => {
        const first = await createTicket(acme, {
          title: 'Printer',
          description: 'Jammed',
          requester_email: acme.requester,
          priority: 'high',
          floor: 3,
        })
        const second = await createTicket(acme, {
          title: 'VPN',
          description: 'Down',
          requester_email: acme.requester,
        })
        const [a, b] = [first.json() as { ticket: number }, second.json() as { ticket: number }]
        const list = await as<Ticket[]>(t.app, acme, 'GET', '/tickets')
        assert.equal(list.status, 200)
        assert.deepEqual(
          list.body.slice(0, 2).map((x) => x.ticket),
          [b.ticket, a.ticket],
        )
        assert.equal(list.body[0]?.comments, undefined)
        assert.equal((await as<Ticket[]>(t.app, acme, 'GET', '/tickets?limit=1')).body.length, 1)
        const one = await as<Ticket>(t.app, acme, 'GET', `/tickets/${a.ticket}`)
        assert.equal(one.status, 200)
        assert.equal(one.body.subject, 'Printer')
        assert.equal(one.body.priority, 'high')
        assert.equal(one.body.requester_email, acme.requester)
        assert.deepEqual(
          one.body.comments?.map((c) => c.body),
          ['Jammed\npriority: high\nfloor: 3'],
        )
        assert.deepEqual((await as(t.app, other, 'GET', '/tickets')).body, [])
      })

      it("400 for a bad number or limit; 404 for an unknown ticket and another tenant's", async () => {
        const mine = (await as<Ticket[]>(t.app, acme, 'GET', '/tickets')).body.map((x) => x.ticket)
        // Numbers are per tenant: the other tenant gets one acme does not have.
        let theirs = 0
        while (theirs <= Math.max(0, ...mine)) {
          const res = await createTicket(other, {
            title: 'Theirs',
            description: 'D',
            requester_email: other.requester,
          })
          theirs = (res.json() as { ticket: number }).ticket
        }
        const cases: Array<[string, number, string]> = [
          ['/tickets/abc', 400, 'path parameter number must be an integer'],
          ['/tickets/0', 400, 'path parameter number must be at least 1'],
          ['/tickets/1.5', 400, 'path parameter number must be an integer'],
          ['/tickets?limit=0', 400, 'query parameter limit must be at least 1'],
          ['/tickets?limit=1001', 400, 'query parameter limit must be at most 1000'],
          ['/tickets?limit=ten', 400, 'query parameter limit must be an integer'],
          [`/tickets/${theirs}`, 404, `Ticket ${theirs} not found`],
          [`/tickets/${theirs + 1}`, 404, `Ticket ${theirs + 1} not found`],
        ]
        assert.equal((await as(t.app, other, 'GET', `/tickets/${theirs}`)).status, 200)
        for (const [path, status, message] of cases) {
          const res = await as(t.app, acme, 'GET', path)
          assert.equal(res.status, status, path)
          assert.deepEqual(res.body, { error: message }, path)
        }
      })
    })
  })
}

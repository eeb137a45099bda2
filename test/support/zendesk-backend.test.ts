// The Zendesk support backend end to end: TICKETS webhooks over HTTP against the fake Zendesk, on both databases.
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { after, before, beforeEach, describe, it } from 'node:test'
import type { FastifyInstance } from 'fastify'
import { listDeliveries } from '../../src/deliveries/deliveries.js'
import { AppError } from '../../src/errors.js'
import {
  configureSupport,
  parseSettingAssignments,
  supportView,
  zendeskSettingsOf,
} from '../../src/support/support-settings.js'
import { getTicket } from '../../src/support/tickets.js'
import { requireTenant } from '../../src/tenancy/tenants.js'
import { type FakeZendesk, type RecordedRequest, startFakeZendesk } from '../fakes/fake-zendesk.js'
import { onEachDatabase } from '../helpers/suite.js'
import { post, seedTenant, TICKETS } from '../helpers/test-app.js'

const TOKEN = 'zd-T0ken-s3cret-0123456789abcdef'
const WRONG_TOKEN = 'zd-Wr0ng-s3cret-0123456789abcdef'
const EMAIL = 'agent@optimalidm.com'
const REQUESTER_ID = 35436
const SERVICENOW = readFixture('servicenow-incident.json')
const GENERIC = readFixture('generic-ticket.json')

function readFixture(name: string): Record<string, unknown> {
  return JSON.parse(readFileSync(new URL(`../fixtures/${name}`, import.meta.url), 'utf8')) as Record<
    string,
    unknown
  >
}

function basicFor(email: string, token: string): string {
  return `Basic ${Buffer.from(`${email}/token:${token}`).toString('base64')}`
}

const isTicketPost = (r: RecordedRequest) => r.method === 'POST' && r.path === '/api/v2/tickets.json'
const isSearch = (r: RecordedRequest) => r.method === 'GET' && r.path.startsWith('/api/v2/users/search.json')

async function rejection(promise: Promise<unknown>): Promise<AppError> {
  try {
    await promise
  } catch (error) {
    assert.ok(error instanceof AppError, `expected an AppError, got ${String(error)}`)
    return error
  }
  assert.fail('expected a rejection')
}

// The fake listens on 127.0.0.1: the operator's allow-private setting is the only way to reach it.
onEachDatabase('zendesk backend', { tenants: ['acme'], config: { allowPrivateConnectors: true } }, (s) => {
  /** The suite's service with its logger at the most talkative level, so anything that ever logs a token is caught. */
  let app: FastifyInstance
  let zd: FakeZendesk
  let waits: number[] = []
  let logs: string[] = []

  /** Instant retries that remember how long they were asked to wait. */
  const tuning = () => ({ sleep: async (ms: number) => void waits.push(ms) })
  const serviceNow = (fields: Record<string, unknown>, headers?: Record<string, string>) =>
    post(app, `${TICKETS}/servicenow`, {
      host: s.acme.host,
      auth: `Bearer ${s.acme.key}`,
      body: fields,
      ...(headers === undefined ? {} : { headers }),
    })
  const generic = (fields: Record<string, unknown>, headers?: Record<string, string>) =>
    post(app, `${TICKETS}/createticket`, {
      host: s.acme.host,
      auth: `Bearer ${s.acme.key}`,
      body: fields,
      ...(headers === undefined ? {} : { headers }),
    })
  const lastFailure = async (name = 'acme') => {
    const t = await requireTenant(s.services.database, name)
    const [entry] = await listDeliveries(s.db, t.id, { failed: true, limit: 1 })
    assert.ok(entry !== undefined, 'a failed delivery is logged')
    return entry
  }
  const rawTenant = (id: string) =>
    s.db.selectFrom('tenants').selectAll().where('id', '=', id).executeTakeFirstOrThrow()
  const bodyOf = (r: RecordedRequest | undefined) => JSON.parse(r?.body ?? 'null') as unknown

  before(async () => {
    zd = await startFakeZendesk({
      email: EMAIL,
      apiToken: TOKEN,
      users: [
        { id: REQUESTER_ID, name: 'John Doe', email: 'John.Doe@OptimalIDM.com' },
        { id: 1001, name: 'Johnny Doe', email: 'big.john.doe@optimalidm.com' },
      ],
    })
    ;({ app, lines: logs } = await s.loggedApp())
    await configureSupport(s.services, s.acme.tenant, 'zendesk', {
      url: zd.url,
      email: EMAIL,
      api_token: TOKEN,
    })
  })
  after(async () => {
    await zd?.close()
  })
  beforeEach(() => {
    zd.reset()
    waits = []
    s.services.zendesk = tuning()
  })

  describe('settings', () => {
    it('stores the token sealed and never shows it back', async () => {
      const view = await configureSupport(s.services, s.acme.tenant, 'zendesk', {
        url: `${zd.url}/`,
        email: ` ${EMAIL} `,
        api_token: TOKEN,
      })
      assert.deepEqual(view, { backend: 'zendesk', url: zd.url, email: EMAIL, api_token: '********' })
      const row = await rawTenant(s.acme.tenant.id)
      assert.equal(row.support_backend, 'zendesk')
      assert.ok(!JSON.stringify(row).includes(TOKEN), 'the raw tenants row holds no token')
      const stored = JSON.parse(row.support_settings) as Record<string, string>
      assert.match(stored.api_token ?? '', /^enc:v1:/)
      const fresh = await requireTenant(s.services.database, 'acme')
      assert.deepEqual(supportView(fresh), view)
      assert.deepEqual(zendeskSettingsOf(s.services, fresh), { url: zd.url, email: EMAIL, apiToken: TOKEN })
    })

    it('keeps the stored token when only the email changes, and rotates it alone', async () => {
      await configureSupport(s.services, s.acme.tenant, 'zendesk', { email: 'other@optimalidm.com' })
      let fresh = await requireTenant(s.services.database, 'acme')
      assert.deepEqual(zendeskSettingsOf(s.services, fresh), {
        url: zd.url,
        email: 'other@optimalidm.com',
        apiToken: TOKEN,
      })
      await configureSupport(s.services, s.acme.tenant, 'zendesk', { email: EMAIL, api_token: WRONG_TOKEN })
      await configureSupport(s.services, s.acme.tenant, 'zendesk', { api_token: TOKEN })
      fresh = await requireTenant(s.services.database, 'acme')
      assert.deepEqual(zendeskSettingsOf(s.services, fresh), { url: zd.url, email: EMAIL, apiToken: TOKEN })
    })

    it('rejects bad settings with a clear 400 and saves nothing', async () => {
      const before = await rawTenant(s.acme.tenant.id)
      const cases: Array<[string, Record<string, string>, RegExp]> = [
        ['zendesk', { url: 'ftp://s.acme.zendesk.com', email: EMAIL, api_token: TOKEN }, /https URL/],
        ['zendesk', { url: 'not a url', email: EMAIL, api_token: TOKEN }, /absolute address/],
        ['zendesk', { url: 'https://s.acme.zendesk.com/api/v2', email: EMAIL, api_token: TOKEN }, /no path/],
        ['zendesk', { url: zd.url, email: 'agent', api_token: TOKEN }, /email must be an email address/],
        ['zendesk', { url: zd.url, email: EMAIL, api_token: '  ' }, /api_token is required/],
        ['zendesk', { url: zd.url, email: EMAIL, api_token: 'a b' }, /spaces or control/],
        [
          'zendesk',
          { url: zd.url, email: EMAIL, api_token: TOKEN, subdomain: 'x' },
          /Unknown Zendesk setting subdomain/,
        ],
        // A new address without a new token: the stored token is not sent somewhere else unasked.
        ['zendesk', { url: 'https://elsewhere.zendesk.com' }, /api_token is required when url changes/],
        ['builtin', { url: zd.url }, /takes no settings/],
        ['freshdesk', {}, /backend must be builtin or zendesk/],
      ]
      for (const [backend, settings, message] of cases) {
        const error = await rejection(configureSupport(s.services, s.acme.tenant, backend, settings))
        assert.equal(error.status, 400, error.message)
        assert.match(error.message, message)
        assert.ok(!error.message.includes(TOKEN), 'the message does not echo the token')
      }
      assert.deepEqual(await rawTenant(s.acme.tenant.id), before)
    })

    it('a new tenant needs every Zendesk setting', async () => {
      const other = await seedTenant(s.services, 'newcomer')
      const error = await rejection(
        configureSupport(s.services, other.tenant, 'zendesk', { url: zd.url, email: EMAIL }),
      )
      assert.equal(error.message, 'api_token is required')
      const noUrl = await rejection(
        configureSupport(s.services, other.tenant, 'zendesk', { api_token: TOKEN }),
      )
      assert.equal(noUrl.message, 'url is required')
      assert.equal((await rawTenant(other.tenant.id)).support_backend, 'builtin')
    })

    it('parses --set KEY=VALUE, keeping everything after the first =', () => {
      assert.deepEqual(parseSettingAssignments(['url=https://a.zendesk.com', 'api_token=ab=cd']), {
        url: 'https://a.zendesk.com',
        api_token: 'ab=cd',
      })
      assert.throws(() => parseSettingAssignments(['url']), /KEY=VALUE/)
      assert.throws(() => parseSettingAssignments(['=x']), /KEY=VALUE/)
      assert.throws(() => parseSettingAssignments(['url=a', 'url=b']), /more than once/)
    })

    it('a token that can no longer be decrypted fails tickets with a reason, not a 500', async () => {
      const fresh = await requireTenant(s.services.database, 'acme')
      const rotated = { ...s.services, config: { ...s.services.config, secretKey: () => 'another-key' } }
      const error = await rejection(Promise.resolve().then(() => zendeskSettingsOf(rotated, fresh)))
      assert.equal(error.code, 'ticket_create_failed')
      assert.match(error.reason ?? '', /cannot be decrypted/)
    })
  })

  describe('tickets', () => {
    it('Generic: creates the Zendesk ticket and answers its id', async () => {
      const res = await generic({
        ...GENERIC,
        requester_email: 'JOHN.DOE@optimalidm.com',
        priority: 'moderate',
        count: 3,
      })
      assert.equal(res.statusCode, 201, res.body)
      const search = zd.requests.find(isSearch)
      assert.equal(
        search?.path,
        `/api/v2/users/search.json?query=${encodeURIComponent('email:JOHN.DOE@optimalidm.com')}`,
      )
      const posts = zd.requests.filter(isTicketPost)
      assert.equal(posts.length, 1)
      const sent = posts[0]
      assert.deepEqual(bodyOf(sent), {
        ticket: {
          subject: 'Test Ticket',
          comment: { body: 'Generated by the CreateTicket webhook\npriority: moderate\ncount: 3' },
          requester_id: REQUESTER_ID,
          priority: 'normal',
          tags: ['optimalcloud', 'generic'],
        },
      })
      for (const request of zd.requests) assert.equal(request.headers.authorization, basicFor(EMAIL, TOKEN))
      assert.match(String(sent?.headers['idempotency-key']), /^optimalcloud-[0-9a-f]{64}$/)
      const number = (res.json() as { ticket: number }).ticket
      assert.ok(zd.tickets.has(number), 'the answer is the Zendesk ticket id')
      assert.deepEqual(res.json(), { ticket: number })
      const view = await getTicket(s.db, s.acme.tenant.id, number)
      assert.equal(view.backend, 'zendesk')
      assert.equal(view.subject, 'Test Ticket')
      assert.equal(view.priority, 'normal')
      assert.deepEqual(
        view.comments?.map((c) => c.body),
        ['Generated by the CreateTicket webhook\npriority: moderate\ncount: 3'],
      )
      const [delivery] = await listDeliveries(s.db, s.acme.tenant.id, { limit: 1 })
      assert.equal(delivery?.ticket, number)
      assert.equal(delivery?.status, 201)
    })

    it('ServiceNow: sends subject, comment, priority, external_id and tags', async () => {
      const res = await serviceNow({ ...SERVICENOW, priority: '1 - Critical' })
      assert.equal(res.statusCode, 201, res.body)
      const number = (res.json() as { ticket: number }).ticket
      const [sent] = zd.requests.filter(isTicketPost)
      assert.deepEqual(bodyOf(sent), {
        ticket: {
          subject: 'Test Ticket',
          comment: {
            body: [
              'Description of the Incident',
              'number: INC010100',
              'reported_by_email: someone@optimalidm.com',
              'opened_at: 2022-01-05T19:25:51.927013+00:00',
              'impact: low',
              'urgency: medium',
              'category: network',
              'priority: 1 - Critical',
              'sys_id: 9d385017c611228701d22104cc95c371',
              'subcategory: ldap',
              'state: open',
            ].join('\n'),
          },
          requester_id: REQUESTER_ID,
          priority: 'urgent',
          external_id: '9d385017c611228701d22104cc95c371',
          tags: ['optimalcloud', 'servicenow'],
        },
      })
      assert.equal(zd.tickets.get(number)?.external_id, '9d385017c611228701d22104cc95c371')
      const view = await getTicket(s.db, s.acme.tenant.id, number)
      assert.equal(view.external_id, '9d385017c611228701d22104cc95c371')
      assert.equal(view.priority, 'urgent')
    })

    it('ServiceNow repeat: the changed fields go to Zendesk as a comment, 200 with the same number', async () => {
      const incident = { ...SERVICENOW, sys_id: 'repeat-1', state: 'open' }
      const first = await serviceNow(incident)
      assert.equal(first.statusCode, 201, first.body)
      const number = (first.json() as { ticket: number }).ticket

      zd.reset()
      const same = await serviceNow(incident)
      assert.equal(same.statusCode, 200, same.body)
      assert.deepEqual(same.json(), { ticket: number })
      assert.equal(
        zd.requests.filter((r) => r.method !== 'GET').length,
        0,
        'nothing changed: no call but the lookup',
      )

      const changed = await serviceNow({ ...incident, state: 'in progress', assigned_to: 'Ann' })
      assert.equal(changed.statusCode, 200, changed.body)
      assert.deepEqual(changed.json(), { ticket: number })
      const puts = zd.requests.filter((r) => r.method === 'PUT')
      assert.equal(puts.length, 1)
      assert.equal(puts[0]?.path, `/api/v2/tickets/${number}.json`)
      // A safe update against the ticket's updated_at, so a retry can never add the comment twice.
      const sent = bodyOf(puts[0]) as { ticket: Record<string, unknown> }
      assert.deepEqual(sent.ticket.comment, { body: 'state: in progress\nassigned_to: Ann' })
      assert.equal(sent.ticket.safe_update, true)
      assert.match(String(sent.ticket.updated_stamp), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/)
      assert.equal(zd.requests.filter(isTicketPost).length, 0)
      assert.deepEqual(zd.tickets.get(number)?.comments.at(-1)?.body, 'state: in progress\nassigned_to: Ann')
      const view = await getTicket(s.db, s.acme.tenant.id, number)
      assert.equal(view.comments?.length, 2)
      assert.equal(view.comments?.[1]?.body, 'state: in progress\nassigned_to: Ann')
    })

    it('ServiceNow repeat whose comment Zendesk refuses: 400 and nothing recorded', async () => {
      const incident = { ...SERVICENOW, sys_id: 'repeat-fails' }
      const first = await serviceNow(incident)
      const number = (first.json() as { ticket: number }).ticket
      zd.failNext(
        { kind: 'answer', status: 422, body: { error: 'RecordInvalid', description: 'Ticket is closed' } },
        1,
        'PUT',
      )
      const res = await serviceNow({ ...incident, state: 'closed' })
      assert.equal(res.statusCode, 400)
      assert.deepEqual(res.json(), { error: 'Failed to create the new ticket in Zendesk' })
      assert.match(
        (await lastFailure()).reason ?? '',
        new RegExp(`^Zendesk answered 422 \\(RecordInvalid\\) during comment on ticket ${number}$`),
      )
      const view = await getTicket(s.db, s.acme.tenant.id, number)
      assert.equal(view.comments?.length, 1, 'the local copy did not take the comment Zendesk refused')
      // The next call reports the same change again, since it was never recorded.
      const retry = await serviceNow({ ...incident, state: 'closed' })
      assert.equal(retry.statusCode, 200, retry.body)
      assert.equal((await getTicket(s.db, s.acme.tenant.id, number)).comments?.[1]?.body, 'state: closed')
    })

    it('ServiceNow repeat whose comment was added but whose answer was lost: 200 and exactly one comment', async () => {
      const incident = { ...SERVICENOW, sys_id: 'repeat-lost-answer' }
      const first = await serviceNow(incident)
      const number = (first.json() as { ticket: number }).ticket
      // Zendesk adds the comment at once and answers after the attempt has timed out.
      zd.failNext({ kind: 'slow', delayMs: 400 }, 1, 'PUT')
      s.services.zendesk = { ...tuning(), timeoutMs: 150 }
      const res = await serviceNow({ ...incident, state: 'resolved' })
      assert.equal(res.statusCode, 200, res.body)
      assert.deepEqual(res.json(), { ticket: number })
      const comments = zd.tickets.get(number)?.comments.map((c) => c.body) ?? []
      assert.deepEqual(comments.slice(1), ['state: resolved'], 'one comment in Zendesk')
      const view = await getTicket(s.db, s.acme.tenant.id, number)
      assert.deepEqual(
        view.comments?.map((c) => c.body).slice(1),
        ['state: resolved'],
        'the local copy took it once too',
      )
    })

    it('10 identical ServiceNow calls at once make exactly one Zendesk ticket', async () => {
      const before = zd.tickets.size
      const incident = { ...SERVICENOW, sys_id: 'storm-1' }
      const answers = await Promise.all(Array.from({ length: 10 }, () => serviceNow(incident)))
      const numbers = new Set(answers.map((a) => (a.json() as { ticket: number }).ticket))
      assert.equal(numbers.size, 1, `one number for all: ${answers.map((a) => a.body).join(' ')}`)
      assert.deepEqual(
        answers.map((a) => a.statusCode).sort(),
        [200, 200, 200, 200, 200, 200, 200, 200, 200, 201],
      )
      assert.equal(zd.requests.filter(isTicketPost).length, 1)
      assert.equal(zd.tickets.size, before + 1)
      const rows = await s.db
        .selectFrom('tickets')
        .select('number')
        .where('tenant_id', '=', s.acme.tenant.id)
        .where('dedupe_key', '=', 'servicenow:sys_id:storm-1')
        .execute()
      assert.equal(rows.length, 1)
    })

    it('a claim left by a dead process is taken over; a live one is waited for', async () => {
      const insertClaim = (sysId: string, createdAt: string) =>
        s.services.database.transaction((trx) =>
          trx
            .insertInto('tickets')
            .values({
              id: `tkt_claim_${sysId}`,
              tenant_id: s.acme.tenant.id,
              number: null,
              subject: 'x',
              priority: 'normal',
              requester_email: 'x@example.com',
              external_id: sysId,
              source: 'servicenow',
              dedupe_key: `servicenow:sys_id:${sysId}`,
              source_fields: '{}',
              backend: 'zendesk',
              created_at: createdAt,
              updated_at: createdAt,
            })
            .execute(),
        )
      await insertClaim('stale-1', new Date(Date.now() - 120_000).toISOString())
      const takeover = await serviceNow({ ...SERVICENOW, sys_id: 'stale-1' })
      assert.equal(takeover.statusCode, 201, takeover.body)

      await insertClaim('busy-1', new Date().toISOString())
      s.services.zendesk = { ...tuning(), budgetMs: 300, pollMs: 20 }
      const started = performance.now()
      const busy = await serviceNow({ ...SERVICENOW, sys_id: 'busy-1' })
      assert.ok(performance.now() - started < 3000)
      assert.equal(busy.statusCode, 400)
      assert.deepEqual(busy.json(), { error: 'Failed to create the new ticket in Zendesk' })
      assert.match((await lastFailure()).reason ?? '', /still creating/)

      // The holder gives up when this call has almost no time left: no ticket is started that late.
      await insertClaim('busy-2', new Date().toISOString())
      s.services.zendesk = { ...tuning(), budgetMs: 400, pollMs: 20 }
      const release = setTimeout(() => {
        void s.services.database.transaction((trx) =>
          trx.deleteFrom('tickets').where('id', '=', 'tkt_claim_busy-2').execute(),
        )
      }, 250)
      const late = await serviceNow({ ...SERVICENOW, sys_id: 'busy-2' })
      clearTimeout(release)
      assert.equal(late.statusCode, 400, late.body)
      assert.match((await lastFailure()).reason ?? '', /No time left|still creating/)
      assert.equal(zd.requests.filter(isTicketPost).length, 1, 'only the takeover created a ticket')
    })

    it('an Idempotency-Key repeat answers the first answer without calling Zendesk', async () => {
      const headers = { 'idempotency-key': 'generic-once-1' }
      const first = await generic({ ...GENERIC, requester_email: 'john.doe@optimalidm.com' }, headers)
      assert.equal(first.statusCode, 201, first.body)
      zd.reset()
      const again = await generic({ ...GENERIC, requester_email: 'john.doe@optimalidm.com' }, headers)
      assert.equal(again.statusCode, 201)
      assert.equal(again.body, first.body)
      assert.equal(zd.requests.length, 0)
    })

    it('a retry of a delivery whose answer was lost gets the ticket Zendesk already made', async () => {
      const before = zd.tickets.size
      const headers = { 'idempotency-key': 'lost-answer-1' }
      const body = { ...GENERIC, requester_email: 'john.doe@optimalidm.com', title: 'Lost answer' }
      s.services.zendesk = { ...tuning(), timeoutMs: 150, maxAttempts: 1 }
      zd.failNext({ kind: 'slow', delayMs: 0 })
      // Zendesk makes the ticket but answers too late.
      zd.failNext({ kind: 'slow', delayMs: 500 })
      const lost = await generic(body, headers)
      assert.equal(lost.statusCode, 400, lost.body)
      assert.match((await lastFailure()).reason ?? '', /no answer from Zendesk within 150 ms/)
      assert.equal(zd.tickets.size, before + 1)

      s.services.zendesk = tuning()
      const retry = await generic(body, headers)
      assert.equal(retry.statusCode, 201, retry.body)
      const [firstPost, secondPost] = zd.requests.filter(isTicketPost)
      assert.equal(secondPost?.headers['idempotency-key'], firstPost?.headers['idempotency-key'])
      assert.equal(zd.tickets.size, before + 1, 'no second Zendesk ticket')
      const number = (retry.json() as { ticket: number }).ticket
      assert.equal(zd.tickets.get(number)?.subject, 'Lost answer')
    })

    it('a replayed delivery whose ticket is already kept answers the same number', async () => {
      // The same request id (a caller resending its X-Request-Id) is the same delivery.
      const headers = { 'x-request-id': 'replayed-delivery-1' }
      const body = { ...GENERIC, requester_email: 'john.doe@optimalidm.com', title: 'Replayed' }
      const first = await generic(body, headers)
      assert.equal(first.statusCode, 201, first.body)
      const before = zd.tickets.size
      const replay = await generic(body, headers)
      assert.equal(replay.statusCode, 201, replay.body)
      assert.equal(replay.body, first.body)
      assert.equal(zd.tickets.size, before)
      // The same request id with another incident is a new ticket, not a Zendesk idempotency error.
      const other = await generic({ ...body, title: 'Another incident' }, headers)
      assert.equal(other.statusCode, 201, other.body)
      assert.notEqual(other.body, first.body)
    })
  })

  describe('requester', () => {
    it('a partial match is no match', async () => {
      const res = await generic({ ...GENERIC, requester_email: 'doe@optimalidm.com' })
      assert.equal(res.statusCode, 400)
      assert.deepEqual(res.json(), { error: 'Requestor email was not found in Zendesk' })
      assert.equal(zd.requests.filter(isSearch).length, 1)
      assert.equal(zd.requests.filter(isTicketPost).length, 0)
      assert.match((await lastFailure()).reason ?? '', /doe@optimalidm.com is not a Zendesk user/)
    })

    it('an unknown address is no match, and no user is created', async () => {
      const res = await serviceNow({
        ...SERVICENOW,
        requester_email: 'nobody@elsewhere.example',
        sys_id: 'nobody',
      })
      assert.equal(res.statusCode, 400)
      assert.deepEqual(res.json(), { error: 'Requestor email was not found in Zendesk' })
      assert.ok(zd.requests.every((r) => r.method === 'GET'))
      const claims = await s.db
        .selectFrom('tickets')
        .select('id')
        .where('dedupe_key', '=', 'servicenow:sys_id:nobody')
        .execute()
      assert.equal(claims.length, 0)
    })
  })

  describe('failures', () => {
    it('a rejected token: 400 for the caller, a clear reason without the token in the log', async () => {
      const bad = await seedTenant(s.services, 'badtoken')
      await configureSupport(s.services, bad.tenant, 'zendesk', {
        url: zd.url,
        email: EMAIL,
        api_token: WRONG_TOKEN,
      })
      const res = await post(app, `${TICKETS}/servicenow`, {
        host: bad.host,
        auth: `Bearer ${bad.key}`,
        body: SERVICENOW,
      })
      assert.equal(res.statusCode, 400)
      assert.deepEqual(res.json(), { error: 'Failed to create the new ticket in Zendesk' })
      assert.equal(zd.requests.length, 1, 'a 401 is not retried')
      assert.equal(zd.requests[0]?.headers.authorization, basicFor(EMAIL, WRONG_TOKEN))
      const entry = await lastFailure('badtoken')
      assert.match(entry.reason ?? '', /^Zendesk rejected the API token \(401\)/)
      assert.ok(!JSON.stringify(entry).includes(WRONG_TOKEN))
      const claims = await s.db
        .selectFrom('tickets')
        .select('id')
        .where('tenant_id', '=', bad.tenant.id)
        .execute()
      assert.equal(claims.length, 0, 'the claim is dropped')
    })

    it('429 with Retry-After, then success', async () => {
      zd.failNext({ kind: 'slow', delayMs: 0 })
      zd.failNext({ kind: 'rate_limited', retryAfterSeconds: 2 })
      const res = await generic({ ...GENERIC, requester_email: 'john.doe@optimalidm.com' })
      assert.equal(res.statusCode, 201, res.body)
      assert.deepEqual(waits, [2000])
      const posts = zd.requests.filter(isTicketPost)
      assert.equal(posts.length, 2)
      assert.equal(posts[1]?.headers['idempotency-key'], posts[0]?.headers['idempotency-key'])
    })

    it('500 on every attempt: 400 well within 20 s, with default timings', async () => {
      s.services.zendesk = undefined
      zd.failNext({ kind: 'slow', delayMs: 0 })
      zd.failNext({ kind: 'server_error' }, 20)
      const started = performance.now()
      const res = await serviceNow({ ...SERVICENOW, sys_id: 'down-1' })
      const elapsed = performance.now() - started
      assert.equal(res.statusCode, 400)
      assert.deepEqual(res.json(), { error: 'Failed to create the new ticket in Zendesk' })
      assert.ok(elapsed < 20_000, `answered after ${elapsed} ms`)
      assert.equal(zd.requests.filter(isTicketPost).length, 4)
      assert.match(
        (await lastFailure()).reason ?? '',
        /^Zendesk answered 500 during ticket creation \(after 4 attempts\)/,
      )
      // The incident is free again: once Zendesk is back, the next call creates it.
      zd.reset()
      const again = await serviceNow({ ...SERVICENOW, sys_id: 'down-1' })
      assert.equal(again.statusCode, 201, again.body)
    })

    it('a Retry-After longer than the time left fails at once', async () => {
      zd.failNext({ kind: 'slow', delayMs: 0 })
      zd.failNext({ kind: 'server_error', status: 503, retryAfterSeconds: 60 })
      const res = await generic({ ...GENERIC, requester_email: 'john.doe@optimalidm.com' })
      assert.equal(res.statusCode, 400)
      assert.deepEqual(waits, [])
      assert.match(
        (await lastFailure()).reason ?? '',
        /^Zendesk answered 503 during ticket creation; Zendesk asks to wait \d+ s, more than the time left/,
      )
    })

    it('a Zendesk that never answers in time: 400 within the webhook budget', async () => {
      s.services.zendesk = { ...tuning(), timeoutMs: 100, budgetMs: 600, maxAttempts: 20 }
      zd.failNext({ kind: 'slow', delayMs: 1000 }, 30)
      const started = performance.now()
      const res = await generic({ ...GENERIC, requester_email: 'john.doe@optimalidm.com' })
      const elapsed = performance.now() - started
      assert.equal(res.statusCode, 400)
      assert.ok(elapsed < 1500, `answered after ${elapsed} ms`)
      assert.match(
        (await lastFailure()).reason ?? '',
        /^no answer from Zendesk within \d+ ms during user search/,
      )
      assert.equal(zd.requests.filter(isTicketPost).length, 0)
    })

    it('a Zendesk id that meets a number the built-in system gave: 400 with the reason', async () => {
      const legacy = await seedTenant(s.services, 'legacy')
      const send = () =>
        post(app, `${TICKETS}/createticket`, {
          host: legacy.host,
          auth: `Bearer ${legacy.key}`,
          body: { ...GENERIC, requester_email: legacy.requester },
        })
      assert.deepEqual((await send()).json(), { ticket: 1 })
      assert.deepEqual((await send()).json(), { ticket: 2 })
      const small = await startFakeZendesk({
        email: EMAIL,
        apiToken: TOKEN,
        firstTicketId: 2,
        users: [{ id: 7, name: 'Legacy', email: legacy.requester }],
      })
      try {
        await configureSupport(s.services, legacy.tenant, 'zendesk', {
          url: small.url,
          email: EMAIL,
          api_token: TOKEN,
        })
        const clash = await send()
        assert.equal(clash.statusCode, 400, clash.body)
        assert.match(
          (await lastFailure('legacy')).reason ?? '',
          /ticket number 2 of this tenant already belongs to a builtin ticket/,
        )
        assert.equal((await getTicket(s.db, legacy.tenant.id, 2)).backend, 'builtin')
        const next = await send()
        assert.equal(next.statusCode, 201, next.body)
        assert.deepEqual(next.json(), { ticket: 3 })

        // And back to the built-in system: numbers continue past every number given, Zendesk is not called.
        const view = await configureSupport(s.services, legacy.tenant, 'builtin', {})
        assert.deepEqual(view, { backend: 'builtin' })
        const row = await rawTenant(legacy.tenant.id)
        assert.equal(row.support_settings, '{}', 'the token is forgotten')
        small.reset()
        const builtin = await send()
        assert.equal(builtin.statusCode, 201, builtin.body)
        // Unique, not gap-free: numbers the built-in system took in a block before the switch may be skipped.
        const { ticket } = builtin.json() as { ticket: number }
        assert.ok(ticket > 3, `the built-in number ${ticket} is past every number given`)
        assert.equal(small.requests.length, 0)
      } finally {
        await small.close()
      }
    })
  })

  describe('switching systems', () => {
    it('a ServiceNow repeat of an incident from before the switch opens a ticket in the new system', async () => {
      const moving = await seedTenant(s.services, 'moving')
      const incident = { ...SERVICENOW, requester_email: moving.requester, sys_id: 'before-switch' }
      const send = (fields: Record<string, unknown>) =>
        post(app, `${TICKETS}/servicenow`, {
          host: moving.host,
          auth: `Bearer ${moving.key}`,
          body: fields,
        })
      assert.equal((await send(incident)).statusCode, 201)
      const fakes = await Promise.all(
        [500, 900].map((firstTicketId) =>
          startFakeZendesk({
            email: EMAIL,
            apiToken: TOKEN,
            firstTicketId,
            users: [{ id: 7, name: 'M', email: moving.requester }],
          }),
        ),
      )
      try {
        for (const [index, fake] of fakes.entries()) {
          await configureSupport(s.services, moving.tenant, 'zendesk', {
            url: fake.url,
            email: EMAIL,
            api_token: TOKEN,
          })
          const repeat = await send({ ...incident, state: `moved ${index}` })
          // Not a comment on whatever ticket carries the old number over there: a new ticket.
          assert.equal(repeat.statusCode, 201, repeat.body)
          assert.deepEqual(repeat.json(), { ticket: index === 0 ? 500 : 900 })
          assert.equal(fake.requests.filter((r) => r.method === 'PUT').length, 0)
          assert.equal(fake.requests.filter(isTicketPost).length, 1)
        }
        // Within one system, repeats still find their ticket.
        const again = await send({ ...incident, state: 'moved 1' })
        assert.equal(again.statusCode, 200, again.body)
        assert.deepEqual(again.json(), { ticket: 900 })
      } finally {
        await Promise.all(fakes.map((fake) => fake.close()))
      }
    })
  })

  describe('secrets', () => {
    it('the token is in no delivery, no ticket and no log line', async () => {
      const secrets = [TOKEN, WRONG_TOKEN, basicFor(EMAIL, TOKEN), basicFor(EMAIL, WRONG_TOKEN)]
      const deliveries = JSON.stringify(await s.db.selectFrom('deliveries').selectAll().execute())
      const tickets = JSON.stringify(await s.db.selectFrom('tickets').selectAll().execute())
      const tenants = JSON.stringify(await s.db.selectFrom('tenants').selectAll().execute())
      assert.ok(deliveries.includes('Zendesk rejected the API token'), 'the deliveries were written')
      assert.ok(logs.length > 0, 'the logs were captured')
      const text = logs.join('')
      for (const secret of secrets) {
        assert.ok(!deliveries.includes(secret), 'no token in deliveries')
        assert.ok(!tickets.includes(secret), 'no token in tickets')
        assert.ok(!tenants.includes(secret), 'no token in tenants')
        assert.ok(!text.includes(secret), 'no token in the logs')
      }
    })
  })
})

// Tests the Zendesk client against a local fake that answers like Zendesk, faults included.
import assert from 'node:assert/strict'
import { after, before, beforeEach, describe, it } from 'node:test'
import { outboundPolicy } from '../../src/connectors/http/outbound-policy.js'
import {
  validateZendeskSettings,
  ZendeskClient,
  type ZendeskClientOptions,
  ZendeskError,
  type ZendeskTicketInput,
} from '../../src/connectors/zendesk-client.js'
import { type FakeZendesk, startFakeZendesk } from '../fakes/fake-zendesk.js'

const TOKEN = 'tok-5ecret-Zd-0123456789abcdef'
// The fake listens on 127.0.0.1: only the operator's allow-private setting lets a connector call it.
const LOCAL = outboundPolicy({ allowPrivate: true })
const EMAIL = 'agent@optimalidm.com'

/** Records the waits instead of sleeping, so retry tests run at once and can assert Retry-After was honoured. */
function recordingSleep(): { waits: number[]; sleep: (ms: number) => Promise<void> } {
  const waits: number[] = []
  return { waits, sleep: async (ms) => void waits.push(ms) }
}

async function failure(promise: Promise<unknown>): Promise<ZendeskError> {
  try {
    await promise
  } catch (err) {
    assert.ok(err instanceof ZendeskError, `expected a ZendeskError, got ${String(err)}`)
    return err
  }
  assert.fail('expected the call to fail')
}

/** Neither the token nor anything carrying it may reach the delivery log. */
function assertNoSecrets(err: ZendeskError): void {
  const basic = Buffer.from(`${EMAIL}/token:${TOKEN}`).toString('base64')
  for (const text of [err.message, String(err), err.stack ?? '']) {
    assert.ok(!text.includes(TOKEN), `message leaks the token: ${text}`)
    assert.ok(!text.includes(basic), `message leaks the Authorization value: ${text}`)
  }
}

const ticketInput: ZendeskTicketInput = {
  subject: 'Test Ticket',
  body: 'Description of the Incident',
  requesterId: 35436,
  priority: 'high',
  externalId: '9d385017c611228701d22104cc95c371',
  tags: ['optimalcloud', 'servicenow'],
}

describe('ZendeskClient', () => {
  let zd: FakeZendesk
  const client = (options: ZendeskClientOptions = {}, token = TOKEN): ZendeskClient =>
    new ZendeskClient({ url: `${zd.url}/`, email: EMAIL, apiToken: token }, { policy: LOCAL, ...options })

  before(async () => {
    zd = await startFakeZendesk({
      email: EMAIL,
      apiToken: TOKEN,
      pageSize: 2,
      users: [
        { id: 35436, name: 'John Doe', email: 'john.doe@optimalidm.com', organization_id: 57542 },
        { id: 1001, name: 'Johnny Doe', email: 'big.john.doe@optimalidm.com' },
        { id: 1002, name: 'Ann Lee', email: 'Ann.Lee@Example.COM' },
        { id: 1003, name: 'Partial', email: 'xsam@example.com' },
        { id: 1004, name: 'Partial Two', email: 'sam@example.com.au' },
        { id: 1005, name: 'Paged 1', email: 'a.pat@corp.example' },
        { id: 1006, name: 'Paged 2', email: 'b.pat@corp.example' },
        { id: 1007, name: 'Paged 3', email: 'pat@corp.example' },
      ],
    })
  })
  after(() => zd.close())
  beforeEach(() => zd.reset())

  describe('findUserIdByEmail', () => {
    it('finds the exact address among fuzzy results', async () => {
      assert.equal(await client().findUserIdByEmail('john.doe@optimalidm.com'), 35436)
      assert.equal(zd.requests.length, 1)
      const req = zd.requests[0]
      assert.equal(req?.method, 'GET')
      assert.equal(
        req?.path,
        `/api/v2/users/search.json?query=${encodeURIComponent('email:john.doe@optimalidm.com')}`,
      )
      assert.equal(
        req?.headers.authorization,
        `Basic ${Buffer.from(`${EMAIL}/token:${TOKEN}`).toString('base64')}`,
      )
    })

    it('treats partial matches as no match', async () => {
      // The fake answers xsam@example.com and sam@example.com.au, neither of which is the address.
      assert.equal(await client().findUserIdByEmail('sam@example.com'), null)
    })

    it('answers null when nobody matches, and creates nobody', async () => {
      assert.equal(await client().findUserIdByEmail('nobody@nowhere.example'), null)
      assert.ok(zd.requests.every((r) => r.method === 'GET'))
    })

    it('matches regardless of case', async () => {
      assert.equal(await client().findUserIdByEmail('ann.lee@example.com'), 1002)
      assert.equal(await client().findUserIdByEmail('JOHN.DOE@OPTIMALIDM.COM'), 35436)
    })

    it('follows next_page to find an exact match past the first page', async () => {
      assert.equal(await client().findUserIdByEmail('pat@corp.example'), 1007)
      assert.equal(zd.requests.length, 2)
    })

    it('fails as auth on 401 without retrying', async () => {
      const err = await failure(
        client({ sleep: recordingSleep().sleep }, 'wrong-token').findUserIdByEmail('a@b.example'),
      )
      assert.equal(err.kind, 'auth')
      assert.equal(err.status, 401)
      assert.equal(err.message, 'Zendesk answered 401 during user search')
      assert.equal(zd.requests.length, 1)
      assert.ok(!err.message.includes('wrong-token'))
    })
  })

  describe('createTicket', () => {
    it('posts every field with the idempotency key and auth header', async () => {
      const id = await client().createTicket(ticketInput, 'delivery-1')
      const ticket = zd.tickets.get(id)
      assert.ok(ticket)
      assert.equal(zd.requests.length, 1)
      const req = zd.requests[0]
      assert.equal(req?.method, 'POST')
      assert.equal(req?.path, '/api/v2/tickets.json')
      assert.equal(req?.headers['idempotency-key'], 'delivery-1')
      assert.equal(
        req?.headers.authorization,
        `Basic ${Buffer.from(`${EMAIL}/token:${TOKEN}`).toString('base64')}`,
      )
      assert.match(String(req?.headers['content-type']), /^application\/json/)
      assert.deepEqual(JSON.parse(req?.body ?? ''), {
        ticket: {
          subject: 'Test Ticket',
          comment: { body: 'Description of the Incident' },
          requester_id: 35436,
          priority: 'high',
          external_id: '9d385017c611228701d22104cc95c371',
          tags: ['optimalcloud', 'servicenow'],
        },
      })
      assert.equal(ticket.subject, 'Test Ticket')
      assert.equal(ticket.description, 'Description of the Incident')
      assert.equal(ticket.external_id, '9d385017c611228701d22104cc95c371')
    })

    it('leaves external_id out when there is none', async () => {
      const { externalId: _externalId, ...withoutExternal } = ticketInput
      await client().createTicket(withoutExternal, 'delivery-no-external')
      const body: unknown = JSON.parse(zd.requests[0]?.body ?? '')
      assert.ok(typeof body === 'object' && body !== null && 'ticket' in body)
      assert.ok(!Object.hasOwn(Object(body.ticket), 'external_id'))
    })

    it('gets the same ticket back when a delivery is replayed with the same key', async () => {
      const before = zd.tickets.size
      const first = await client().createTicket(ticketInput, 'delivery-replay')
      const second = await client().createTicket(ticketInput, 'delivery-replay')
      assert.equal(second, first)
      assert.equal(zd.tickets.size, before + 1)
    })

    it("is rejected, with Zendesk's error code, when the same key comes with another body", async () => {
      await client().createTicket(ticketInput, 'delivery-conflict')
      const err = await failure(
        client().createTicket({ ...ticketInput, subject: 'Other' }, 'delivery-conflict'),
      )
      assert.equal(err.kind, 'rejected')
      assert.equal(err.status, 400)
      assert.equal(err.message, 'Zendesk answered 400 (IdempotentRequestError) during ticket creation')
    })

    it("is rejected on 422 with the status and code only, never Zendesk's details, without retrying", async () => {
      const err = await failure(
        client().createTicket({ ...ticketInput, requesterId: 999999 }, 'delivery-422'),
      )
      assert.equal(err.kind, 'rejected')
      assert.equal(err.status, 422)
      assert.equal(err.message, 'Zendesk answered 422 (RecordInvalid) during ticket creation')
      assert.doesNotMatch(err.message, /Requester: is invalid|Record validation errors/)
      assert.equal(zd.requests.length, 1)

      zd.failNext({
        kind: 'answer',
        status: 422,
        body: { error: 'RecordInvalid', description: 'x'.repeat(5000) },
      })
      const long = await failure(client().createTicket(ticketInput, 'delivery-422-long'))
      assert.ok(long.message.length < 400, `message is ${long.message.length} characters`)
    })

    it('fails as auth on 401 without retrying', async () => {
      zd.failNext({ kind: 'unauthorized' }, 3)
      const { waits, sleep } = recordingSleep()
      const err = await failure(client({ sleep }).createTicket(ticketInput, 'delivery-401'))
      assert.equal(err.kind, 'auth')
      assert.equal(err.status, 401)
      assert.equal(zd.requests.length, 1)
      assert.deepEqual(waits, [])
      assertNoSecrets(err)
    })

    it('honours Retry-After on 429, then succeeds', async () => {
      zd.failNext({ kind: 'rate_limited', retryAfterSeconds: 1 })
      const { waits, sleep } = recordingSleep()
      const id = await client({ sleep }).createTicket(ticketInput, 'delivery-429')
      assert.ok(zd.tickets.has(id))
      assert.deepEqual(waits, [1000])
      assert.equal(zd.requests.length, 2)
      assert.equal(zd.requests[1]?.headers['idempotency-key'], 'delivery-429')
      assert.equal(zd.requests[1]?.body, zd.requests[0]?.body)
    })

    it('waits for real when no sleep is injected', async () => {
      zd.failNext({ kind: 'rate_limited', retryAfterSeconds: 1 })
      const started = performance.now()
      await client().findUserIdByEmail('john.doe@optimalidm.com')
      assert.ok(performance.now() - started >= 950)
    })

    it('fails at once as rate_limited when Retry-After is beyond the budget', async () => {
      zd.failNext({ kind: 'rate_limited', retryAfterSeconds: 60 })
      const { waits, sleep } = recordingSleep()
      const err = await failure(
        client({ sleep, budgetMs: 15000 }).createTicket(ticketInput, 'delivery-429-long'),
      )
      assert.equal(err.kind, 'rate_limited')
      assert.equal(err.status, 429)
      assert.deepEqual(waits, [])
      assert.equal(zd.requests.length, 1)
    })

    it('retries a 500, then succeeds', async () => {
      zd.failNext({ kind: 'server_error' })
      const { waits, sleep } = recordingSleep()
      const id = await client({ sleep }).createTicket(ticketInput, 'delivery-500')
      assert.ok(zd.tickets.has(id))
      assert.equal(waits.length, 1)
      assert.equal(zd.requests.length, 2)
    })

    it('honours Retry-After on a 503', async () => {
      zd.failNext({ kind: 'server_error', status: 503, retryAfterSeconds: 2 })
      const { waits, sleep } = recordingSleep()
      await client({ sleep }).createTicket(ticketInput, 'delivery-503')
      assert.deepEqual(waits, [2000])
    })

    it('retries a dropped connection, then succeeds', async () => {
      zd.failNext({ kind: 'drop' })
      const { sleep } = recordingSleep()
      const id = await client({ sleep }).createTicket(ticketInput, 'delivery-drop')
      assert.ok(zd.tickets.has(id))
      assert.equal(zd.requests.length, 2)
    })

    it('stops after maxAttempts of 500 as server', async () => {
      zd.failNext({ kind: 'server_error' }, 10)
      const { waits, sleep } = recordingSleep()
      const err = await failure(
        client({ sleep, maxAttempts: 3 }).createTicket(ticketInput, 'delivery-500-x3'),
      )
      assert.equal(err.kind, 'server')
      assert.equal(err.status, 500)
      assert.equal(zd.requests.length, 3)
      assert.equal(waits.length, 2)
      assert.equal(err.message, 'Zendesk answered 500 during ticket creation (after 3 attempts)')
      assertNoSecrets(err)
    })

    it('gives up on a 500 forever within the budget, as server', async () => {
      zd.failNext({ kind: 'server_error' }, 100)
      const started = performance.now()
      const err = await failure(
        client({ budgetMs: 700, maxAttempts: 100 }).createTicket(ticketInput, 'delivery-500-budget'),
      )
      const elapsed = performance.now() - started
      assert.equal(err.kind, 'server')
      assert.ok(elapsed <= 700 + 100, `took ${Math.round(elapsed)} ms`)
      assert.ok(zd.requests.length >= 2, 'it retried at least once')
    })

    it('fails as timeout when an answer is slower than the attempt timeout', async () => {
      zd.failNext({ kind: 'slow', delayMs: 1000 })
      const started = performance.now()
      const err = await failure(
        client({ timeoutMs: 150, maxAttempts: 1 }).createTicket(ticketInput, 'delivery-slow'),
      )
      assert.equal(err.kind, 'timeout')
      assert.equal(err.status, undefined)
      assert.equal(err.message, 'no answer from Zendesk within 150 ms during ticket creation')
      assert.ok(performance.now() - started < 600)
      assertNoSecrets(err)
    })

    it('retries after a timeout and gets the ticket the slow attempt made, not a second one', async () => {
      zd.failNext({ kind: 'slow', delayMs: 400 })
      const before = zd.tickets.size
      // Waits until the slow attempt has finished server-side, so the retry meets its idempotency key.
      const id = await client({ timeoutMs: 150, sleep: () => delayMs(400) }).createTicket(
        ticketInput,
        'delivery-slow-retry',
      )
      assert.equal(zd.tickets.size, before + 1)
      assert.ok(zd.tickets.has(id))
      assert.equal(zd.requests.length, 2)
    })

    it('caps each attempt at the time left in the budget', async () => {
      zd.failNext({ kind: 'slow', delayMs: 2000 })
      const started = performance.now()
      const err = await failure(
        client({ timeoutMs: 5000, budgetMs: 300 }).createTicket(ticketInput, 'delivery-cap'),
      )
      assert.equal(err.kind, 'timeout')
      assert.ok(performance.now() - started < 800)
    })

    it('never puts the token in a message, even when Zendesk echoes it', async () => {
      zd.failNext({
        kind: 'answer',
        status: 400,
        body: {
          error: 'InvalidValue',
          description: `bad token ${TOKEN} in ${Buffer.from(`${EMAIL}/token:${TOKEN}`).toString('base64')}`,
        },
      })
      const err = await failure(client().createTicket(ticketInput, 'delivery-echo'))
      assert.equal(err.kind, 'rejected')
      assertNoSecrets(err)
      assert.equal(err.message, 'Zendesk answered 400 (InvalidValue) during ticket creation')
    })

    it('leaves out an error code that is not a short token, or that echoes the token', async () => {
      const basic = Buffer.from(`${EMAIL}/token:${TOKEN}`).toString('base64')
      for (const error of [TOKEN, TOKEN.slice(4, 20), basic, 'two words', 'x'.repeat(65), '<b>html</b>']) {
        zd.failNext({ kind: 'answer', status: 400, body: { error, description: 'CANARY-description' } })
        const err = await failure(client().createTicket(ticketInput, `delivery-code-${error.length}`))
        assert.equal(err.message, 'Zendesk answered 400 during ticket creation', error)
        assertNoSecrets(err)
      }
    })

    it("reads the code of Zendesk's newer error shape {errors:[{code,title,detail}]}", async () => {
      zd.failNext({
        kind: 'answer',
        status: 403,
        body: {
          errors: [{ code: 'Forbidden', title: 'CANARY-title', detail: 'CANARY-detail', status: '403' }],
        },
      })
      const err = await failure(client().createTicket(ticketInput, 'delivery-errors-shape'))
      assert.equal(err.kind, 'auth')
      assert.equal(err.message, 'Zendesk answered 403 (Forbidden) during ticket creation')
    })

    it('never follows a redirect: a 3xx is a failure with a fixed reason, not retried', async () => {
      const target = await startFakeZendesk({ email: EMAIL, apiToken: TOKEN })
      try {
        zd.failNext({
          kind: 'answer',
          status: 302,
          body: '',
          headers: { Location: `${target.url}/api/v2/tickets.json` },
        })
        const err = await failure(
          client({ sleep: recordingSleep().sleep }).createTicket(ticketInput, 'delivery-302'),
        )
        assert.equal(err.kind, 'bad_response')
        assert.equal(
          err.message,
          'Zendesk answered 302, a redirect, which is not followed during ticket creation',
        )
        assert.equal(zd.requests.length, 1)
        assert.equal(target.connections(), 0, 'the redirect target is never contacted')
      } finally {
        await target.close()
      }
    })

    it('reports a network failure as network', async () => {
      const closed = await startFakeZendesk({ email: EMAIL, apiToken: TOKEN })
      const url = closed.url
      await closed.close()
      const { sleep } = recordingSleep()
      const err = await failure(
        new ZendeskClient(
          { url, email: EMAIL, apiToken: TOKEN },
          { sleep, maxAttempts: 2, policy: LOCAL },
        ).findUserIdByEmail('a@b.example'),
      )
      assert.equal(err.kind, 'network')
      assert.equal(
        err.message,
        'could not reach Zendesk (connection refused) during user search (after 2 attempts)',
      )
      assertNoSecrets(err)
    })

    it('reports a 2xx that is not JSON as bad_response', async () => {
      zd.failNext({ kind: 'answer', status: 201, body: 'not json' })
      const err = await failure(client().createTicket(ticketInput, 'delivery-garbage'))
      assert.equal(err.kind, 'bad_response')
    })
  })

  describe('addComment', () => {
    const COMMENT = 'ServiceNow repeated the incident'
    const bodies = (id: number) => zd.tickets.get(id)?.comments.map((c) => c.body)
    const puts = () => zd.requests.filter((r) => r.method === 'PUT')

    it('appends a comment with a safe update against the ticket it just read', async () => {
      const id = await client().createTicket(ticketInput, 'delivery-comment')
      const stamp = zd.tickets.get(id)?.updated_at
      zd.reset()
      await client().addComment(id, COMMENT)
      assert.deepEqual(
        zd.requests.map((r) => `${r.method} ${r.path}`),
        [`GET /api/v2/tickets/${id}.json`, `PUT /api/v2/tickets/${id}.json`],
      )
      assert.deepEqual(JSON.parse(zd.requests[1]?.body ?? ''), {
        ticket: { comment: { body: COMMENT }, safe_update: true, updated_stamp: stamp },
      })
      assert.deepEqual(bodies(id), ['Description of the Incident', COMMENT])
    })

    it('a PUT applied but whose answer was lost (timeout) is not applied twice: exactly one comment', async () => {
      const id = await client().createTicket(ticketInput, 'delivery-comment-lost')
      zd.reset()
      // Zendesk adds the comment at once but answers after the client gave up.
      zd.failNext({ kind: 'slow', delayMs: 400 }, 1, 'PUT')
      await client({ timeoutMs: 150, sleep: () => delayMs(300) }).addComment(id, COMMENT)
      assert.deepEqual(bodies(id), ['Description of the Incident', COMMENT])
      assert.equal(puts().length, 1, 'no second PUT once the comment was seen')
      assert.ok(
        zd.requests.some((r) => r.path.startsWith(`/api/v2/tickets/${id}/comments.json?sort_order=desc`)),
      )
    })

    it('a PUT that never reached Zendesk (dropped) is sent again: exactly one comment', async () => {
      const id = await client().createTicket(ticketInput, 'delivery-comment-drop')
      zd.reset()
      zd.failNext({ kind: 'drop' }, 1, 'PUT')
      await client({ sleep: recordingSleep().sleep }).addComment(id, COMMENT)
      assert.deepEqual(bodies(id), ['Description of the Incident', COMMENT])
      assert.equal(puts().length, 2)
    })

    it('a 409 (the ticket changed between the read and the PUT) is read again and retried: one comment', async () => {
      const id = await client().createTicket(ticketInput, 'delivery-comment-race')
      zd.reset()
      zd.failNext(
        { kind: 'answer', status: 409, body: { error: 'UpdateConflict', description: 'CANARY' } },
        1,
        'PUT',
      )
      await client({ sleep: recordingSleep().sleep }).addComment(id, COMMENT)
      assert.deepEqual(bodies(id), ['Description of the Incident', COMMENT])
      assert.equal(puts().length, 2)
    })

    it('a stale stamp is answered 409 by Zendesk, as a late duplicate PUT would be', async () => {
      const id = await client().createTicket(ticketInput, 'delivery-comment-stale')
      const stale = zd.tickets.get(id)?.updated_at
      await client().addComment(id, 'first')
      const ticket = zd.tickets.get(id)
      assert.ok(ticket && stale !== undefined)
      // Zendesk stamps to the second: make the change visible in the stamp.
      ticket.updated_at = new Date(Date.parse(ticket.updated_at) + 1000)
        .toISOString()
        .replace(/\.\d{3}Z$/, 'Z')
      const res = await fetch(`${zd.url}/api/v2/tickets/${id}.json`, {
        method: 'PUT',
        headers: {
          authorization: `Basic ${Buffer.from(`${EMAIL}/token:${TOKEN}`).toString('base64')}`,
          'content-type': 'application/json',
        },
        body: JSON.stringify({
          ticket: { comment: { body: 'late' }, safe_update: true, updated_stamp: stale },
        }),
      })
      assert.equal(res.status, 409)
      assert.deepEqual(await res.json(), {
        error: 'UpdateConflict',
        description:
          'Safe Update prevented the update due to outdated ticket data. Please fetch the latest ticket data and try again.',
      })
      assert.deepEqual(bodies(id), ['Description of the Incident', 'first'])
    })

    it('keeps answering 409 until the attempts run out: a failure with the code, one comment at most', async () => {
      const id = await client().createTicket(ticketInput, 'delivery-comment-busy')
      zd.reset()
      zd.failNext({ kind: 'answer', status: 409, body: { error: 'UpdateConflict' } }, 10, 'PUT')
      const err = await failure(
        client({ sleep: recordingSleep().sleep, maxAttempts: 3 }).addComment(id, COMMENT),
      )
      assert.equal(err.kind, 'rejected')
      assert.equal(err.status, 409)
      assert.equal(
        err.message,
        `Zendesk answered 409 (UpdateConflict) during comment on ticket ${id} (after 3 attempts)`,
      )
      assert.deepEqual(bodies(id), ['Description of the Incident'])
    })

    it('is rejected with RecordNotFound for an unknown ticket', async () => {
      const err = await failure(client().addComment(987654321, 'hello'))
      assert.equal(err.kind, 'rejected')
      assert.equal(err.status, 404)
      assert.match(err.message, /RecordNotFound/)
    })
  })
})

describe('validateZendeskSettings', () => {
  const good = { url: 'https://acme.zendesk.com', email: 'agent@acme.com', apiToken: 'abc123' }

  it('accepts good settings, a trailing slash, plain http (the policy judges it) and api_token', () => {
    assert.equal(validateZendeskSettings(good), null)
    assert.equal(validateZendeskSettings({ ...good, url: 'https://acme.zendesk.com/' }), null)
    assert.equal(validateZendeskSettings({ ...good, url: 'http://127.0.0.1:4567' }), null)
    assert.equal(validateZendeskSettings({ ...good, url: 'http://acme.zendesk.com' }), null)
    assert.equal(validateZendeskSettings({ url: good.url, email: good.email, api_token: 'abc123' }), null)
  })

  it('refuses what would send the token to the wrong place or not at all', () => {
    const cases: Partial<Record<string, unknown>>[] = [
      { ...good, url: undefined },
      { ...good, url: 'acme.zendesk.com' },
      { ...good, url: 'ftp://acme.zendesk.com' },
      { ...good, url: 'file:///etc/passwd' },
      { ...good, url: 'https://acme.zendesk.com/api/v2' },
      { ...good, url: 'https://acme.zendesk.com/?x=1' },
      { ...good, url: 'https://user:pw@acme.zendesk.com' },
      { ...good, email: 'not-an-email' },
      { ...good, email: 'a b@acme.com' },
      { ...good, email: 42 },
      { ...good, apiToken: '' },
      { ...good, apiToken: '   ' },
      { ...good, apiToken: 'abc\r\nX-Evil: 1' },
      { url: good.url, email: good.email },
    ]
    for (const settings of cases) {
      assert.equal(typeof validateZendeskSettings(settings), 'string', JSON.stringify(settings))
    }
  })

  it('makes the client refuse invalid settings', () => {
    assert.throws(
      () => new ZendeskClient({ ...good, url: 'ftp://acme.zendesk.com' }),
      (err: unknown) => err instanceof ZendeskError && err.kind === 'rejected',
    )
  })

  it('a url the outbound policy refuses is never called: not_allowed, not retried', async () => {
    for (const url of [
      'http://acme.zendesk.com',
      'https://127.0.0.1',
      'https://[::1]',
      'https://localhost',
    ]) {
      const client = new ZendeskClient({ ...good, url }, { sleep: async () => assert.fail('no retry') })
      const err = await failure(client.findUserIdByEmail('a@b.example'))
      assert.equal(err.kind, 'not_allowed', url)
      assert.match(
        err.message,
        /^the address of Zendesk is not allowed \((only https URLs are called|not a public host)\) during user search$/,
      )
    }
  })
})

function delayMs(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

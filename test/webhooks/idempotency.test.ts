/** Idempotency-Key on both TICKETS webhooks: repeats answer the first answer, only 2xx is kept, keys are per tenant. */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { listDeliveries } from '../../src/deliveries/deliveries.js'
import { addRequester } from '../../src/support/requesters.js'
import { getTicket } from '../../src/support/tickets.js'
import { countRows } from '../helpers/rows.js'
import { onEachDatabase } from '../helpers/suite.js'
import { post, TICKETS } from '../helpers/test-app.js'

const REUSED = '{"error":"Idempotency-Key was already used with a different request"}'
const INVALID_KEY = '{"error":"Idempotency-Key must be 1 to 255 printable characters"}'

interface Route {
  name: string
  path: string
  body(requester: string, n: number): Record<string, unknown>
}

const ROUTES: Route[] = [
  {
    name: 'servicenow',
    path: `${TICKETS}/servicenow`,
    body: (requester, n) => ({
      requester_email: requester,
      short_description: `Incident ${n}`,
      sys_id: `sys-${n}`,
    }),
  },
  {
    name: 'createticket',
    path: `${TICKETS}/createticket`,
    body: (requester, n) => ({ title: `Ticket ${n}`, description: 'D', requester_email: requester }),
  },
]

onEachDatabase('Idempotency-Key', (s) => {
  let n = 0
  const send = (route: Route, key: string, body: unknown, tenant = s.acme) =>
    post(s.app, route.path, {
      host: tenant.host,
      auth: tenant.key,
      body,
      headers: { 'idempotency-key': key },
    })
  const counts = async (tenant = s.acme) => ({
    tickets: await countRows(s.db, 'tickets', tenant.tenant.id),
    comments: await countRows(s.db, 'ticket_comments', tenant.tenant.id),
  })

  for (const route of ROUTES) {
    describe(route.name, () => {
      it('answers a repeat of the same key and body as the first call, and changes nothing', async () => {
        n += 1
        const key = `same-${route.name}`
        const body = route.body(s.acme.requester, n)
        const first = await send(route, key, body)
        assert.equal(first.statusCode, 201, first.body)
        const after1 = await counts()
        for (const raw of [JSON.stringify(body), JSON.stringify(body, null, 2)]) {
          const repeat = await post(s.app, route.path, {
            host: s.acme.host,
            auth: s.acme.basic,
            raw,
            headers: { 'idempotency-key': key },
          })
          assert.equal(repeat.statusCode, 201, repeat.body)
          assert.equal(repeat.body, first.body)
        }
        assert.deepEqual(await counts(), after1, 'no second ticket, no second comment')
        // The repeat's delivery entry names the ticket it answered with.
        const [latest] = await listDeliveries(s.db, s.acme.tenant.id, { limit: 1 })
        assert.equal(latest?.status, 201)
        assert.equal(latest?.ticket, first.json().ticket)
        assert.equal(latest?.idempotency_key, key)
      })

      it('refuses the same key with a different body, and changes nothing', async () => {
        n += 1
        const key = `different-${route.name}`
        const body = route.body(s.acme.requester, n)
        const first = await send(route, key, body)
        assert.equal(first.statusCode, 201, first.body)
        const after1 = await counts()
        for (const other of [{ ...body, extra: 1 }, route.body(s.acme.requester, n + 1000), {}]) {
          const res = await send(route, key, other)
          assert.equal(res.statusCode, 400, res.body)
          assert.equal(res.body, REUSED)
        }
        // The same key on the other webhook is a different request too.
        const elsewhere = ROUTES.find((r) => r.name !== route.name)
        assert.ok(elsewhere)
        const crossed = await send(elsewhere, key, body)
        assert.equal(crossed.statusCode, 400)
        assert.equal(crossed.body, REUSED)
        assert.deepEqual(await counts(), after1)
        const again = await send(route, key, body)
        assert.equal(again.statusCode, 201)
        assert.equal(again.body, first.body)
      })

      it('keeps no 4xx: after a refusal the same key runs the request again', async () => {
        n += 1
        const key = `retry-${route.name}`
        const requester = `late-${route.name}@acme.example.com`
        const body = route.body(requester, n)
        const refused = await send(route, key, body)
        assert.equal(refused.statusCode, 400)
        assert.equal(refused.body, '{"error":"Requestor email was not found in Zendesk"}')
        await addRequester(s.services.database, s.acme.tenant.id, requester, null)
        const created = await send(route, key, body)
        assert.equal(created.statusCode, 201, created.body)
        const ticket = await getTicket(s.db, s.acme.tenant.id, created.json().ticket)
        assert.equal(ticket.requester_email, requester)

        // A validation failure is not kept either, even with a different body afterwards.
        const otherKey = `invalid-first-${route.name}`
        const invalid = await send(route, otherKey, {})
        assert.equal(invalid.statusCode, 400)
        n += 1
        const valid = await send(route, otherKey, route.body(s.acme.requester, n))
        assert.equal(valid.statusCode, 201, valid.body)
      })

      it('keeps keys per tenant', async () => {
        n += 1
        const key = `shared-${route.name}`
        const inAcme = await send(route, key, route.body(s.acme.requester, n), s.acme)
        assert.equal(inAcme.statusCode, 201, inAcme.body)
        const otherBefore = await counts(s.other)
        // The same key, even with another body, is new in another tenant.
        const inOther = await send(route, key, route.body(s.other.requester, n), s.other)
        assert.equal(inOther.statusCode, 201, inOther.body)
        assert.deepEqual(await counts(s.other), {
          tickets: otherBefore.tickets + 1,
          comments: otherBefore.comments + 1,
        })
        const ticket = await getTicket(s.db, s.other.tenant.id, inOther.json().ticket)
        assert.equal(ticket.requester_email, s.other.requester)
      })

      it('runs a key again once its answer is older than 24 hours', async () => {
        n += 1
        const key = `old-${route.name}`
        const body = route.body(s.acme.requester, n)
        const first = await send(route, key, body)
        assert.equal(first.statusCode, 201)
        await s.services.database.transaction((trx) =>
          trx
            .updateTable('idempotency_keys')
            .set({ created_at: new Date(Date.now() - 25 * 3600_000).toISOString() })
            .where('tenant_id', '=', s.acme.tenant.id)
            .where('key', '=', key)
            .execute(),
        )
        const before = await counts()
        const later = await send(route, key, { ...body, note: 'a day later' })
        assert.ok(later.statusCode === 201 || later.statusCode === 200, later.body)
        assert.notEqual(JSON.stringify(await counts()), JSON.stringify(before), 'the request ran again')
      })

      it('refuses a malformed key 400 and creates nothing', async () => {
        const before = await counts()
        for (const key of ['', 'x'.repeat(256), 'has space', 'tab\there']) {
          const res = await send(route, key, route.body(s.acme.requester, 9999))
          assert.equal(res.statusCode, 400, JSON.stringify(key))
          assert.equal(res.body, INVALID_KEY)
        }
        assert.deepEqual(await counts(), before)
        const longest = await send(
          route,
          `${route.name}-`.padEnd(255, 'k'),
          route.body(s.acme.requester, 9998),
        )
        assert.equal(longest.statusCode, 201, longest.body)
      })
    })
  }

  it('a ServiceNow repeat under a new key answers 200; the first key still answers 201', async () => {
    const route = ROUTES[0]
    assert.ok(route)
    const body = route.body(s.acme.requester, 5000)
    const first = await send(route, 'sn-a', body)
    assert.equal(first.statusCode, 201)
    const repeat = await send(route, 'sn-b', body)
    assert.equal(repeat.statusCode, 200)
    assert.equal(repeat.body, first.body)
    const replay = await send(route, 'sn-a', body)
    assert.equal(replay.statusCode, 201)
    assert.equal(replay.body, first.body)
  })
})

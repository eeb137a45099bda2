/** Management API, the delivery log: list, get with the body, and replay of failed deliveries end to end. */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { BODY_LIMIT } from '../../src/app.js'
import { configureSupport } from '../../src/support/support-settings.js'
import { zendeskIdempotencyKey } from '../../src/support/zendesk-tickets.js'
import { type FakeZendesk, startFakeZendesk } from '../fakes/fake-zendesk.js'
import { uniqueAddress } from '../helpers/client-address.js'
import { DIALECTS, postgresAvailable } from '../helpers/databases.js'
import { as, failedTicketDelivery, tenantSnapshot } from '../helpers/management-routes.js'
import { countRows } from '../helpers/rows.js'
import {
  post,
  type SeededTenant,
  seedTenant,
  startTestApp,
  type TestApp,
  TICKETS,
} from '../helpers/test-app.js'
import { PROVISIONING } from '../helpers/webhook-routes.js'

const pgUp = await postgresAvailable()

interface Delivery {
  id: string
  endpoint: string
  destination_id: string | null
  principal: string | null
  status: number
  error: string | null
  ticket: number | null
  user_id: string | null
  request_id: string
  idempotency_key: string | null
  replay_of: string | null
  request_body?: unknown
}

interface Replay {
  delivery: Delivery
  status: number
  body: unknown
}

for (const dialect of DIALECTS) {
  describe(`management API: deliveries (${dialect})`, {
    skip: dialect === 'postgres' && !pgUp && 'no PostgreSQL',
  }, () => {
    let t: TestApp
    let acme: SeededTenant
    let other: SeededTenant
    before(async () => {
      // The fake Zendesk listens on 127.0.0.1: the operator's allow-private setting is the only way to reach it.
      t = await startTestApp(dialect, { allowPrivateConnectors: true })
      acme = await seedTenant(t.services, 'acme')
      other = await seedTenant(t.services, 'other')
    })
    after(() => t.close())

    const ticketCall = (
      tenant: SeededTenant,
      body: Record<string, unknown>,
      headers?: Record<string, string>,
    ) =>
      post(t.app, `${TICKETS}/createticket`, {
        host: tenant.host,
        auth: `Bearer ${tenant.key}`,
        body,
        ...(headers === undefined ? {} : { headers }),
      })
    const deliveryOf = async (requestId: string) =>
      (await as<Delivery[]>(t.app, acme, 'GET', '/deliveries?limit=1000')).body.find(
        (d) => d.request_id === requestId,
      )

    it('lists deliveries newest first, only the failed ones on request, and gets one with its body', async () => {
      const body = { title: 'Listed', description: 'D', requester_email: acme.requester }
      assert.equal((await ticketCall(acme, body, { 'x-request-id': 'list-ok' })).statusCode, 201)
      const failedId = await failedTicketDelivery(t.services, t.app, acme)
      const all = await as<Delivery[]>(t.app, acme, 'GET', '/deliveries')
      assert.equal(all.status, 200)
      assert.equal(all.body[0]?.id, failedId)
      assert.ok(all.body.some((d) => d.request_id === 'list-ok' && d.status === 201 && d.ticket !== null))
      assert.equal(all.body[0]?.request_body, undefined, 'lists leave the bodies out')
      const failed = await as<Delivery[]>(t.app, acme, 'GET', '/deliveries?failed=true')
      assert.ok(failed.body.length > 0 && failed.body.every((d) => d.status >= 300))
      assert.equal((await as<Delivery[]>(t.app, acme, 'GET', '/deliveries?limit=1')).body.length, 1)
      assert.deepEqual((await as(t.app, other, 'GET', '/deliveries')).body, [], 'only this tenant')

      const one = await as<Delivery>(t.app, acme, 'GET', `/deliveries/${failedId}`)
      assert.equal(one.status, 200)
      assert.equal(one.body.endpoint, 'createticket')
      assert.equal(one.body.error, 'Requestor email was not found in Zendesk')
      assert.deepEqual(one.body.request_body, {
        title: 'T',
        description: 'D',
        requester_email: 'nobody@example.com',
      })
      assert.equal(one.body.principal, `api_key:${acme.keyId}`)
      assert.ok(!one.raw.includes(acme.key))
    })

    it("400 for a bad filter; 404 for an unknown delivery and another tenant's", async () => {
      const theirs = await failedTicketDelivery(t.services, t.app, other)
      const cases: Array<[string, string, number, string]> = [
        ['GET', '/deliveries?failed=yes', 400, 'query parameter failed must be a boolean (true or false)'],
        ['GET', '/deliveries?limit=5000', 400, 'query parameter limit must be at most 1000'],
        ['GET', '/deliveries?status=400', 400, 'status is not a known query parameter'],
        ['GET', `/deliveries/${theirs}`, 404, 'Delivery not found'],
        ['GET', '/deliveries/dlv_nope', 404, 'Delivery not found'],
        ['POST', `/deliveries/${theirs}/replay`, 404, 'Delivery not found'],
        ['POST', '/deliveries/dlv_nope/replay', 404, 'Delivery not found'],
      ]
      const before = await tenantSnapshot(t.services, other.tenant.id)
      for (const [method, path, status, message] of cases) {
        const res = await as(t.app, acme, method as 'GET', path)
        assert.equal(res.status, status, path)
        assert.deepEqual(res.body, { error: message }, path)
      }
      assert.equal(await tenantSnapshot(t.services, other.tenant.id), before)
    })

    it('replays a failed createticket once the requester exists: 201, a ticket, a new delivery with replay_of', async () => {
      const requester = 'late.joiner@acme.example.com'
      const body = { title: 'Replayed', description: 'Please', requester_email: requester }
      const refused = await ticketCall(acme, body, { 'x-request-id': 'replay-me' })
      assert.equal(refused.statusCode, 400)
      const original = await deliveryOf('replay-me')
      assert.ok(original !== undefined)

      // Still failing: the replay runs, is logged, and says so.
      const early = await as<Replay>(t.app, acme, 'POST', `/deliveries/${original.id}/replay`)
      assert.equal(early.status, 201)
      assert.equal(early.body.status, 400)
      assert.deepEqual(early.body.body, { error: 'Requestor email was not found in Zendesk' })
      assert.equal(early.body.delivery.replay_of, original.id)
      assert.equal(early.body.delivery.status, 400)

      assert.equal((await as(t.app, acme, 'POST', '/requesters', { email: requester })).status, 201)
      const tickets = await countRows(t.services.database.db, 'tickets', acme.tenant.id)
      const replay = await as<Replay>(t.app, acme, 'POST', `/deliveries/${original.id}/replay`)
      assert.equal(replay.status, 201)
      assert.equal(replay.body.status, 201)
      const { ticket } = replay.body.body as { ticket: number }
      assert.ok(Number.isInteger(ticket) && ticket > 0)
      const entry = replay.body.delivery
      assert.notEqual(entry.id, original.id)
      assert.equal(entry.replay_of, original.id)
      assert.equal(entry.endpoint, 'createticket')
      assert.equal(entry.status, 201)
      assert.equal(entry.ticket, ticket)
      assert.equal(entry.principal, `api_key:${acme.keyId}`)
      assert.equal(await countRows(t.services.database.db, 'tickets', acme.tenant.id), tickets + 1)
      const shown = await as<{ subject: string; requester_email: string }>(
        t.app,
        acme,
        'GET',
        `/tickets/${ticket}`,
      )
      assert.equal(shown.body.subject, 'Replayed')
      const logged = await as<Delivery>(t.app, acme, 'GET', `/deliveries/${entry.id}`)
      assert.deepEqual(logged.body.request_body, body)
      assert.equal(logged.body.replay_of, original.id)

      // The success itself is not replayable; the original again, or a failed replay of it, makes no second ticket.
      const success = await as(t.app, acme, 'POST', `/deliveries/${entry.id}/replay`)
      assert.equal(success.status, 400)
      assert.deepEqual(success.body, { error: 'Only failed deliveries can be replayed' })
      for (const id of [original.id, early.body.delivery.id]) {
        const again = await as<Replay>(t.app, acme, 'POST', `/deliveries/${id}/replay`)
        assert.equal(again.body.status, 201)
        assert.deepEqual(again.body.body, { ticket })
        assert.equal(again.body.delivery.replay_of, original.id)
      }
      assert.equal(await countRows(t.services.database.db, 'tickets', acme.tenant.id), tickets + 1)
    })

    it('two replays of one delivery at once make one ticket', async () => {
      const requester = 'racer@acme.example.com'
      await ticketCall(
        acme,
        { title: 'Race', description: 'D', requester_email: requester },
        {
          'x-request-id': 'race-me',
        },
      )
      const original = await deliveryOf('race-me')
      assert.ok(original !== undefined && original.status === 400)
      await as(t.app, acme, 'POST', '/requesters', { email: requester })
      const tickets = await countRows(t.services.database.db, 'tickets', acme.tenant.id)
      const both = await Promise.all(
        [1, 2].map(() => as<Replay>(t.app, acme, 'POST', `/deliveries/${original.id}/replay`)),
      )
      const numbers = both.map((r) => (r.body.body as { ticket: number }).ticket)
      assert.equal(numbers[0], numbers[1])
      assert.equal(await countRows(t.services.database.db, 'tickets', acme.tenant.id), tickets + 1)
    })

    it('a delivery refused before its body was read cannot be replayed', async () => {
      // Too large to be read (a call with bad credentials is not a delivery at all).
      const refused = await post(t.app, `${TICKETS}/createticket`, {
        host: acme.host,
        auth: `Bearer ${acme.key}`,
        raw: 'x'.repeat(BODY_LIMIT + 1),
        headers: { 'x-request-id': 'no-body' },
        remoteAddress: uniqueAddress(),
      })
      assert.equal(refused.statusCode, 413)
      const entry = await deliveryOf('no-body')
      assert.ok(entry !== undefined)
      const before = await tenantSnapshot(t.services, acme.tenant.id)
      const res = await as(t.app, acme, 'POST', `/deliveries/${entry.id}/replay`)
      assert.equal(res.status, 400)
      assert.deepEqual(res.body, { error: 'This delivery has no stored request body to replay' })
      assert.equal(await tenantSnapshot(t.services, acme.tenant.id), before)
    })

    it('replays an HR delivery through its destination; a disabled destination is logged as 404', async () => {
      const destination = await as<{ plugin_id: string }>(t.app, acme, 'POST', '/destinations', {
        type: 'generic-hr',
        name: 'HR',
      })
      const base = `${PROVISIONING}/${destination.body.plugin_id}`
      const hr = (operation: string, body: Record<string, unknown>, requestId: string) =>
        post(t.app, `${base}/${operation}`, {
          host: acme.host,
          auth: `Bearer ${acme.key}`,
          body,
          headers: { 'x-request-id': requestId },
        })
      const early = await hr('modifyuser', { employee_id: 'H-1', last_name: 'Changed' }, 'hr-early')
      assert.equal(early.statusCode, 400)
      const original = await deliveryOf('hr-early')
      assert.ok(original !== undefined)
      assert.equal(original.destination_id, destination.body.plugin_id)
      const hired = await hr(
        'adduser',
        { employee_id: 'H-1', first_name: 'Hal', last_name: 'Lee', email: 'hal@acme.example.com' },
        'hr-hire',
      )
      assert.equal(hired.statusCode, 201)

      const replay = await as<Replay>(t.app, acme, 'POST', `/deliveries/${original.id}/replay`)
      assert.equal(replay.status, 201)
      assert.equal(replay.body.status, 200)
      const { user } = replay.body.body as { user: { id: string; last_name: string } }
      assert.equal(user.last_name, 'Changed')
      assert.equal(replay.body.delivery.endpoint, 'modifyuser')
      assert.equal(replay.body.delivery.destination_id, destination.body.plugin_id)
      assert.equal(replay.body.delivery.user_id, user.id)

      const late = await hr('deleteuser', { employee_id: 'H-404' }, 'hr-late')
      assert.equal(late.statusCode, 400)
      const lateEntry = await deliveryOf('hr-late')
      assert.ok(lateEntry !== undefined)
      await as(t.app, acme, 'POST', `/destinations/${destination.body.plugin_id}/disable`)
      const gone = await as<Replay>(t.app, acme, 'POST', `/deliveries/${lateEntry.id}/replay`)
      assert.equal(gone.status, 201)
      assert.equal(gone.body.status, 404)
      assert.deepEqual(gone.body.body, { error: 'Provisioning destination not found' })
      assert.equal(gone.body.delivery.status, 404)
      assert.equal(gone.body.delivery.replay_of, lateEntry.id)
    })

    describe('with Zendesk', () => {
      let zd: FakeZendesk
      let desk: SeededTenant
      before(async () => {
        zd = await startFakeZendesk({ users: [{ id: 501, name: 'Zed', email: 'zed@desk.example.com' }] })
        desk = await seedTenant(t.services, 'desk')
        await configureSupport(t.services, desk.tenant, 'zendesk', {
          url: zd.url,
          email: zd.email,
          api_token: zd.apiToken,
        })
      })
      after(async () => {
        t.services.zendesk = undefined
        await zd.close()
      })

      it("a replay sends Zendesk the original's Idempotency-Key: a ticket made by a timed-out call is not made twice", async () => {
        const body = {
          title: 'Slow',
          description: 'Zendesk was slow',
          requester_email: 'zed@desk.example.com',
        }
        // The search answers at once; the ticket is made at once but answered after the call gave up.
        zd.failNext({ kind: 'slow', delayMs: 0 })
        zd.failNext({ kind: 'slow', delayMs: 2000 })
        t.services.zendesk = { budgetMs: 700, sleep: async () => {} }
        const slow = await post(t.app, `${TICKETS}/createticket`, {
          host: desk.host,
          auth: `Bearer ${desk.key}`,
          body,
          headers: { 'x-request-id': 'zd-slow' },
        })
        assert.equal(slow.statusCode, 400)
        assert.deepEqual(slow.json(), { error: 'Failed to create the new ticket in Zendesk' })
        assert.equal(zd.tickets.size, 1, 'Zendesk made the ticket anyway')
        const [made] = [...zd.tickets.keys()]

        t.services.zendesk = { sleep: async () => {} }
        const failed = (await as<Delivery[]>(t.app, desk, 'GET', '/deliveries?failed=true')).body
        const original = failed.find((d) => d.request_id === 'zd-slow')
        assert.ok(original !== undefined)
        const replay = await as<Replay>(t.app, desk, 'POST', `/deliveries/${original.id}/replay`)
        assert.equal(replay.status, 201)
        assert.equal(replay.body.status, 201)
        assert.deepEqual(replay.body.body, { ticket: made })
        assert.equal(zd.tickets.size, 1, 'no second Zendesk ticket')

        const keys = zd.requests
          .filter((r) => r.method === 'POST' && r.path === '/api/v2/tickets.json')
          .map((r) => r.headers['idempotency-key'])
        assert.equal(keys.length, 2)
        assert.equal(keys[0], keys[1])
        const input = {
          subject: 'Slow',
          body: 'Zendesk was slow',
          requesterId: 501,
          priority: 'normal' as const,
          tags: ['optimalcloud', 'generic'],
        }
        assert.equal(keys[0], zendeskIdempotencyKey(desk.tenant.id, 'request:zd-slow', input))
        const ticket = await as<{ backend: string }>(t.app, desk, 'GET', `/tickets/${made}`)
        assert.equal(ticket.body.backend, 'zendesk')
      })
    })
  })
}

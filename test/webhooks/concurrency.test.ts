/** Calls that arrive at once: one ticket per incident, one per Idempotency-Key, and numbers without gaps or twins. */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { getTicket, listTickets } from '../../src/support/tickets.js'
import { DIALECTS, postgresAvailable } from '../helpers/databases.js'
import { countRows } from '../helpers/rows.js'
import {
  post,
  type SeededTenant,
  seedTenant,
  startTestApp,
  type TestApp,
  TICKETS,
} from '../helpers/test-app.js'

const pgUp = await postgresAvailable()

for (const dialect of DIALECTS) {
  describe(`concurrent webhook calls (${dialect})`, {
    skip: dialect === 'postgres' && !pgUp && 'no PostgreSQL',
  }, () => {
    let t: TestApp
    let tenants = 0
    before(async () => {
      t = await startTestApp(dialect)
    })
    after(() => t.close())

    async function freshTenant(): Promise<SeededTenant> {
      tenants += 1
      return seedTenant(t.services, `c${tenants}`)
    }

    it('20 identical ServiceNow calls at once: one ticket, one 201, nineteen 200 with its number', async () => {
      const tenant = await freshTenant()
      const body = {
        requester_email: tenant.requester,
        short_description: 'Everything is down',
        description: 'All at once',
        sys_id: 'concurrent-sys-id',
      }
      const answers = await Promise.all(
        Array.from({ length: 20 }, () =>
          post(t.app, `${TICKETS}/servicenow`, { host: tenant.host, auth: tenant.key, body }),
        ),
      )
      const statuses = answers.map((res) => res.statusCode).sort((a, b) => b - a)
      assert.deepEqual(statuses, [201, ...Array(19).fill(200)], answers.map((res) => res.body).join(' '))
      // Numbers are unique, not gap-free: the calls that lost the race skip the numbers they took.
      const number = JSON.parse(answers[0]?.body ?? '{}').ticket
      for (const res of answers) assert.equal(res.body, JSON.stringify({ ticket: number }))
      assert.equal(await countRows(t.services.database.db, 'tickets', tenant.tenant.id), 1)
      const ticket = await getTicket(t.services.database.db, tenant.tenant.id, number)
      assert.deepEqual(
        ticket.comments?.map((comment) => comment.body),
        ['All at once\nsys_id: concurrent-sys-id'],
        'identical repeats add no comment',
      )
    })

    for (const route of ['createticket', 'servicenow']) {
      it(`20 ${route} calls with one Idempotency-Key at once: one ticket, twenty identical answers`, async () => {
        const tenant = await freshTenant()
        const body =
          route === 'createticket'
            ? { title: 'Once', description: 'Only once', requester_email: tenant.requester }
            : { short_description: 'Once', description: 'Only once', requester_email: tenant.requester }
        const answers = await Promise.all(
          Array.from({ length: 20 }, () =>
            post(t.app, `${TICKETS}/${route}`, {
              host: tenant.host,
              auth: tenant.key,
              body,
              headers: { 'idempotency-key': 'the-one-key' },
            }),
          ),
        )
        const { db } = t.services.database
        const [stored] = await listTickets(db, tenant.tenant.id)
        for (const res of answers) {
          assert.equal(res.statusCode, 201, res.body)
          assert.equal(res.body, JSON.stringify({ ticket: stored?.ticket }))
        }
        assert.equal(await countRows(db, 'tickets', tenant.tenant.id), 1)
        assert.equal(await countRows(db, 'ticket_comments', tenant.tenant.id), 1)
        assert.equal(await countRows(db, 'idempotency_keys', tenant.tenant.id), 1)
        assert.equal(
          await countRows(db, 'deliveries', tenant.tenant.id),
          20,
          'every call is in the delivery log',
        )
      })
    }

    it('one Idempotency-Key with two different bodies at once: one ticket; the other body is refused', async () => {
      const tenant = await freshTenant()
      const bodies = ['A', 'B'].map((title) => ({
        title,
        description: 'D',
        requester_email: tenant.requester,
      }))
      const answers = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          post(t.app, `${TICKETS}/createticket`, {
            host: tenant.host,
            auth: tenant.key,
            body: bodies[i % 2],
            headers: { 'idempotency-key': 'raced-key' },
          }),
        ),
      )
      assert.equal(await countRows(t.services.database.db, 'tickets', tenant.tenant.id), 1)
      const [stored] = await listTickets(t.services.database.db, tenant.tenant.id)
      assert.ok(stored !== undefined)
      const winner = stored.subject
      for (const [i, res] of answers.entries()) {
        if (bodies[i % 2]?.title === winner) {
          assert.equal(res.statusCode, 201, res.body)
          assert.equal(res.body, JSON.stringify({ ticket: stored.ticket }))
        } else {
          assert.equal(res.statusCode, 400, res.body)
          assert.equal(res.body, '{"error":"Idempotency-Key was already used with a different request"}')
        }
      }
    })

    it('50 different createticket calls at once: 50 tickets numbered 1..50', async () => {
      const tenant = await freshTenant()
      const answers = await Promise.all(
        Array.from({ length: 50 }, (_, i) =>
          post(t.app, `${TICKETS}/createticket`, {
            host: tenant.host,
            auth: i % 2 === 0 ? tenant.key : tenant.basic,
            body: { title: `Ticket ${i}`, description: `Call ${i}`, requester_email: tenant.requester },
          }),
        ),
      )
      for (const res of answers) assert.equal(res.statusCode, 201, res.body)
      const numbers = answers.map((res) => res.json().ticket as number).sort((a, b) => a - b)
      assert.deepEqual(
        numbers,
        Array.from({ length: 50 }, (_, i) => i + 1),
      )
      // Each answer names the ticket made from its own call.
      for (const [i, res] of answers.entries()) {
        const ticket = await getTicket(t.services.database.db, tenant.tenant.id, res.json().ticket)
        assert.equal(ticket.subject, `Ticket ${i}`)
        assert.deepEqual(
          ticket.comments?.map((comment) => comment.body),
          [`Call ${i}`],
        )
      }
      assert.equal((await listTickets(t.services.database.db, tenant.tenant.id)).length, 50)
    })

    it('two tenants at once each count from 1', async () => {
      const [one, two] = [await freshTenant(), await freshTenant()]
      const calls = [one, two].flatMap((tenant) =>
        Array.from({ length: 10 }, () =>
          post(t.app, `${TICKETS}/createticket`, {
            host: tenant.host,
            auth: tenant.key,
            body: { title: 'T', description: 'D', requester_email: tenant.requester },
          }),
        ),
      )
      const answers = await Promise.all(calls)
      const numbersOf = (from: number) =>
        answers
          .slice(from, from + 10)
          .map((res) => res.json().ticket as number)
          .sort((a, b) => a - b)
      assert.deepEqual(numbersOf(0), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10])
      assert.deepEqual(numbersOf(10), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10])
    })
  })
}

/**
 * Paged, filtered lists of the management API over HTTP: the Link header walk through 250
 * deliveries, bounds on limit and cursor, each list's filters, names in the delivery log, replay
 * links both ways, and another tenant or no key seeing nothing.
 */
import assert from 'node:assert/strict'
import { before, it } from 'node:test'
import type { FastifyInstance } from 'fastify'
import { createApiKey } from '../../src/auth/api-keys.js'
import { recordDelivery } from '../../src/deliveries/deliveries.js'
import { createDestination } from '../../src/directory/destinations.js'
import { createUser } from '../../src/directory/users.js'
import { addRequester } from '../../src/support/requesters.js'
import { uniqueAddress } from '../helpers/client-address.js'
import { as, failedTicketDelivery, MGMT, mgmt } from '../helpers/management-routes.js'
import { sleep } from '../helpers/rows.js'
import { onEachDatabase } from '../helpers/suite.js'
import { post, type SeededTenant, TICKETS } from '../helpers/test-app.js'
import { hr } from '../hr/hr-helpers.js'

interface Delivery {
  id: string
  endpoint: string
  status: number
  destination_id: string | null
  principal: string | null
  caller: string | null
  destination_name: string | null
  user_email: string | null
  replay_of: string | null
  replayed_by: string | null
  outcome: string
  created_at: string
}

/** GET a full URL (as a Link header gives it) as the tenant's key. */
async function getUrl(app: FastifyInstance, tenant: SeededTenant, url: string) {
  const res = await app.inject({
    method: 'GET',
    url,
    headers: { host: tenant.host, authorization: `Bearer ${tenant.key}` },
  })
  return res
}

/** The URL in a `Link: <…>; rel="next"` header, or null when there is none. */
function nextUrl(link: string | string[] | number | undefined): string | null {
  if (link === undefined) return null
  const match = /^<([^>]+)>; rel="next"$/.exec(String(link))
  assert.ok(match?.[1] !== undefined, `a Link header of the documented shape: ${String(link)}`)
  return match[1]
}

/** Every row of a list, following Link headers from `path`; the page sizes seen on the way. */
async function walk<T>(app: FastifyInstance, tenant: SeededTenant, path: string) {
  const rows: T[] = []
  const sizes: number[] = []
  let url: string | null = `${MGMT}${path}`
  while (url !== null) {
    const res = await getUrl(app, tenant, url)
    assert.equal(res.statusCode, 200, res.body)
    const page = res.json() as T[]
    rows.push(...page)
    sizes.push(page.length)
    url = nextUrl(res.headers.link)
    assert.ok(sizes.length < 50, 'the walk ends')
  }
  return { rows, sizes }
}

const ENDPOINTS = ['createticket', 'servicenow', 'adduser', 'modifyuser', 'deleteuser'] as const

onEachDatabase('lists: paging and filters over the management API', (s) => {
  let plugin: string
  let seeded: string[]

  before(async () => {
    const destination = await createDestination(s.services, s.acme.tenant, {
      type: 'generic-hr',
      name: 'Payroll',
    })
    plugin = destination.plugin_id
    // 250 deliveries: every 5th failed, endpoints in turn, HR ones on the destination, a day apart
    // from 2026-01-01 so the time filters have something to cut.
    seeded = []
    await s.services.database.transaction(async (trx) => {
      for (let i = 0; i < 250; i++) {
        const endpoint = ENDPOINTS[i % ENDPOINTS.length] ?? 'createticket'
        const hrCall = endpoint !== 'createticket' && endpoint !== 'servicenow'
        const id = await recordDelivery(trx, {
          tenantId: s.acme.tenant.id,
          endpoint,
          destinationId: hrCall ? plugin : null,
          principal: `api_key:${s.acme.keyId}`,
          statusCode: i % 5 === 4 ? 400 : 201,
          error: i % 5 === 4 ? 'bad' : null,
          requestId: `seed-${i}`,
          durationMs: 1,
          requestBody: { i },
        })
        await trx
          .updateTable('deliveries')
          .set({ created_at: new Date(Date.UTC(2026, 0, 1) + Math.floor(i / 10) * 86_400_000).toISOString() })
          .where('id', '=', id)
          .execute()
        seeded.push(id)
      }
    })
  })

  it('pages through 250 deliveries by the Link headers: 100, 100, 50, newest first, each once, no Link on the last page', async () => {
    const { rows, sizes } = await walk<Delivery>(s.app, s.acme, '/deliveries')
    assert.deepEqual(sizes, [100, 100, 50])
    assert.deepEqual(
      rows.map((row) => row.id),
      [...seeded].reverse(),
    )
    const small = await walk<Delivery>(s.app, s.acme, '/deliveries?limit=60&outcome=failed')
    assert.deepEqual(small.sizes, [50])
    const pages = await walk<Delivery>(s.app, s.acme, '/deliveries?limit=20&outcome=failed')
    assert.deepEqual(pages.sizes, [20, 20, 10])
    assert.ok(pages.rows.every((row) => row.status === 400))
  })

  it('keeps the filters and the limit in the Link header', async () => {
    const res = await mgmt(s.app, 'GET', '/deliveries?endpoint=adduser&limit=10', {
      host: s.acme.host,
      auth: `Bearer ${s.acme.key}`,
    })
    const next = nextUrl(res.headers.link)
    assert.ok(next !== null)
    const query = new URL(next, 'http://x').searchParams
    assert.equal(query.get('endpoint'), 'adduser')
    assert.equal(query.get('limit'), '10')
    assert.ok((query.get('cursor') ?? '').length > 0)
    assert.ok(next.startsWith(`${MGMT}/deliveries?`))
  })

  it('filters deliveries by outcome, endpoint, destination and time range', async () => {
    const failed = await walk<Delivery>(s.app, s.acme, '/deliveries?outcome=failed&limit=1000')
    assert.equal(failed.rows.length, 50)
    assert.ok(failed.rows.every((row) => row.status >= 300 && row.outcome === 'failed'))
    const legacy = await as<Delivery[]>(s.app, s.acme, 'GET', '/deliveries?failed=true&limit=1000')
    assert.equal(legacy.body.length, 50)
    const succeeded = await as<Delivery[]>(s.app, s.acme, 'GET', '/deliveries?outcome=succeeded&limit=1000')
    assert.equal(succeeded.body.length, 200)
    const adds = await as<Delivery[]>(s.app, s.acme, 'GET', '/deliveries?endpoint=adduser&limit=1000')
    assert.equal(adds.body.length, 50)
    assert.ok(adds.body.every((row) => row.endpoint === 'adduser'))
    const hrRows = await as<Delivery[]>(s.app, s.acme, 'GET', `/deliveries?destination=${plugin}&limit=1000`)
    assert.equal(hrRows.body.length, 150)
    assert.ok(hrRows.body.every((row) => row.destination_id === plugin))
    // Days 2026-01-03 and 2026-01-04: rows 20..39.
    const range = await as<Delivery[]>(
      s.app,
      s.acme,
      'GET',
      '/deliveries?since=2026-01-03&until=2026-01-05T00:00:00Z&limit=1000',
    )
    assert.equal(range.status, 200, range.raw)
    assert.deepEqual(
      range.body.map((row) => row.id),
      seeded.slice(20, 40).reverse(),
    )
    // Filters combine, and the Link header carries them to the last page.
    const combined = await walk<Delivery>(
      s.app,
      s.acme,
      '/deliveries?since=2026-01-03&until=2026-01-05&endpoint=deleteuser&outcome=failed&limit=3',
    )
    assert.deepEqual(combined.sizes, [3, 1])
    assert.deepEqual(
      combined.rows.map((row) => row.id),
      [seeded[39], seeded[34], seeded[29], seeded[24]],
    )
  })

  it('answers 400 for a limit out of 1..1000, a cursor it did not make, a bad time or filter; nothing else changes', async () => {
    const before = await s.db
      .selectFrom('deliveries')
      .select(s.db.fn.countAll().as('n'))
      .executeTakeFirstOrThrow()
    for (const [path, message] of [
      ['/deliveries?limit=0', /limit must be at least 1/],
      ['/deliveries?limit=1001', /limit must be at most 1000/],
      ['/deliveries?limit=ten', /limit must be an integer/],
      ['/deliveries?cursor=not*a*cursor', /cursor is not valid/],
      [`/deliveries?cursor=${Buffer.from('x:whatever').toString('base64url')}`, /cursor is not valid/],
      ['/deliveries?since=yesterday', /since must be a date or time/],
      ['/deliveries?since=2026-02-01&until=2026-01-01', /until must not be before since/],
      ['/deliveries?outcome=maybe', /outcome must be one of: succeeded, failed/],
      ['/deliveries?failed=true&outcome=succeeded', /not both/],
      ['/users?limit=5000', /limit must be at most 1000/],
      ['/users?status=gone', /status must be one of/],
      [`/users?cursor=${Buffer.from('n:').toString('base64url')}`, /cursor is not valid/],
      ['/tickets?source=email', /source must be one of/],
      ['/tickets?until=2026-13-45', /until must be a date or time/],
      ['/apikeys?limit=0', /limit must be at least 1/],
      ['/requesters?cursor=!!', /cursor is not valid/],
      ['/destinations?limit=-1', /limit must be at least 1/],
    ] as const) {
      const res = await as<{ error: string }>(s.app, s.acme, 'GET', path)
      assert.equal(res.status, 400, `${path}: ${res.raw}`)
      assert.match(res.body.error, message, path)
    }
    const after = await s.db
      .selectFrom('deliveries')
      .select(s.db.fn.countAll().as('n'))
      .executeTakeFirstOrThrow()
    assert.equal(Number(after.n), Number(before.n))
  })

  it("shows another tenant none of acme's rows, even with acme's cursor; no key or a wrong key is 401", async () => {
    const first = await mgmt(s.app, 'GET', '/deliveries?limit=10', {
      host: s.acme.host,
      auth: `Bearer ${s.acme.key}`,
    })
    const next = nextUrl(first.headers.link)
    assert.ok(next !== null)
    const theirs = await getUrl(s.app, s.other, next)
    assert.equal(theirs.statusCode, 200)
    assert.deepEqual(
      (theirs.json() as Delivery[]).filter((row) => seeded.includes(row.id)),
      [],
    )
    const filtered = await as<Delivery[]>(s.app, s.other, 'GET', `/deliveries?destination=${plugin}`)
    assert.deepEqual(filtered.body, [])
    const acmeKeyOnOther = await mgmt(s.app, 'GET', '/deliveries', {
      host: s.other.host,
      auth: `Bearer ${s.acme.key}`,
      remoteAddress: uniqueAddress(),
    })
    assert.equal(acmeKeyOnOther.statusCode, 401)
    for (const path of ['/deliveries?limit=10', '/users?q=a', '/tickets?source=generic', '/apikeys']) {
      const none = await mgmt(s.app, 'GET', path, { host: s.acme.host, remoteAddress: uniqueAddress() })
      assert.equal(none.statusCode, 401, path)
      assert.equal(none.headers.link, undefined)
      const wrong = await mgmt(s.app, 'GET', path, {
        host: s.acme.host,
        auth: 'Bearer oc_wrongwrongwrongwrongwrongwrongwrongwrongwro',
        remoteAddress: uniqueAddress(),
      })
      assert.equal(wrong.statusCode, 401, path)
    }
  })
})

onEachDatabase('lists: users, tickets, keys, requesters and destinations page and filter', (s) => {
  let payroll: string
  before(async () => {
    payroll = (await createDestination(s.services, s.acme.tenant, { type: 'generic-hr', name: 'Payroll' }))
      .plugin_id
    for (let i = 0; i < 12; i++) {
      const res = await hr(s.app, s.acme, payroll, 'adduser', {
        employee_id: `E${i}`,
        first_name: i === 3 ? 'Zoë' : 'Pat',
        last_name: i === 7 ? 'O_Brien' : `Worker${i}`,
        email: `worker${i}@acme.example.com`,
      })
      assert.equal(res.statusCode, 201, res.body)
    }
    for (const i of [0, 1, 2]) {
      const res = await hr(s.app, s.acme, payroll, 'deleteuser', { employee_id: `E${i}` })
      assert.equal(res.statusCode, 200, res.body)
    }
    await createUser(s.services.database, s.acme.tenant.id, { email: 'percent%sign@acme.example.com' })
  })

  it('pages users and filters them by status, destination and a search over email and name', async () => {
    const all = await walk<{ email: string }>(s.app, s.acme, '/users?limit=5')
    // The seeded service account, 12 from HR, 1 by hand.
    assert.deepEqual(all.sizes, [5, 5, 4])
    assert.equal(new Set(all.rows.map((u) => u.email)).size, 14)
    const terminated = await as<Array<{ email: string; status: string }>>(
      s.app,
      s.acme,
      'GET',
      '/users?status=terminated',
    )
    assert.deepEqual(
      terminated.body.map((u) => u.email),
      ['worker0@acme.example.com', 'worker1@acme.example.com', 'worker2@acme.example.com'],
    )
    const fromPayroll = await as<unknown[]>(
      s.app,
      s.acme,
      'GET',
      `/users?destination=${payroll}&status=active`,
    )
    assert.equal(fromPayroll.body.length, 9)
    const byName = await as<Array<{ email: string }>>(
      s.app,
      s.acme,
      'GET',
      `/users?q=${encodeURIComponent('ZOË')}`,
    )
    assert.deepEqual(
      byName.body.map((u) => u.email),
      ['worker3@acme.example.com'],
    )
    // LIKE wildcards in a search mean themselves.
    const underscore = await as<Array<{ email: string }>>(s.app, s.acme, 'GET', '/users?q=o_b')
    assert.deepEqual(
      underscore.body.map((u) => u.email),
      ['worker7@acme.example.com'],
    )
    const percent = await as<Array<{ email: string }>>(
      s.app,
      s.acme,
      'GET',
      `/users?q=${encodeURIComponent('t%s')}`,
    )
    assert.deepEqual(
      percent.body.map((u) => u.email),
      ['percent%sign@acme.example.com'],
    )
    const byEmail = await as<Array<{ email: string }>>(s.app, s.acme, 'GET', '/users?q=WORKER1')
    assert.deepEqual(byEmail.body.map((u) => u.email).sort(), [
      'worker10@acme.example.com',
      'worker11@acme.example.com',
      'worker1@acme.example.com',
    ])
    const theirs = await as<unknown[]>(s.app, s.other, 'GET', '/users?q=worker')
    assert.deepEqual(theirs.body, [])
  })

  it('pages tickets and filters them by source and time', async () => {
    for (let i = 0; i < 7; i++) {
      const generic = await post(s.app, `${TICKETS}/createticket`, {
        host: s.acme.host,
        auth: `Bearer ${s.acme.key}`,
        body: { title: `Generic ${i}`, description: 'D', requester_email: s.acme.requester },
      })
      assert.equal(generic.statusCode, 201, generic.body)
    }
    const incident = await post(s.app, `${TICKETS}/servicenow`, {
      host: s.acme.host,
      auth: `Bearer ${s.acme.key}`,
      body: {
        sys_id: 'abc123',
        number: 'INC0001',
        short_description: 'From ServiceNow',
        description: 'D',
        requester_email: s.acme.requester,
      },
    })
    assert.equal(incident.statusCode, 201, incident.body)
    const all = await walk<{ ticket: number; source: string }>(s.app, s.acme, '/tickets?limit=3')
    assert.deepEqual(all.sizes, [3, 3, 2])
    assert.deepEqual(
      all.rows.map((t) => t.ticket),
      [8, 7, 6, 5, 4, 3, 2, 1],
    )
    const servicenow = await as<Array<{ subject: string }>>(
      s.app,
      s.acme,
      'GET',
      '/tickets?source=servicenow',
    )
    assert.deepEqual(
      servicenow.body.map((t) => t.subject),
      ['From ServiceNow'],
    )
    const future = await as<unknown[]>(s.app, s.acme, 'GET', '/tickets?since=2999-01-01')
    assert.deepEqual(future.body, [])
    const past = await as<unknown[]>(s.app, s.acme, 'GET', '/tickets?until=2000-01-01')
    assert.deepEqual(past.body, [])
    const recent = await as<unknown[]>(s.app, s.acme, 'GET', '/tickets?since=2000-01-01&source=generic')
    assert.equal(recent.body.length, 7)
  })

  it('pages API keys, support accounts and destinations', async () => {
    for (let i = 0; i < 4; i++) {
      await createApiKey(s.services.database, s.acme.tenant.id, {
        name: `k${i}`,
        management: false,
        expiresInMs: null,
      })
      await addRequester(s.services.database, s.acme.tenant.id, `r${i}@acme.example.com`, null)
      // Destinations page by creation time (milliseconds), then by their random plugin_id: two made in the
      // same millisecond come in either order. Made a few milliseconds apart, they come in creation order.
      await sleep(3)
      await createDestination(s.services, s.acme.tenant, { type: 'generic-hr', name: `D${i}` })
    }
    const keys = await walk<{ name: string }>(s.app, s.acme, '/apikeys?limit=2')
    assert.deepEqual(
      keys.rows.map((k) => k.name),
      ['test', 'k0', 'k1', 'k2', 'k3'],
    )
    assert.deepEqual(keys.sizes, [2, 2, 1])
    const requesters = await walk<{ email: string }>(s.app, s.acme, '/requesters?limit=2')
    assert.deepEqual(
      requesters.rows.map((r) => r.email),
      [
        'john.doe@acme.example.com',
        'r0@acme.example.com',
        'r1@acme.example.com',
        'r2@acme.example.com',
        'r3@acme.example.com',
      ],
    )
    const destinations = await walk<{ name: string }>(s.app, s.acme, '/destinations?limit=2')
    assert.deepEqual(
      destinations.rows.map((d) => d.name),
      ['Payroll', 'D0', 'D1', 'D2', 'D3'],
    )
    assert.deepEqual(destinations.sizes, [2, 2, 1])
  })
})

onEachDatabase('lists: the delivery log names callers, destinations and users, and links replays', (s) => {
  it("names the caller by the key's name or the service account's email, and HR rows by destination and user", async () => {
    const created = await post(s.app, `${TICKETS}/createticket`, {
      host: s.acme.host,
      auth: s.acme.basic,
      headers: { 'x-request-id': 'by-service-account' },
      body: { title: 'T', description: 'D', requester_email: s.acme.requester },
    })
    assert.equal(created.statusCode, 201, created.body)
    const destination = await createDestination(s.services, s.acme.tenant, {
      type: 'generic-hr',
      name: 'Payroll EU',
    })
    const added = await hr(s.app, s.acme, destination.plugin_id, 'adduser', {
      employee_id: 'N1',
      first_name: 'Ana',
      last_name: 'Lee',
      email: 'ana.lee@acme.example.com',
    })
    assert.equal(added.statusCode, 201, added.body)
    const list = await as<Delivery[]>(s.app, s.acme, 'GET', '/deliveries')
    const [hrRow, ticketRow] = list.body
    assert.equal(ticketRow?.caller, s.acme.serviceEmail)
    assert.equal(ticketRow?.principal?.startsWith('service_account:'), true)
    assert.equal(hrRow?.caller, 'test')
    assert.equal(hrRow?.destination_name, 'Payroll EU')
    assert.equal(hrRow?.user_email, 'ana.lee@acme.example.com')
    const one = await as<Delivery>(s.app, s.acme, 'GET', `/deliveries/${hrRow?.id}`)
    assert.equal(one.body.destination_name, 'Payroll EU')
    assert.equal(one.body.caller, 'test')
  })

  it('links a failed delivery and its replay both ways, and the original reads replayed once a replay succeeded', async () => {
    const failedId = await failedTicketDelivery(s.services, s.app, s.acme)
    const before = await as<Delivery>(s.app, s.acme, 'GET', `/deliveries/${failedId}`)
    assert.equal(before.body.outcome, 'failed')
    assert.equal(before.body.replayed_by, null)
    // Still failing (the requester is unknown): linked, but not replayed.
    const firstTry = await as<{ delivery: Delivery; status: number }>(
      s.app,
      s.acme,
      'POST',
      `/deliveries/${failedId}/replay`,
    )
    assert.equal(firstTry.status, 201, firstTry.raw)
    assert.equal(firstTry.body.delivery.replay_of, failedId)
    assert.equal(firstTry.body.delivery.caller, 'test')
    const afterFirst = await as<Delivery>(s.app, s.acme, 'GET', `/deliveries/${failedId}`)
    assert.equal(afterFirst.body.replayed_by, firstTry.body.delivery.id)
    assert.equal(afterFirst.body.outcome, 'failed')
    // The requester now exists: the next replay succeeds and the original reads replayed.
    await addRequester(s.services.database, s.acme.tenant.id, 'nobody@example.com', null)
    const secondTry = await as<{ delivery: Delivery; status: number }>(
      s.app,
      s.acme,
      'POST',
      `/deliveries/${failedId}/replay`,
    )
    assert.equal(secondTry.body.status, 201, secondTry.raw)
    const listed = await as<Delivery[]>(s.app, s.acme, 'GET', '/deliveries?limit=1000')
    const original = listed.body.find((row) => row.id === failedId)
    assert.equal(original?.outcome, 'replayed')
    assert.equal(original?.replayed_by, secondTry.body.delivery.id)
    const replay = listed.body.find((row) => row.id === secondTry.body.delivery.id)
    assert.equal(replay?.replay_of, failedId)
    assert.equal(replay?.outcome, 'succeeded')
    // Another tenant sees neither.
    const theirs = await as<unknown>(s.app, s.other, 'GET', `/deliveries/${failedId}`)
    assert.equal(theirs.status, 404)
  })
})

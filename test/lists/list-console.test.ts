/**
 * The console's lists over HTTP: Next and Previous links through 120 deliveries, the Activity
 * filters, names and replay links on the delivery pages, filtered and paged users, another tenant
 * seeing nothing, and a bad cursor answered as a 400 page.
 */
import assert from 'node:assert/strict'
import { before, it } from 'node:test'
import { recordAudit } from '../../src/audit/audit-log.js'
import { recordDelivery } from '../../src/deliveries/deliveries.js'
import { createDestination } from '../../src/directory/destinations.js'
import { addRequester } from '../../src/support/requesters.js'
import { addAdmin, getPage, signIn } from '../console/console-helpers.js'
import { as, failedTicketDelivery } from '../helpers/management-routes.js'
import { onEachDatabase } from '../helpers/suite.js'
import { hr } from '../hr/hr-helpers.js'

/** The hrefs of the links with `rel` on a page (the pager's next and prev, the replay links). */
function links(body: string, rel: string): string[] {
  return [...body.matchAll(new RegExp(`<a rel="${rel}" href="([^"]+)"`, 'g'))].map((m) =>
    (m[1] ?? '').replaceAll('&amp;', '&'),
  )
}

/** How many different HR users of the test a User Manager page lists (by their display names). */
function caseys(body: string): number {
  return new Set(body.match(/Casey Number\d+</g) ?? []).size
}

/** The delivery ids a page of the Activity tab lists, in order. */
function deliveryIds(body: string): string[] {
  return [...body.matchAll(/<a href="\/console\/activity\/(dlv_[a-z0-9]+)">/g)].map((m) => m[1] ?? '')
}

onEachDatabase('lists in the console', (s) => {
  let cookie: string
  let otherCookie: string
  let plugin: string
  const seeded: string[] = []
  const page = (url: string, who = cookie) => getPage(s.app, url, s.acme.host, who)

  before(async () => {
    const admin = await addAdmin(s.services, s.acme.tenant)
    cookie = (await signIn(s.app, s.acme.host, admin.email)).cookie
    const otherAdmin = await addAdmin(s.services, s.other.tenant)
    otherCookie = (await signIn(s.app, s.other.host, otherAdmin.email)).cookie
    plugin = (await createDestination(s.services, s.acme.tenant, { type: 'generic-hr', name: 'Payroll' }))
      .plugin_id
    await s.services.database.transaction(async (trx) => {
      for (let i = 0; i < 120; i++) {
        seeded.push(
          await recordDelivery(trx, {
            tenantId: s.acme.tenant.id,
            endpoint: i % 2 === 0 ? 'adduser' : 'createticket',
            destinationId: i % 2 === 0 ? plugin : null,
            principal: `api_key:${s.acme.keyId}`,
            statusCode: i % 3 === 0 ? 500 : 201,
            error: null,
            requestId: `console-${i}`,
            durationMs: 1,
            requestBody: { i },
          }),
        )
      }
    })
  })

  it('pages the Activity tab with Next and Previous links: 50, 50, 20 and back, each delivery once', async () => {
    const first = await page('/console/activity')
    assert.equal(first.statusCode, 200)
    assert.deepEqual(links(first.body, 'prev'), [])
    const seen = [deliveryIds(first.body)]
    let next = links(first.body, 'next')[0]
    const visited = [first.body]
    while (next !== undefined) {
      const res = await page(next)
      assert.equal(res.statusCode, 200)
      seen.push(deliveryIds(res.body))
      visited.push(res.body)
      next = links(res.body, 'next')[0]
    }
    assert.deepEqual(
      seen.map((ids) => ids.length),
      [50, 50, 20],
    )
    assert.deepEqual(seen.flat(), [...seeded].reverse())
    // Back from the last page: the middle page again.
    const back = links(visited[2] ?? '', 'prev')[0]
    assert.ok(back !== undefined)
    assert.deepEqual(deliveryIds((await page(back)).body), seen[1])
    // The caller reads as the key's name, the destination by its name.
    assert.match(first.body, /<td>test<\/td>/)
    assert.match(first.body, /via Payroll/)
  })

  it('filters the Activity tab by outcome, endpoint and destination, and the pager keeps the filters', async () => {
    const failed = await page('/console/activity?outcome=failed')
    assert.equal(deliveryIds(failed.body).length, 40)
    assert.deepEqual(links(failed.body, 'next'), [])
    const adds = await page(`/console/activity?endpoint=adduser&destination=${plugin}`)
    assert.equal(deliveryIds(adds.body).length, 50)
    const next = links(adds.body, 'next')[0] ?? ''
    assert.match(next, /endpoint=adduser/)
    assert.match(next, new RegExp(`destination=${plugin}`))
    assert.equal(deliveryIds((await page(next)).body).length, 10)
    const both = await page('/console/activity?outcome=failed&endpoint=createticket')
    assert.equal(deliveryIds(both.body).length, 20)
    const none = await page('/console/activity?since=2999-01-01')
    assert.match(none.body, /No webhook calls match these filters/)
    // The old "Failed only" address still works.
    assert.equal(deliveryIds((await page('/console/activity?failed=1')).body).length, 40)
  })

  it('answers a bad cursor or filter with a 400 page, and shows another tenant none of these rows', async () => {
    for (const url of [
      '/console/activity?cursor=nope!',
      '/console/activity?outcome=maybe',
      '/console/activity?since=soon',
      '/console/users?status=gone',
      '/console/support?cursor=%21',
      '/console/administration/api-keys?cursor=bad*',
    ]) {
      const res = await page(url)
      assert.equal(res.statusCode, 400, url)
      assert.match(res.body, /class="error"/)
    }
    const theirs = await getPage(s.app, '/console/activity', s.other.host, otherCookie)
    assert.deepEqual(deliveryIds(theirs.body), [])
    const signedOut = await getPage(s.app, '/console/activity?outcome=failed', s.acme.host)
    assert.equal(signedOut.statusCode, 303)
  })

  it('links a replayed delivery and its replay both ways, and the original reads replayed', async () => {
    const failedId = await failedTicketDelivery(s.services, s.app, s.acme)
    await addRequester(s.services.database, s.acme.tenant.id, 'nobody@example.com', null)
    const replay = await as<{ delivery: { id: string } }>(
      s.app,
      s.acme,
      'POST',
      `/deliveries/${failedId}/replay`,
    )
    assert.equal(replay.status, 201, replay.raw)
    const original = await page(`/console/activity/${failedId}`)
    assert.deepEqual(links(original.body, 'replayed-by'), [`/console/activity/${replay.body.delivery.id}`])
    assert.match(original.body, /replayed<\/a>/)
    const copy = await page(`/console/activity/${replay.body.delivery.id}`)
    assert.deepEqual(links(copy.body, 'replay-of'), [`/console/activity/${failedId}`])
  })

  it('filters and pages the User Manager, showing HR users by destination', async () => {
    for (let i = 0; i < 55; i++) {
      const res = await hr(s.app, s.acme, plugin, 'adduser', {
        employee_id: `C${i}`,
        first_name: 'Casey',
        last_name: `Number${i}`,
        email: `casey${i}@acme.example.com`,
      })
      assert.equal(res.statusCode, 201, res.body)
    }
    const first = await page(`/console/users?destination=${plugin}`)
    assert.equal(caseys(first.body), 50)
    const next = links(first.body, 'next')[0] ?? ''
    assert.match(next, new RegExp(`destination=${plugin}`))
    const second = await page(next)
    assert.equal(caseys(second.body), 5)
    const search = await page('/console/users?q=NUMBER42')
    assert.match(search.body, /Casey Number42</)
    assert.equal(caseys(search.body), 1)
    const terminated = await page('/console/users?status=terminated')
    assert.match(terminated.body, /No users match these filters/)
  })

  it('pages the audit log with the same Next and Previous links', async () => {
    await s.services.database.transaction(async (trx) => {
      for (let i = 0; i < 130; i++)
        await recordAudit(trx, {
          tenantId: s.acme.tenant.id,
          actor: 'cli',
          action: 'pagingProbe',
          target: `t${i}`,
        })
    })
    const probes = (body: string) => (body.match(/<td>pagingProbe<\/td>/g) ?? []).length
    const first = await page('/console/administration/audit')
    assert.equal(first.statusCode, 200)
    assert.equal(probes(first.body), 100)
    const next = links(first.body, 'next')[0]
    assert.ok(next !== undefined)
    const second = await page(next)
    assert.equal(probes(second.body), 30)
    assert.deepEqual(links(second.body, 'prev').length, 1)
    const theirs = await getPage(s.app, '/console/administration/audit', s.other.host, otherCookie)
    assert.equal(probes(theirs.body), 0)
  })
})

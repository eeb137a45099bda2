/** Calls without valid credentials write nothing to a tenant's delivery log: they are counted in /metrics and per tenant and hour, shown in the console and the Management API. */
import assert from 'node:assert/strict'
import { it } from 'node:test'
import { RefusedCalls } from '../../src/auth/refused-calls.js'
import type { Tx } from '../../src/storage/database.js'
import { ADMIN_PASSWORD, addAdmin, getPage, signIn } from '../console/console-helpers.js'
import { uniqueAddress } from '../helpers/client-address.js'
import { mgmt } from '../helpers/management-routes.js'
import { countRows } from '../helpers/rows.js'
import { onEachDatabase } from '../helpers/suite.js'
import { post } from '../helpers/test-app.js'
import { WEBHOOK_ROUTES } from '../helpers/webhook-routes.js'

const HOUR_MS = 3_600_000

onEachDatabase('refused calls', { tenants: ['acme', 'other', 'quiet'] }, (s) => {
  const badCredentials = () => [
    undefined,
    'garbage',
    `Bearer oc_${'Q'.repeat(43)}`,
    `Bearer ${s.other.key}`,
    `Basic ${Buffer.from(`${s.acme.serviceEmail}:wrong password`).toString('base64')}`,
    `Basic ${Buffer.from('nul\u0000@acme.example.com:x').toString('base64')}`,
  ]

  it('a webhook call without valid credentials writes nothing to the delivery log, on any route, and nothing on the request path', async () => {
    // A flusher that waits a minute: whatever is written during the calls was written on their path.
    const original = s.services.refusedCalls
    s.services.refusedCalls = new RefusedCalls(s.services.database, 60_000)
    const originalTransaction = s.services.database.transaction.bind(s.services.database)
    let transactions = 0
    const spied = s.services.database as { transaction: <T>(work: (trx: Tx) => Promise<T>) => Promise<T> }
    spied.transaction = (work) => {
      transactions += 1
      return originalTransaction(work)
    }
    try {
      const paths = await Promise.all(
        WEBHOOK_ROUTES.map(async (route) => [route.name, await route.path(s.services, s.acme)] as const),
      )
      transactions = 0
      const before = await countRows(s.db, 'deliveries', s.acme.tenant.id)
      for (const [name, path] of paths) {
        for (const auth of badCredentials()) {
          const res = await post(s.app, path, {
            host: s.acme.host,
            ...(auth === undefined ? {} : { auth }),
            body: { title: 'T' },
            remoteAddress: uniqueAddress(),
          })
          assert.equal(res.statusCode, 401, `${name} ${auth?.slice(0, 20)}`)
        }
      }
      assert.equal(transactions, 0, 'no write on the request path')
      assert.equal(
        await countRows(s.db, 'deliveries', s.acme.tenant.id),
        before,
        'nothing in the delivery log',
      )
      await s.services.refusedCalls.flush()
      assert.ok(transactions >= 1, 'written by the flush')
      const rows = await s.db
        .selectFrom('refused_calls')
        .selectAll()
        .where('tenant_id', '=', s.acme.tenant.id)
        .execute()
      // Summed over hours: a run may cross the top of an hour.
      const byEndpoint = new Map<string, number>()
      for (const row of rows) {
        assert.match(row.hour, /^\d{4}-\d\d-\d\dT\d\d:00:00\.000Z$/)
        byEndpoint.set(row.endpoint, (byEndpoint.get(row.endpoint) ?? 0) + Number(row.refused))
      }
      assert.deepEqual(
        [...byEndpoint].sort(),
        WEBHOOK_ROUTES.map((r) => r.name)
          .sort()
          .map((endpoint) => [endpoint, badCredentials().length]),
      )
    } finally {
      spied.transaction = originalTransaction
      s.services.refusedCalls = original
    }
  })

  it('adds up across flushes, per tenant; an unknown tenant is counted nowhere but /metrics', async () => {
    const path = '/v5.0/mgmt/api/v1.0/webhooks/helpdesk/servicenow'
    const count = async (tenantId: string) => {
      const rows = await s.db
        .selectFrom('refused_calls')
        .select('refused')
        .where('tenant_id', '=', tenantId)
        .where('endpoint', '=', 'servicenow')
        .execute()
      return rows.reduce((sum, row) => sum + Number(row.refused), 0)
    }
    await s.services.refusedCalls.flush()
    const before = await count(s.other.tenant.id)
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 4; i++) {
        await post(s.app, path, {
          host: s.other.host,
          auth: 'nope',
          body: {},
          remoteAddress: uniqueAddress(),
        })
        await post(s.app, path, {
          host: 'nosuch.localhost',
          auth: 'nope',
          body: {},
          remoteAddress: uniqueAddress(),
        })
      }
      await s.services.refusedCalls.flush()
    }
    assert.equal(await count(s.other.tenant.id), before + 12)
    const tenants = await s.db.selectFrom('refused_calls').select('tenant_id').distinct().execute()
    const known = new Set([s.acme.tenant.id, s.other.tenant.id, s.tenant('quiet').tenant.id])
    assert.ok(tenants.every((t) => known.has(t.tenant_id)))
    assert.equal(
      (await s.db.selectFrom('tenants').select('id').where('name', '=', 'nosuch').execute()).length,
      0,
    )
  })

  it('/metrics counts refusals by surface and reason, never by tenant, however many names are tried', async () => {
    const path = '/v5.0/mgmt/api/v1.0/webhooks/helpdesk/createticket'
    for (let i = 0; i < 50; i++) {
      await post(s.app, path, {
        host: `made-up-${i}.localhost`,
        auth: 'nope',
        remoteAddress: uniqueAddress(),
      })
    }
    const blocked = uniqueAddress()
    for (let i = 0; i < 32; i++)
      await post(s.app, path, { host: s.acme.host, auth: 'nope', remoteAddress: blocked })
    await mgmt(s.app, 'GET', '/users', { host: s.acme.host, auth: 'nope', remoteAddress: uniqueAddress() })
    const metrics = await s.app.inject({ method: 'GET', url: '/metrics' })
    assert.equal(metrics.statusCode, 200)
    const series = metrics.body
      .split('\n')
      .filter((line) => line.startsWith('optimalcloud_auth_refused_total{'))
    const value = (labels: string) =>
      Number(
        series.find((line) => line.startsWith(`optimalcloud_auth_refused_total{${labels}}`))?.split(' ')[1],
      )
    assert.ok(value('surface="webhook",reason="bad_credentials"') >= 80, series.join('\n'))
    assert.ok(value('surface="webhook",reason="rate_limited"') >= 2, series.join('\n'))
    assert.ok(value('surface="management",reason="bad_credentials"') >= 1, series.join('\n'))
    assert.ok(series.length <= 6, 'bounded: surface × reason')
    assert.ok(!metrics.body.includes('made-up-'), 'no tenant name reaches /metrics')
    assert.ok(!metrics.body.includes(s.acme.tenant.id) && !metrics.body.includes('acme'))
  })

  it('the console Activity tab shows the refused calls of the last 24 hours, of its own tenant only', async () => {
    const admin = await addAdmin(s.services, s.tenant('quiet').tenant)
    const { cookie } = await signIn(s.app, s.tenant('quiet').host, admin.email, ADMIN_PASSWORD)
    const empty = await getPage(s.app, '/console/activity', s.tenant('quiet').host, cookie)
    assert.equal(empty.statusCode, 200)
    assert.match(empty.body, /Refused calls \(bad credentials\), last 24 hours/)
    assert.match(empty.body, /No refused calls\./)
    for (let i = 0; i < 3; i++) {
      await post(s.app, '/v5.0/mgmt/api/v1.0/webhooks/helpdesk/createticket', {
        host: s.tenant('quiet').host,
        auth: 'nope',
        remoteAddress: uniqueAddress(),
      })
    }
    // An hour long gone is not shown.
    await s.services.database.transaction((trx) =>
      trx
        .insertInto('refused_calls')
        .values({
          tenant_id: s.tenant('quiet').tenant.id,
          hour: new Date(Math.floor(Date.now() / HOUR_MS) * HOUR_MS - 30 * HOUR_MS).toISOString(),
          endpoint: 'servicenow',
          refused: 500,
        })
        .execute(),
    )
    await s.services.refusedCalls.flush()
    const page = await getPage(s.app, '/console/activity', s.tenant('quiet').host, cookie)
    // The refused-calls card only: the Activity tab's filters name every endpoint.
    const card = /<section class="card" id="refused-calls">[\s\S]*?<\/section>/.exec(page.body)?.[0] ?? ''
    assert.match(card, /<strong>3<\/strong> refused calls\./)
    assert.match(card, /<code>createticket<\/code><\/td><td>3<\/td>/)
    assert.doesNotMatch(card, /servicenow/)
    assert.doesNotMatch(card, /500/)
  })

  it('GET /deliveries/refused: per hour and endpoint, newest first, for the caller’s tenant only; ?hours bounds the window', async () => {
    const quiet = s.tenant('quiet')
    await s.services.refusedCalls.flush()
    const res = await mgmt(s.app, 'GET', '/deliveries/refused', {
      host: quiet.host,
      auth: `Bearer ${quiet.key}`,
    })
    assert.equal(res.statusCode, 200, res.body)
    const recent = res.json() as Array<{ hour: string; endpoint: string; count: number }>
    assert.deepEqual(
      recent.map((r) => [r.endpoint, r.count]),
      [['createticket', 3]],
    )
    assert.ok(recent[0] !== undefined && Date.parse(recent[0].hour) > Date.now() - 2 * HOUR_MS)
    const wider = await mgmt(s.app, 'GET', '/deliveries/refused?hours=48', {
      host: quiet.host,
      auth: `Bearer ${quiet.key}`,
    })
    const rows = wider.json() as Array<{ hour: string; endpoint: string; count: number }>
    assert.deepEqual(
      rows.map((r) => [r.endpoint, r.count]),
      [
        ['createticket', 3],
        ['servicenow', 500],
      ],
    )
    assert.ok(rows[0] !== undefined && rows[1] !== undefined && rows[0].hour > rows[1].hour)
    // Another tenant's key sees its own counts, never these.
    const other = await mgmt(s.app, 'GET', '/deliveries/refused?hours=720', {
      host: s.other.host,
      auth: `Bearer ${s.other.key}`,
    })
    assert.ok((other.json() as Array<{ count: number }>).every((r) => r.count !== 500))
    for (const bad of ['0', '721', 'x', '1.5']) {
      const refused = await mgmt(s.app, 'GET', `/deliveries/refused?hours=${bad}`, {
        host: quiet.host,
        auth: `Bearer ${quiet.key}`,
      })
      assert.equal(refused.statusCode, 400, bad)
    }
    const unknownParameter = await mgmt(s.app, 'GET', '/deliveries/refused?tenant=acme', {
      host: quiet.host,
      auth: `Bearer ${quiet.key}`,
    })
    assert.equal(unknownParameter.statusCode, 400)
    for (const auth of [undefined, `Bearer ${s.other.key}`, 'nope', quiet.basic]) {
      const denied = await mgmt(s.app, 'GET', '/deliveries/refused', {
        host: quiet.host,
        ...(auth === undefined ? {} : { auth }),
        remoteAddress: uniqueAddress(),
      })
      assert.equal(denied.statusCode, 401)
      assert.equal(denied.body, '{"error":"ERROR"}')
    }
  })
})

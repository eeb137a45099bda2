/** The audit log: every administrator's change (API, console, CLI) and every console sign-in, with actor, action, target, client address and request id; never a secret; read only. */
import assert from 'node:assert/strict'
import { it } from 'node:test'
import type { AuditEntry } from '../../src/audit/audit-log.js'
import { ADMIN_PASSWORD, addAdmin, getPage, postForm, signIn } from '../console/console-helpers.js'
import { MANAGEMENT_ROUTES, mgmt } from '../helpers/management-routes.js'
import { onEachDatabase, type Suite } from '../helpers/suite.js'

/** An entry as GET /audit answers it. */
type Entry = AuditEntry

let sequence = 0

async function auditOf(s: Suite, tenant = s.acme): Promise<Entry[]> {
  const res = await mgmt(s.app, 'GET', '/audit?limit=1000', {
    host: tenant.host,
    auth: `Bearer ${tenant.key}`,
  })
  assert.equal(res.statusCode, 200, res.body)
  return res.json() as Entry[]
}

const rawAudit = async (s: Suite) => JSON.stringify(await s.db.selectFrom('audit_log').selectAll().execute())

// Private connectors allowed: the Zendesk settings below point at a local address and are never called.
onEachDatabase('Audit log', { config: { allowPrivateConnectors: true } }, (s) => {
  it('every change through the management API is recorded with its operation, actor, target, client address and request id', async () => {
    for (const route of MANAGEMENT_ROUTES.filter((r) => r.method !== 'GET')) {
      const { path, body } = await route.prepare(s.services, s.app, s.acme)
      const requestId = `audit-${++sequence}`
      const res = await mgmt(s.app, route.method, path, {
        host: s.acme.host,
        auth: `Bearer ${s.acme.key}`,
        remoteAddress: '203.0.113.7',
        headers: { 'x-request-id': requestId },
        ...(body === undefined ? {} : { body }),
      })
      assert.ok(res.statusCode < 300, `${route.method} ${route.route}: ${res.statusCode} ${res.body}`)
      const entry = (await auditOf(s)).find((e) => e.request_id === requestId)
      assert.ok(entry !== undefined, `${route.method} ${route.route} was not audited`)
      assert.equal(entry.actor, `api_key:${s.acme.keyId}`)
      assert.equal(entry.client_address, '203.0.113.7')
      assert.match(entry.action, /^[a-z][A-Za-z]+$/)
      assert.ok(entry.target !== null && entry.target !== '', `${route.route} has no target`)
    }
    const names = new Set((await auditOf(s)).map((e) => e.action))
    for (const action of [
      'createApiKey',
      'revokeApiKey',
      'createUser',
      'setUserPassword',
      'disableUser',
      'enableUser',
      'createDestination',
      'updateDestination',
      'configureSupport',
      'replayDelivery',
      'approveHolds',
      'rejectHolds',
    ])
      assert.ok(names.has(action), `${action} missing from ${[...names].join(', ')}`)
  })

  it('reads and refused changes are not recorded; entries are newest first and page with a Link header', async () => {
    const before = (await auditOf(s)).length
    await mgmt(s.app, 'GET', '/users', { host: s.acme.host, auth: `Bearer ${s.acme.key}` })
    const bad = await mgmt(s.app, 'POST', '/apikeys', {
      host: s.acme.host,
      auth: `Bearer ${s.acme.key}`,
      body: { name: '' },
    })
    assert.equal(bad.statusCode, 400)
    await mgmt(s.app, 'POST', '/apikeys', { host: s.acme.host, auth: 'Bearer wrong', body: { name: 'x' } })
    const after = await auditOf(s)
    assert.equal(after.length, before)
    const ids = after.map((e) => e.id)
    assert.deepEqual(ids, [...ids].sort().reverse())
    const first = await mgmt(s.app, 'GET', '/audit?limit=2', {
      host: s.acme.host,
      auth: `Bearer ${s.acme.key}`,
    })
    assert.match(String(first.headers.link), /<\/v5\.0\/mgmt\/api\/v1\.0\/audit\?.*cursor=.*>; rel="next"/)
  })

  it('no secret value is ever recorded: keys, passwords, connector secrets, sign-in passwords', async () => {
    const secrets = {
      password: `Pa55-${++sequence}-service-account`,
      newPassword: `N3w-${sequence}-password-value`,
      clientSecret: `client-SECRET-${sequence}`,
      webhookSecret: `webhook-SECRET-${sequence}`,
      apiKey: `bamboo-APIKEY-${sequence}`,
      wrongPassword: `wrong-${sequence}-password-typed`,
      zendeskToken: `zendesk-TOKEN-${sequence}`,
    }
    const auth = { host: s.acme.host, auth: `Bearer ${s.acme.key}` }
    const key = await mgmt(s.app, 'POST', '/apikeys', {
      ...auth,
      body: { name: 'secret test', management: true },
    })
    const createdKey = key.json().key as string
    const user = await mgmt(s.app, 'POST', '/users', {
      ...auth,
      body: { email: `svc-${sequence}@acme.example.com`, service_account: true, password: secrets.password },
    })
    await mgmt(s.app, 'PUT', `/users/${user.json().id}/password`, {
      ...auth,
      body: { password: secrets.newPassword },
    })
    const payroll = await mgmt(s.app, 'POST', '/destinations', {
      ...auth,
      body: {
        type: 'paylocity',
        name: 'Payroll',
        settings: { client_id: 'id', client_secret: secrets.clientSecret },
      },
    })
    assert.equal(payroll.statusCode, 201, payroll.body)
    const bamboo = await mgmt(s.app, 'POST', '/destinations', {
      ...auth,
      body: {
        type: 'bamboohr',
        name: 'Bamboo',
        settings: { company_domain: 'acme', api_key: secrets.apiKey, webhook_secret: secrets.webhookSecret },
      },
    })
    assert.equal(bamboo.statusCode, 201, bamboo.body)
    await mgmt(s.app, 'PATCH', `/destinations/${payroll.json().plugin_id}`, {
      ...auth,
      body: { settings: { client_secret: `${secrets.clientSecret}-2` } },
    })
    const zendesk = await mgmt(s.app, 'PUT', '/support', {
      ...auth,
      body: {
        backend: 'zendesk',
        settings: {
          url: 'http://127.0.0.1:9',
          email: 'agent@acme.example.com',
          api_token: secrets.zendeskToken,
        },
      },
    })
    assert.equal(zendesk.statusCode, 200, zendesk.body)
    await mgmt(s.app, 'PUT', '/support', { ...auth, body: { backend: 'builtin' } })
    const admin = await addAdmin(s.services, s.acme.tenant, `audit-admin-${sequence}@acme.example.com`)
    await postForm(s.app, '/console/login', {
      host: s.acme.host,
      fields: { email: admin.email, password: secrets.wrongPassword },
      remoteAddress: '198.51.100.9',
    })
    await signIn(s.app, s.acme.host, admin.email)

    const stored = await rawAudit(s)
    const listed = JSON.stringify(await auditOf(s))
    for (const [name, value] of Object.entries({ ...secrets, createdKey, adminPassword: ADMIN_PASSWORD })) {
      assert.ok(!stored.includes(value), `${name} is stored in the audit log`)
      assert.ok(!listed.includes(value), `${name} is shown by GET /audit`)
    }
    // What was asked is kept, with the secrets masked.
    const created = (await auditOf(s)).find(
      (e) => e.action === 'createDestination' && e.target === payroll.json().plugin_id,
    )
    assert.deepEqual(created?.details, {
      type: 'paylocity',
      name: 'Payroll',
      settings: { client_id: 'id', client_secret: '********' },
    })
  })

  it('console sign-ins, failed sign-ins and changes are recorded with the administrator, the address and the request id', async () => {
    const admin = await addAdmin(s.services, s.acme.tenant, `console-${++sequence}@acme.example.com`)
    const failed = await postForm(s.app, '/console/login', {
      host: s.acme.host,
      fields: { email: admin.email, password: 'not the password' },
      remoteAddress: '198.51.100.23',
      headers: { 'x-request-id': `failed-${sequence}` },
    })
    assert.equal(failed.statusCode, 401)
    const { cookie, csrf } = await signIn(s.app, s.acme.host, admin.email)
    const created = await postForm(s.app, '/console/administration/api-keys', {
      host: s.acme.host,
      cookie,
      fields: { _csrf: csrf, name: `console key ${sequence}` },
    })
    assert.ok(created.statusCode < 400, created.body)
    const entries = await auditOf(s)
    const failure = entries.find((e) => e.request_id === `failed-${sequence}`)
    assert.deepEqual(
      {
        actor: failure?.actor,
        action: failure?.action,
        target: failure?.target,
        client: failure?.client_address,
      },
      { actor: 'anonymous', action: 'signInFailed', target: admin.email, client: '198.51.100.23' },
    )
    const signedIn = entries.find((e) => e.action === 'signIn' && e.actor === `console_admin:${admin.id}`)
    assert.equal(signedIn?.actor_name, admin.email)
    const change = entries.find((e) => e.action === 'createApiKey' && e.actor === `console_admin:${admin.id}`)
    assert.ok(change !== undefined, JSON.stringify(entries.slice(0, 4)))
    assert.deepEqual(change.details, { name: `console key ${sequence}` })
    assert.ok(change.target !== null)

    const page = await getPage(s.app, '/console/administration/audit', s.acme.host, cookie)
    assert.equal(page.statusCode, 200)
    assert.match(page.body, /id="audit-log"/)
    assert.match(page.body, /signInFailed/)
    assert.match(page.body, /198\.51\.100\.23/)
  })

  it('a tenant reads only its own audit log, and nothing in the product changes or deletes an entry', async () => {
    const theirs = await auditOf(s, s.other)
    assert.ok(theirs.every((e) => !e.actor.includes(s.acme.keyId)))
    for (const method of ['PUT', 'PATCH', 'DELETE', 'POST'] as const) {
      const res = await mgmt(s.app, method, '/audit', {
        host: s.acme.host,
        auth: `Bearer ${s.acme.key}`,
        body: {},
      })
      assert.equal(res.statusCode, 404, `${method} /audit`)
    }
    const [newest] = await auditOf(s)
    const res = await mgmt(s.app, 'DELETE', `/audit/${newest?.id}`, {
      host: s.acme.host,
      auth: `Bearer ${s.acme.key}`,
    })
    assert.equal(res.statusCode, 404)
    const doc = await s.app.inject({
      method: 'GET',
      url: '/v5.0/mgmt/api/v1.0/openapi.json',
      headers: { host: s.acme.host },
    })
    const paths = Object.entries(doc.json().paths as Record<string, object>).filter(([path]) =>
      path.includes('/audit'),
    )
    assert.deepEqual(
      paths.map(([path, ops]) => [path, Object.keys(ops)]),
      [['/v5.0/mgmt/api/v1.0/audit', ['get']]],
    )
  })
})

/** Tenancy: the tenant comes from the Host; an unknown tenant is a failed authentication; tenants see nothing of each other. */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { listDeliveries } from '../../src/deliveries/deliveries.js'
import { AppError } from '../../src/errors.js'
import { getTicket, listTickets } from '../../src/support/tickets.js'
import { tenantNameFromHost } from '../../src/tenancy/host.js'
import { createTenant, TENANT_NAME_PATTERN } from '../../src/tenancy/tenants.js'
import { uniqueAddress } from '../helpers/client-address.js'
import { onEachDatabase } from '../helpers/suite.js'
import { post, type SeededTenant, seedTenant, TICKETS } from '../helpers/test-app.js'

const CREATE = `${TICKETS}/createticket`

describe('tenantNameFromHost', () => {
  it('reads the first label of {tenant}.{base domain}, without case, with or without a port', () => {
    assert.equal(tenantNameFromHost('acme.localhost', 'localhost', null), 'acme')
    assert.equal(tenantNameFromHost('acme.localhost:8080', 'localhost', null), 'acme')
    assert.equal(tenantNameFromHost('ACME.LocalHost:8080', 'localhost', null), 'acme')
    assert.equal(tenantNameFromHost('acme-2.example.com', 'example.com', null), 'acme-2')
    assert.equal(tenantNameFromHost('Acme.Example.COM', 'Example.com', null), 'acme')
  })

  it('uses the default tenant when the host does not match, and nothing when there is none', () => {
    for (const host of [
      undefined,
      '',
      'localhost',
      'localhost:8080',
      '127.0.0.1:8080',
      '[::1]:8080',
      'a.b.localhost',
      '-acme.localhost',
      'acme.example.com',
      'acmelocalhost',
      `${'a'.repeat(64)}.localhost`,
    ]) {
      assert.equal(tenantNameFromHost(host, 'localhost', 'demo'), 'demo', String(host))
      assert.equal(tenantNameFromHost(host, 'localhost', null), null, String(host))
    }
  })
})

describe('tenant names', () => {
  it('are DNS labels', () => {
    for (const name of ['acme', 'a', 'acme-2', '0', 'a'.repeat(63)]) assert.match(name, TENANT_NAME_PATTERN)
    for (const name of ['', 'Acme', '-acme', 'acme-', 'ac_me', 'ac.me', 'a'.repeat(64), 'acmé']) {
      assert.doesNotMatch(name, TENANT_NAME_PATTERN, name)
    }
  })
})

onEachDatabase('tenancy', (s) => {
  function ticketBody(tenant: SeededTenant, title = 'T') {
    return { title, description: 'D', requester_email: tenant.requester }
  }

  it('refuses to create a tenant whose name is not a DNS label, or is taken', async () => {
    for (const name of ['Acme', 'ac_me', '-acme', 'a'.repeat(64)]) {
      await assert.rejects(createTenant(s.services.database, name), (error: unknown) => {
        assert.ok(error instanceof AppError)
        assert.equal(error.status, 400)
        return true
      })
    }
    await assert.rejects(createTenant(s.services.database, 'acme'), (error: unknown) => {
      assert.ok(error instanceof AppError)
      assert.equal(error.status, 409)
      return true
    })
  })

  it('reads the tenant from the Host, without case and with any port', async () => {
    for (const host of ['acme.localhost', 'ACME.LOCALHOST:8080', 'Acme.localhost:3000']) {
      const res = await post(s.app, CREATE, { host, auth: s.acme.key, body: ticketBody(s.acme) })
      assert.equal(res.statusCode, 201, `${host}: ${res.body}`)
    }
  })

  it('follows the base domain setting', async () => {
    // Another instance over the same database, with other settings.
    const { app } = await s.instance({ baseDomain: 'example.com' })
    const ok = await post(app, CREATE, {
      host: 'acme.example.com:443',
      auth: s.acme.key,
      body: ticketBody(s.acme),
    })
    assert.equal(ok.statusCode, 201, ok.body)
    const other = await post(app, CREATE, {
      host: 'acme.localhost',
      auth: s.acme.key,
      body: ticketBody(s.acme),
    })
    assert.equal(other.statusCode, 401)
    assert.equal(other.body, '{"error":"ERROR"}')
  })

  it('uses OPTIMALCLOUD_DEFAULT_TENANT when the host does not match', async () => {
    const { app } = await s.instance({ defaultTenant: 'acme' })
    for (const host of ['127.0.0.1:8080', 'localhost', 'webhooks.internal.example.com']) {
      const res = await post(app, CREATE, { host, auth: s.acme.key, body: ticketBody(s.acme) })
      assert.equal(res.statusCode, 201, `${host}: ${res.body}`)
    }
    // A host that names a tenant still means that tenant.
    const theirs = await post(app, CREATE, {
      host: s.other.host,
      auth: s.other.key,
      body: ticketBody(s.other),
    })
    assert.equal(theirs.statusCode, 201, theirs.body)
    const acmeKeyOnOther = await post(app, CREATE, {
      host: s.other.host,
      auth: s.acme.key,
      body: ticketBody(s.acme),
    })
    assert.equal(acmeKeyOnOther.statusCode, 401)
    const noSuch = await post(app, CREATE, {
      host: 'nosuch.localhost',
      auth: s.acme.key,
      body: ticketBody(s.acme),
    })
    assert.equal(noSuch.statusCode, 401)
    // Without the setting, a host that names no tenant is a failed authentication.
    const without = await post(s.app, CREATE, {
      host: '127.0.0.1:8080',
      auth: s.acme.key,
      body: ticketBody(s.acme),
    })
    assert.equal(without.statusCode, 401)
    // A default tenant that does not exist is no tenant at all.
    const { app: missing } = await s.instance({ defaultTenant: 'gone' })
    const gone = await post(missing, CREATE, {
      host: 'localhost',
      auth: s.acme.key,
      body: ticketBody(s.acme),
    })
    assert.equal(gone.statusCode, 401)
  })

  it('answers an unknown tenant exactly like a failed authentication', async () => {
    const failed = await post(s.app, CREATE, {
      host: s.acme.host,
      auth: 'Bearer wrong',
      body: ticketBody(s.acme),
      remoteAddress: uniqueAddress(),
    })
    const unknown = await post(s.app, CREATE, {
      host: 'nosuch.localhost',
      auth: s.acme.key,
      body: ticketBody(s.acme),
      remoteAddress: uniqueAddress(),
    })
    const unknownBasic = await post(s.app, CREATE, {
      host: 'nosuch.localhost',
      auth: s.acme.basic,
      body: ticketBody(s.acme),
      remoteAddress: uniqueAddress(),
    })
    for (const res of [unknown, unknownBasic]) {
      assert.equal(res.statusCode, failed.statusCode)
      assert.equal(failed.statusCode, 401)
      assert.deepEqual(res.rawPayload, failed.rawPayload)
      assert.equal(res.headers['content-type'], failed.headers['content-type'])
      assert.equal(res.headers['content-length'], failed.headers['content-length'])
    }
  })

  it("refuses one tenant's key and service account on another tenant's host", async () => {
    for (const auth of [`Bearer ${s.acme.key}`, `ApiKey ${s.acme.key}`, s.acme.key, s.acme.basic]) {
      const res = await post(s.app, CREATE, {
        host: s.other.host,
        auth,
        body: ticketBody(s.other),
        remoteAddress: uniqueAddress(),
      })
      assert.equal(res.statusCode, 401, auth.slice(0, 8))
      assert.equal(res.body, '{"error":"ERROR"}')
    }
  })

  it('keeps tickets, numbers, requesters, repeats and the delivery log apart', async () => {
    // Fresh tenants, so the numbers below are theirs alone.
    const one = await seedTenant(s.services, 'one')
    const two = await seedTenant(s.services, 'two')
    const first = await post(s.app, CREATE, {
      host: one.host,
      auth: one.key,
      body: ticketBody(one, 'one first'),
    })
    const second = await post(s.app, CREATE, {
      host: one.host,
      auth: one.key,
      body: ticketBody(one, 'one second'),
    })
    const theirs = await post(s.app, CREATE, {
      host: two.host,
      auth: two.key,
      body: ticketBody(two, 'two first'),
    })
    assert.deepEqual(
      [first.json(), second.json(), theirs.json()],
      [{ ticket: 1 }, { ticket: 2 }, { ticket: 1 }],
    )

    const { db } = s.services.database
    assert.equal((await getTicket(db, one.tenant.id, 1)).subject, 'one first')
    assert.equal((await getTicket(db, two.tenant.id, 1)).subject, 'two first')
    await assert.rejects(getTicket(db, two.tenant.id, 2), (error: unknown) => {
      assert.ok(error instanceof AppError)
      assert.equal(error.code, 'not_found')
      return true
    })
    assert.deepEqual(
      (await listTickets(db, two.tenant.id)).map((ticket) => ticket.subject),
      ['two first'],
    )

    // One tenant's support account is not another's requester.
    const foreign = await post(s.app, CREATE, { host: two.host, auth: two.key, body: ticketBody(one) })
    assert.equal(foreign.statusCode, 400)
    assert.deepEqual(foreign.json(), { error: 'Requestor email was not found in Zendesk' })

    // The same ServiceNow incident in two tenants is two tickets.
    const incident = { short_description: 'Down', sys_id: 'shared-sys-id' }
    const inOne = await post(s.app, `${TICKETS}/servicenow`, {
      host: one.host,
      auth: one.key,
      body: { ...incident, requester_email: one.requester },
    })
    const inTwo = await post(s.app, `${TICKETS}/servicenow`, {
      host: two.host,
      auth: two.key,
      body: { ...incident, requester_email: two.requester },
    })
    assert.equal(inOne.statusCode, 201, inOne.body)
    assert.equal(inTwo.statusCode, 201, inTwo.body)
    assert.deepEqual([inOne.json(), inTwo.json()], [{ ticket: 3 }, { ticket: 2 }])

    const twoLog = await listDeliveries(db, two.tenant.id)
    assert.equal(twoLog.length, 3)
    assert.ok(twoLog.every((entry) => entry.principal === `api_key:${two.keyId}`))
  })
})

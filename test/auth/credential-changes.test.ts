/** Credential changes: a revoked key, a changed password or a disabled account stops working within 5 s on every instance. */
import assert from 'node:assert/strict'
import { before, it } from 'node:test'
import type { FastifyInstance } from 'fastify'
import { createApiKey, revokeApiKey } from '../../src/auth/api-keys.js'
import { createUser, setPassword, setUserStatus } from '../../src/directory/users.js'
import { uniqueAddress } from '../helpers/client-address.js'
import { sleep } from '../helpers/rows.js'
import { onEachDatabase } from '../helpers/suite.js'
import { post, TICKETS } from '../helpers/test-app.js'

const PATH = `${TICKETS}/createticket`
const LIMIT_MS = 5000

function basic(email: string, password: string): string {
  return `Basic ${Buffer.from(`${email}:${password}`).toString('base64')}`
}

/** The status a request with `auth` gets; `{}` is answered 400 once authenticated, so nothing is created. */
async function statusWith(app: FastifyInstance, host: string, auth: string): Promise<number> {
  const res = await post(app, PATH, { host, auth, body: {}, remoteAddress: uniqueAddress() })
  return res.statusCode
}

/** Milliseconds until `auth` is refused (401), polling every 250 ms; Infinity when it still works after 5 s. */
async function msUntilRefused(
  app: FastifyInstance,
  host: string,
  auth: string,
  since: number,
): Promise<number> {
  while (Date.now() - since <= LIMIT_MS) {
    const status = await statusWith(app, host, auth)
    if (status === 401) return Date.now() - since
    assert.equal(status, 400, 'authenticated requests are answered 400 for {}')
    await sleep(250)
  }
  return Number.POSITIVE_INFINITY
}

onEachDatabase('credential changes on two instances', { tenants: ['acme'] }, (s) => {
  let second: FastifyInstance
  before(async () => {
    // A second instance over the same database, with the default re-check interval (2 s).
    const instance = await s.instance()
    assert.equal(instance.services.config.credentialRecheckMs, 2000)
    second = instance.app
  })

  it('a key made on one instance works at once on the other', async () => {
    const key = await createApiKey(s.services.database, s.acme.tenant.id, {
      name: 'new',
      management: true,
      expiresInMs: null,
    })
    assert.equal(await statusWith(second, s.acme.host, `Bearer ${key.key}`), 400)
    const email = 'fresh@acme.example.com'
    await createUser(s.services.database, s.acme.tenant.id, {
      email,
      serviceAccount: true,
      password: 'fresh password',
    })
    assert.equal(await statusWith(second, s.acme.host, basic(email, 'fresh password')), 400)
  })

  it('a revoked key, a changed password and a disabled account stop working within 5 s on both', async () => {
    const { database } = s.services
    const tenantId = s.acme.tenant.id
    const key = await createApiKey(database, tenantId, {
      name: 'to revoke',
      management: true,
      expiresInMs: null,
    })
    const changed = await createUser(database, tenantId, {
      email: 'changed@acme.example.com',
      serviceAccount: true,
      password: 'old password',
    })
    const disabled = await createUser(database, tenantId, {
      email: 'disabled@acme.example.com',
      serviceAccount: true,
      password: 'some password',
    })
    const credentials = {
      'revoked key': `Bearer ${key.key}`,
      'changed password': basic(changed.email, 'old password'),
      'disabled account': basic(disabled.email, 'some password'),
    }
    // Both instances verify (and so cache) every credential first.
    for (const app of [s.app, second]) {
      for (const [name, auth] of Object.entries(credentials)) {
        assert.equal(await statusWith(app, s.acme.host, auth), 400, name)
        assert.equal(await statusWith(app, s.acme.host, auth), 400, `${name}, cached`)
      }
    }

    await revokeApiKey(database, tenantId, key.id)
    await setPassword(database, tenantId, changed.id, 'new password')
    await setUserStatus(database, tenantId, disabled.id, 'disabled')
    // Counted from the last change's commit: a busy machine's slow writes are not the cache's doing.
    const since = Date.now()
    const waits = await Promise.all(
      [s.app, second].flatMap((app, instance) =>
        Object.entries(credentials).map(async ([name, auth]) => ({
          what: `${name} on instance ${instance + 1}`,
          ms: await msUntilRefused(app, s.acme.host, auth, since),
        })),
      ),
    )
    for (const { what, ms } of waits) assert.ok(ms <= LIMIT_MS, `${what} still worked after 5 s`)
    // The new password works on both instances (it was never cached, so no re-check stands in its way).
    for (const app of [s.app, second]) {
      assert.equal(await statusWith(app, s.acme.host, basic(changed.email, 'new password')), 400)
    }
  })
})

/** Webhook authentication on every webhook route: every bad credential is the same 401, auth comes first, the limiter. */
import assert from 'node:assert/strict'
import http from 'node:http'
import { before, describe, it } from 'node:test'
import { createApiKey, revokeApiKey } from '../../src/auth/api-keys.js'
import { Authenticator, parseAuthorization } from '../../src/auth/authenticator.js'
import { verifyPassword } from '../../src/auth/passwords.js'
import { createUser, setUserStatus } from '../../src/directory/users.js'
import { sha256 } from '../../src/ids.js'
import { uniqueAddress } from '../helpers/client-address.js'
import { sleep } from '../helpers/rows.js'
import { onEachDatabase, type Suite } from '../helpers/suite.js'
import { post, SERVICE_PASSWORD, type SeededTenant, TICKETS } from '../helpers/test-app.js'
import { WEBHOOK_ROUTES } from '../helpers/webhook-routes.js'

const UNAUTHORIZED = '{"error":"ERROR"}'

function basic(email: string, password: string): string {
  return `Basic ${Buffer.from(`${email}:${password}`).toString('base64')}`
}

/** Credentials made once per dialect for the table of bad ones. */
interface Fixture {
  acme: SeededTenant
  other: SeededTenant
  revokedKey: string
  expiredKey: string
  plainKey: string
  adminEmail: string
  userEmail: string
  disabledEmail: string
  terminatedEmail: string
}

interface BadCredential {
  name: string
  auth(f: Fixture): string | undefined
  host?(f: Fixture): string
}

const BAD_CREDENTIALS: BadCredential[] = [
  { name: 'no Authorization header', auth: () => undefined },
  { name: 'an empty header', auth: () => '' },
  { name: 'garbage', auth: () => 'garbage' },
  { name: 'a scheme alone', auth: () => 'Bearer' },
  { name: 'Bearer with garbage', auth: () => 'Bearer not-a-key' },
  { name: 'an unknown scheme with a good key', auth: (f) => `Token ${f.acme.key}` },
  { name: 'a good key with a character more', auth: (f) => `Bearer ${f.acme.key}x` },
  { name: 'an unknown key', auth: () => `Bearer oc_${'A'.repeat(43)}` },
  { name: 'an over-long header', auth: () => `Bearer ${'a'.repeat(5000)}` },
  { name: 'a revoked key', auth: (f) => `Bearer ${f.revokedKey}` },
  { name: 'an expired key', auth: (f) => `ApiKey ${f.expiredKey}` },
  { name: 'a key of another tenant', auth: (f) => `Bearer ${f.other.key}` },
  { name: 'a key without the Management API option', auth: (f) => f.plainKey },
  { name: 'Basic that is not base64', auth: () => 'Basic !!!' },
  { name: 'Basic without a colon', auth: () => `Basic ${Buffer.from('nobody').toString('base64')}` },
  { name: 'a wrong password', auth: (f) => basic(f.acme.serviceEmail, 'wrong password!') },
  { name: 'an unknown email', auth: () => basic('nobody@acme.example.com', SERVICE_PASSWORD) },
  { name: 'a service account of another tenant', auth: (f) => f.other.basic },
  {
    name: 'an administrator that is not a service account',
    auth: (f) => basic(f.adminEmail, SERVICE_PASSWORD),
  },
  { name: 'a user that is not a service account', auth: (f) => basic(f.userEmail, SERVICE_PASSWORD) },
  { name: 'a disabled service account', auth: (f) => basic(f.disabledEmail, SERVICE_PASSWORD) },
  { name: 'a terminated service account', auth: (f) => basic(f.terminatedEmail, SERVICE_PASSWORD) },
  {
    name: 'an unknown tenant (with a good key)',
    auth: (f) => `Bearer ${f.acme.key}`,
    host: () => 'nosuch.localhost',
  },
  {
    name: 'an unknown tenant (with a good account)',
    auth: (f) => f.acme.basic,
    host: () => 'nosuch.localhost',
  },
  { name: 'a host of no tenant', auth: (f) => `Bearer ${f.acme.key}`, host: () => '127.0.0.1:8080' },
]

async function makeFixture(s: Suite): Promise<Fixture> {
  const { database } = s.services
  const { acme, other } = s
  const revoked = await createApiKey(database, acme.tenant.id, {
    name: 'revoked',
    management: true,
    expiresInMs: null,
  })
  await revokeApiKey(database, acme.tenant.id, revoked.id)
  const expired = await createApiKey(database, acme.tenant.id, {
    name: 'expired',
    management: true,
    expiresInMs: 1,
  })
  const plain = await createApiKey(database, acme.tenant.id, {
    name: 'plain',
    management: false,
    expiresInMs: null,
  })
  const adminEmail = 'admin@acme.example.com'
  await createUser(database, acme.tenant.id, { email: adminEmail, admin: true, password: SERVICE_PASSWORD })
  const userEmail = 'jane@acme.example.com'
  await createUser(database, acme.tenant.id, { email: userEmail })
  const disabledEmail = 'disabled@acme.example.com'
  const disabled = await createUser(database, acme.tenant.id, {
    email: disabledEmail,
    serviceAccount: true,
    password: SERVICE_PASSWORD,
  })
  await setUserStatus(database, acme.tenant.id, disabled.id, 'disabled')
  const terminatedEmail = 'terminated@acme.example.com'
  const terminated = await createUser(database, acme.tenant.id, {
    email: terminatedEmail,
    serviceAccount: true,
    password: SERVICE_PASSWORD,
  })
  await setUserStatus(database, acme.tenant.id, terminated.id, 'terminated')
  await sleep(5) // the expired key's millisecond has passed
  return {
    acme,
    other,
    revokedKey: revoked.key,
    expiredKey: expired.key,
    plainKey: plain.key,
    adminEmail,
    userEmail,
    disabledEmail,
    terminatedEmail,
  }
}

function assertUnauthorized(
  res: { statusCode: number; body: string; headers: Record<string, unknown> },
  what: string,
) {
  assert.equal(res.statusCode, 401, `${what}: ${res.body}`)
  assert.equal(res.body, UNAUTHORIZED, what)
  assert.equal(res.headers['content-type'], 'application/json; charset=utf-8', what)
}

/** Passes authentication: anything but 401 and 429 (the body `{}` then fails validation). */
function assertAuthenticated(res: { statusCode: number; body: string }, what: string) {
  assert.ok(res.statusCode !== 401 && res.statusCode !== 429, `${what}: ${res.statusCode} ${res.body}`)
}

/** A POST over a real connection (node:http), with a Content-Length or chunked. */
function rawPost(
  port: number,
  host: string,
  auth: string,
  body: string,
  chunked: boolean,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const request = http.request(
      {
        host: '127.0.0.1',
        port,
        path: `${TICKETS}/createticket`,
        method: 'POST',
        agent: false,
        headers: {
          host,
          authorization: auth,
          'content-type': 'application/json',
          ...(chunked ? {} : { 'content-length': Buffer.byteLength(body) }),
        },
      },
      (response) => {
        const chunks: Buffer[] = []
        response.on('data', (chunk: Buffer) => chunks.push(chunk))
        response.on('end', () =>
          resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString() }),
        )
      },
    )
    // The server may answer and close before the whole body is sent: that is the point.
    request.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code !== 'EPIPE' && error.code !== 'ECONNRESET') reject(error)
    })
    if (chunked) {
      for (let i = 0; i < body.length; i += 64 * 1024) request.write(body.slice(i, i + 64 * 1024))
      request.end()
    } else request.end(body)
  })
}

onEachDatabase('webhook authentication', (s) => {
  let f: Fixture
  before(async () => {
    f = await makeFixture(s)
  })

  for (const route of WEBHOOK_ROUTES) {
    describe(route.name, () => {
      it('answers every kind of bad credentials 401 {"error":"ERROR"}, the same bytes', async () => {
        const path = await route.path(s.services, f.acme)
        const bodies = new Set<string>()
        // Sent at once (each from its own address): the KDF runs of the Basic cases overlap.
        await Promise.all(
          BAD_CREDENTIALS.map(async (bad) => {
            const auth = bad.auth(f)
            const res = await post(s.app, path, {
              host: bad.host?.(f) ?? f.acme.host,
              ...(auth === undefined ? {} : { auth }),
              body: {},
              remoteAddress: uniqueAddress(),
            })
            assertUnauthorized(res, bad.name)
            bodies.add(res.rawPayload.toString('hex'))
          }),
        )
        assert.equal(bodies.size, 1)
      })

      it('accepts the four header forms, the scheme in any case', async () => {
        const path = await route.path(s.services, f.acme)
        const forms = [
          `Bearer ${f.acme.key}`,
          `bearer ${f.acme.key}`,
          `BEARER ${f.acme.key}`,
          `ApiKey ${f.acme.key}`,
          `apikey ${f.acme.key}`,
          `APIKEY ${f.acme.key}`,
          f.acme.key,
          f.acme.basic,
          f.acme.basic.replace('Basic', 'basic'),
          f.acme.basic.replace('Basic', 'BASIC'),
          basic(f.acme.serviceEmail.toUpperCase(), SERVICE_PASSWORD),
        ]
        for (const auth of forms) {
          const res = await post(s.app, path, {
            host: f.acme.host,
            auth,
            body: {},
            remoteAddress: uniqueAddress(),
          })
          assertAuthenticated(res, auth.slice(0, 12))
        }
      })

      it('checks credentials before the body: bad credentials and a bad body get 401', async () => {
        const path = await route.path(s.services, f.acme)
        const cases = [
          { name: 'invalid JSON', raw: '{"title":' },
          { name: 'an array', raw: '[1,2]' },
          { name: 'an empty body', raw: '' },
          { name: '2 MiB', raw: JSON.stringify({ title: 'x'.repeat(2 * 1024 * 1024) }) },
        ]
        const auths = [undefined, 'Bearer nope', basic(f.acme.serviceEmail, 'wrong password!')]
        await Promise.all(
          cases.flatMap((bad) =>
            auths.map(async (auth) => {
              const res = await post(s.app, path, {
                host: f.acme.host,
                ...(auth === undefined ? {} : { auth }),
                raw: bad.raw,
                remoteAddress: uniqueAddress(),
              })
              assertUnauthorized(res, `${bad.name} with ${auth ?? 'no header'}`)
            }),
          ),
        )
        // Bad credentials for an unknown tenant with a bad body: still 401.
        const unknown = await post(s.app, path, {
          host: 'nosuch.localhost',
          raw: '{',
          remoteAddress: uniqueAddress(),
        })
        assertUnauthorized(unknown, 'unknown tenant with invalid JSON')
      })
    })
  }

  it('over a real socket: 401 before a 2 MiB body is read, 413 for it once authenticated', async () => {
    await s.app.listen({ host: '127.0.0.1', port: 0 })
    const address = s.app.server.address()
    assert.ok(address !== null && typeof address === 'object')
    const big = JSON.stringify({ title: 'x'.repeat(2 * 1024 * 1024) })
    for (const chunked of [false, true]) {
      const refused = await rawPost(address.port, f.acme.host, 'Bearer nope', big, chunked)
      assert.deepEqual(refused, { status: 401, body: UNAUTHORIZED }, `chunked: ${chunked}`)
      const tooLarge = await rawPost(address.port, f.acme.host, `Bearer ${f.acme.key}`, big, chunked)
      assert.deepEqual(
        tooLarge,
        { status: 413, body: '{"error":"Request body too large"}' },
        `chunked: ${chunked}`,
      )
    }
  })

  it('stores keys only as SHA-256 and passwords only as scrypt hashes', async () => {
    const { db } = s.services.database
    const keys = await db.selectFrom('api_keys').selectAll().where('id', '=', f.acme.keyId).execute()
    assert.equal(keys[0]?.key_hash, sha256(f.acme.key))
    const users = await db.selectFrom('users').selectAll().where('email', '=', f.acme.serviceEmail).execute()
    const [scheme, n] = (users[0]?.password_hash ?? '').split('$')
    assert.equal(scheme, 'scrypt')
    assert.ok(Number(n) >= 2 ** 14, 'a memory-hard cost')
    const everything = JSON.stringify([
      await db.selectFrom('api_keys').selectAll().execute(),
      await db.selectFrom('users').selectAll().execute(),
    ])
    for (const secret of [f.acme.key, f.acme.key.slice(8), f.other.key, SERVICE_PASSWORD]) {
      assert.ok(!everything.includes(secret), 'a secret is stored as it is')
    }
  })

  it('a key or account made after the app started works on its first request', async () => {
    const key = await createApiKey(s.services.database, f.acme.tenant.id, {
      name: 'late',
      management: true,
      expiresInMs: null,
    })
    const first = await post(s.app, `${TICKETS}/createticket`, {
      host: f.acme.host,
      auth: `Bearer ${key.key}`,
      body: {},
      remoteAddress: uniqueAddress(),
    })
    assertAuthenticated(first, 'new key')
    const email = 'late-svc@acme.example.com'
    await createUser(s.services.database, f.acme.tenant.id, {
      email,
      serviceAccount: true,
      password: 'a brand new password',
    })
    const second = await post(s.app, `${TICKETS}/createticket`, {
      host: f.acme.host,
      auth: basic(email, 'a brand new password'),
      body: {},
      remoteAddress: uniqueAddress(),
    })
    assertAuthenticated(second, 'new service account')
  })

  it('concurrent first requests with one Basic header share one KDF run; then it is cached', async () => {
    let runs = 0
    const counting = (password: string, stored: string) => {
      runs += 1
      return verifyPassword(password, stored)
    }
    const original = s.services.authenticator
    s.services.authenticator = new Authenticator(s.services.database, s.services.failures, {
      checkPassword: counting,
    })
    try {
      const send = (auth: string) =>
        post(s.app, `${TICKETS}/createticket`, {
          host: f.acme.host,
          auth,
          body: {},
          remoteAddress: uniqueAddress(),
        })
      const answers = await Promise.all(Array.from({ length: 8 }, () => send(f.acme.basic)))
      for (const res of answers) assert.equal(res.json().error, 'title is a required field')
      assert.equal(runs, 1, 'eight concurrent first requests, one KDF run')
      assert.equal((await send(f.acme.basic)).statusCode, 400)
      assert.equal(runs, 1, 'a verified header is not checked again at once')
      // A failure is not cached: each wrong try pays the KDF again.
      assertUnauthorized(await send(basic(f.acme.serviceEmail, 'wrong password!')), 'wrong password')
      assertUnauthorized(await send(basic(f.acme.serviceEmail, 'wrong password!')), 'wrong password again')
      assert.equal(runs, 3)
    } finally {
      s.services.authenticator = original
    }
  })

  it('a wrong email, or an unknown tenant, costs about what a wrong password costs', async () => {
    const time = async (auth: string, host = f.acme.host) => {
      const start = process.hrtime.bigint()
      const res = await post(s.app, `${TICKETS}/createticket`, {
        host,
        auth,
        body: {},
        remoteAddress: uniqueAddress(),
      })
      assertUnauthorized(res, auth)
      return Number(process.hrtime.bigint() - start) / 1e6
    }
    const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0
    const wrongPassword: number[] = []
    const wrongEmail: number[] = []
    const unknownTenant: number[] = []
    for (let i = 0; i < 5; i++) {
      // Alternated, so a busy moment of the machine weighs on every side alike.
      wrongPassword.push(await time(basic(f.acme.serviceEmail, `wrong password ${i}`)))
      wrongEmail.push(await time(basic(`nobody${i}@acme.example.com`, SERVICE_PASSWORD)))
      unknownTenant.push(await time(basic(f.acme.serviceEmail, `wrong password ${i}`), 'nosuch.localhost'))
    }
    const ratio = median(wrongEmail) / median(wrongPassword)
    assert.ok(ratio > 0.5 && ratio < 2, `wrong email / wrong password = ${ratio.toFixed(2)}`)
    const tenantRatio = median(unknownTenant) / median(wrongPassword)
    assert.ok(
      tenantRatio > 0.5 && tenantRatio < 2,
      `unknown tenant / wrong password = ${tenantRatio.toFixed(2)}`,
    )
  })

  it('30 failures change nothing; the 31st attempt and all after it get 429 without a credential check', async () => {
    const path = `${TICKETS}/createticket`
    const address = uniqueAddress()
    const good = { title: 'T', description: 'D', requester_email: f.acme.requester }
    for (let i = 0; i < 30; i++) {
      const res = await post(s.app, path, {
        host: f.acme.host,
        auth: 'Bearer nope',
        body: good,
        remoteAddress: address,
      })
      assertUnauthorized(res, `failure ${i + 1}`)
    }
    const still = await post(s.app, path, {
      host: f.acme.host,
      auth: f.acme.key,
      body: good,
      remoteAddress: address,
    })
    assert.equal(still.statusCode, 201, still.body)
    // The 31st attempt finds no slot left: refused before its check, and counted.
    const last = await post(s.app, path, {
      host: f.acme.host,
      auth: 'Bearer nope',
      body: good,
      remoteAddress: address,
    })
    assert.equal(last.statusCode, 429, last.body)
    assert.equal(last.body, UNAUTHORIZED)

    let runs = 0
    const original = s.services.authenticator
    s.services.authenticator = new Authenticator(s.services.database, s.services.failures, {
      checkPassword: (password, stored) => {
        runs += 1
        return verifyPassword(password, stored)
      },
    })
    try {
      for (const auth of [f.acme.key, f.acme.basic, 'Bearer nope']) {
        const blocked = await post(s.app, path, {
          host: f.acme.host,
          auth,
          body: good,
          remoteAddress: address,
        })
        assert.equal(blocked.statusCode, 429, blocked.body)
        assert.equal(blocked.body, UNAUTHORIZED)
      }
      const unknownTenant = await post(s.app, path, {
        host: 'nosuch.localhost',
        auth: f.acme.key,
        remoteAddress: address,
      })
      assert.equal(unknownTenant.statusCode, 429)
      assert.equal(runs, 0, 'a blocked address costs no KDF')
    } finally {
      s.services.authenticator = original
    }
    const elsewhere = await post(s.app, path, {
      host: f.acme.host,
      auth: f.acme.key,
      body: good,
      remoteAddress: uniqueAddress(),
    })
    assert.equal(elsewhere.statusCode, 201, elsewhere.body)
  })
})

describe('parseAuthorization', () => {
  const key = `oc_${'a'.repeat(43)}`
  it('reads the four forms, the scheme in any case', () => {
    for (const header of [
      `Bearer ${key}`,
      `bEaReR ${key}`,
      `ApiKey ${key}`,
      `APIKEY ${key}`,
      key,
      ` ${key} `,
    ]) {
      assert.deepEqual(parseAuthorization(header), { kind: 'key', key }, header)
    }
    const encoded = Buffer.from('svc@acme.com:pa:ss word').toString('base64')
    for (const scheme of ['Basic', 'basic', 'BASIC']) {
      assert.deepEqual(parseAuthorization(`${scheme} ${encoded}`), {
        kind: 'basic',
        email: 'svc@acme.com',
        password: 'pa:ss word',
      })
    }
  })

  it('refuses everything else', () => {
    for (const header of [
      '',
      'Bearer',
      `Token ${key}`,
      `Bearer ${key}x`,
      'oc_short',
      'Basic',
      'Basic %%%',
      `Basic ${Buffer.from(':password').toString('base64')}`,
      `Basic ${Buffer.from('no-colon').toString('base64')}`,
    ]) {
      assert.equal(parseAuthorization(header), null, header)
    }
  })
})

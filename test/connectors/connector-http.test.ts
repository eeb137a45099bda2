// The shared connector plumbing against local servers: policy at connect time, timeouts, fixed reasons, redaction.
import assert from 'node:assert/strict'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { createServer as createTlsServer } from 'node:https'
import type { AddressInfo } from 'node:net'
import { after, before, describe, it } from 'node:test'
import {
  basicAuthorization,
  ConnectorHttp,
  OutboundError,
  type OutboundFailureKind,
  retryAfterMs,
} from '../../src/connectors/http/connector-http.js'
import { describeNetworkCause } from '../../src/connectors/http/network-cause.js'
import {
  isPublicAddress,
  type OutboundPolicy,
  outboundPolicy,
  type ResolvedAddress,
} from '../../src/connectors/http/outbound-policy.js'
import { vendorErrorCode } from '../../src/connectors/http/vendor-error-code.js'
import { testTls } from '../helpers/test-tls.js'

const SECRET = 'api-key-0123456789-SECRET'
const CANARY = 'CANARY-7f3a9c'

interface Local {
  server: Server
  port: number
  connections: number
  requests: IncomingMessage[]
}

/** A local server (http, or https with the test certificate) that counts connections and requests. */
async function local(
  handler: (req: IncomingMessage, res: ServerResponse) => void,
  tls = false,
): Promise<Local> {
  const state: Local = { server: createServer(), port: 0, connections: 0, requests: [] }
  const listener = (req: IncomingMessage, res: ServerResponse) => {
    state.requests.push(req)
    handler(req, res)
  }
  state.server = tls ? createTlsServer(testTls(), listener) : createServer(listener)
  state.server.on('connection', () => {
    state.connections++
  })
  await new Promise<void>((resolve) => state.server.listen(0, '127.0.0.1', () => resolve()))
  state.port = (state.server.address() as AddressInfo).port
  return state
}

async function close(server: Local): Promise<void> {
  server.server.closeAllConnections()
  await new Promise((resolve) => server.server.close(resolve))
}

async function failure(promise: Promise<unknown>, kind: OutboundFailureKind): Promise<OutboundError> {
  try {
    await promise
  } catch (error) {
    assert.ok(error instanceof OutboundError, `expected an OutboundError, got ${String(error)}`)
    assert.equal(error.kind, kind, error.message)
    assert.ok(!error.message.includes(SECRET), 'the secret is never in a message')
    assert.ok(!error.message.includes(CANARY), "the vendor's text is never in a message")
    return error
  }
  assert.fail('expected a failure')
}

/** A resolver from a table; a name absent from it does not exist. */
function dns(
  entries: Record<string, string[] | (() => string[])>,
): (name: string) => Promise<ResolvedAddress[]> {
  return async (name) => {
    const entry = entries[name]
    if (entry === undefined)
      throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${name}`), { code: 'ENOTFOUND' })
    const addresses = typeof entry === 'function' ? entry() : entry
    return addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }))
  }
}

const open = outboundPolicy({ allowPrivate: true })
const http = (policy: OutboundPolicy = open, timeoutMs = 2000) =>
  new ConnectorHttp({ vendor: 'Acme HR', policy, secrets: [SECRET], timeoutMs })

describe('ConnectorHttp', () => {
  let vendor: Local
  before(async () => {
    vendor = await local((req, res) => {
      const echo = `${CANARY} you sent ${req.headers.authorization ?? ''} to ${req.url ?? ''}`
      switch (req.url) {
        case '/422':
          res.writeHead(422, { 'content-type': 'application/json', 'x-echo': echo })
          res.end(JSON.stringify({ error: 'RecordInvalid', description: echo, details: { base: [echo] } }))
          return
        case '/html':
          res.writeHead(500, { 'content-type': 'text/html' })
          res.end(`<html>${echo}</html>`)
          return
        case '/echo-code':
          res.writeHead(400, { 'content-type': 'application/json' })
          res.end(JSON.stringify({ error: SECRET }))
          return
        case '/redirect':
          res.writeHead(302, { location: 'http://127.0.0.1:1/metadata' })
          res.end()
          return
        case '/slow':
          setTimeout(() => res.end('{}'), 1000).unref()
          return
        case '/trickle':
          res.writeHead(200, { 'content-type': 'application/json' })
          res.write('{"a":')
          setTimeout(() => res.end('1}'), 1000).unref()
          return
        case '/huge':
          res.writeHead(200, { 'content-type': 'application/json' })
          res.end(`"${'x'.repeat(200_000)}"`)
          return
        case '/drop':
          req.socket.destroy()
          return
        case '/not-json':
          res.end('not json')
          return
        default:
          res.writeHead(200, { 'content-type': 'application/json', 'retry-after': '3' })
          res.end('{"ok":true}')
      }
    })
  })
  after(() => close(vendor))

  const url = (path: string) => `http://127.0.0.1:${vendor.port}${path}`

  it('answers the status, headers and body of a successful call', async () => {
    const answer = await http().send({ method: 'GET', url: url('/ok') })
    assert.equal(answer.status, 200)
    assert.deepEqual(http().json(answer), { ok: true })
    assert.equal(retryAfterMs(answer.headers), 3000)
  })

  it("turns an error answer into the status and the vendor's code only: no body, no header, no echo", async () => {
    const client = http()
    const answer = await client.send({
      method: 'POST',
      url: url('/422'),
      headers: { authorization: `Bearer ${SECRET}` },
      body: '{}',
    })
    assert.equal(answer.status, 422)
    assert.equal(client.statusReason(answer), 'Acme HR answered 422 (RecordInvalid)')
    const html = await client.send({ method: 'GET', url: url('/html') })
    assert.equal(client.statusReason(html), 'Acme HR answered 500')
  })

  it('leaves out a code that is a secret the connector knows', async () => {
    const client = http()
    const answer = await client.send({ method: 'GET', url: url('/echo-code') })
    assert.equal(client.statusReason(answer), 'Acme HR answered 400')
  })

  it('redacts the secrets it was given, and every Authorization value it sent', async () => {
    const client = http()
    await client.send({
      method: 'GET',
      url: url('/ok'),
      headers: { authorization: 'Bearer tok-learned-on-the-way' },
    })
    const basic = basicAuthorization('user', 'pa55word-for-basic')
    await client.send({ method: 'GET', url: url('/ok'), headers: { authorization: basic } })
    const text = `a ${SECRET} b tok-learned-on-the-way c ${basic} d ${basic.slice('Basic '.length)}`
    const redacted = client.redact(text)
    for (const secret of [SECRET, 'tok-learned-on-the-way', basic.slice('Basic '.length)]) {
      assert.ok(!redacted.includes(secret), redacted)
    }
    assert.match(redacted, /^a \[redacted\] b \[redacted\] c/)
  })

  it('never follows a redirect', async () => {
    const error = await failure(http().send({ method: 'GET', url: url('/redirect') }), 'redirect')
    assert.equal(error.message, 'Acme HR answered 302, a redirect, which is not followed')
    assert.equal(error.status, 302)
  })

  it('times an attempt out, headers and body alike, and honours a shorter deadline', async () => {
    const slow = await failure(http(open, 150).send({ method: 'GET', url: url('/slow') }), 'timeout')
    assert.equal(slow.message, 'no answer from Acme HR within 150 ms')
    await failure(http(open, 150).send({ method: 'GET', url: url('/trickle') }), 'timeout')
    const capped = await failure(
      http(open, 5000).send({ method: 'GET', url: url('/slow'), deadline: performance.now() + 100 }),
      'timeout',
    )
    // The attempt gets what is left of the deadline (a little less than 100 ms by the time it starts).
    const given = Number(/^no answer from Acme HR within (\d+) ms$/.exec(capped.message)?.[1])
    assert.ok(given > 0 && given <= 100, capped.message)
  })

  it('refuses an answer larger than the limit', async () => {
    const client = new ConnectorHttp({ vendor: 'Acme HR', policy: open, maxBodyBytes: 10_000 })
    const error = await failure(client.send({ method: 'GET', url: url('/huge') }), 'too_large')
    assert.equal(error.message, 'Acme HR answered 200 with more than 10000 bytes')
  })

  it('says why a connection failed in fixed words, never the socket text', async () => {
    const dropped = await failure(http().send({ method: 'GET', url: url('/drop') }), 'network')
    assert.equal(dropped.message, 'could not reach Acme HR (connection closed)')
    const refused = await failure(http().send({ method: 'GET', url: 'http://127.0.0.1:1/' }), 'network')
    assert.equal(refused.message, 'could not reach Acme HR (connection refused)')
    const resolver = outboundPolicy({ allowPrivate: true, resolve: dns({}) })
    const missing = await failure(
      http(resolver).send({ method: 'GET', url: 'http://nowhere.example.test/' }),
      'network',
    )
    assert.equal(missing.message, 'could not reach Acme HR (host not found)')
  })

  it('reads a body that is not JSON as bad_response', async () => {
    const client = http()
    const answer = await client.send({ method: 'GET', url: url('/not-json') })
    assert.throws(
      () => client.json(answer),
      (error: unknown) =>
        error instanceof OutboundError &&
        error.kind === 'bad_response' &&
        error.message === 'Acme HR answered 200 with a body that is not JSON',
    )
  })

  describe('the outbound URL policy at call time', () => {
    const strict = (entries: Record<string, string[] | (() => string[])>) =>
      outboundPolicy({ resolve: dns(entries) })

    it('refuses plain http, an IP literal and a local name before connecting', async () => {
      const before = vendor.connections
      const client = http(strict({}))
      const cases: Array<[string, string]> = [
        [url('/ok'), 'the address of Acme HR is not allowed (only https URLs are called)'],
        [`https://127.0.0.1:${vendor.port}/`, 'the address of Acme HR is not allowed (not a public host)'],
        [
          `https://[::ffff:127.0.0.1]:${vendor.port}/`,
          'the address of Acme HR is not allowed (not a public host)',
        ],
        [`https://2130706433:${vendor.port}/`, 'the address of Acme HR is not allowed (not a public host)'],
        [`https://localhost:${vendor.port}/`, 'the address of Acme HR is not allowed (not a public host)'],
        [
          `https://user:pw@acme.example.test/`,
          'the address of Acme HR is not allowed (a URL with a user name or password is not called)',
        ],
      ]
      for (const [target, message] of cases) {
        const error = await failure(client.send({ method: 'GET', url: target }), 'not_allowed')
        assert.equal(error.message, message, target)
      }
      assert.equal(vendor.connections, before, 'not one connection was made')
    })

    it('refuses a name that resolves to a private address, at the connection itself', async () => {
      const before = vendor.connections
      const entries: Record<string, string[]> = {
        'loopback.example.test': ['127.0.0.1'],
        'mapped.example.test': ['::ffff:127.0.0.1'],
        'metadata.example.test': ['169.254.169.254'],
        'ec2.example.test': ['fd00:ec2::254'],
        'mixed.example.test': ['93.184.216.34', '127.0.0.1'],
      }
      const client = http(strict(entries))
      for (const name of Object.keys(entries)) {
        const error = await failure(
          client.send({ method: 'GET', url: `https://${name}:${vendor.port}/` }),
          'not_allowed',
        )
        assert.equal(error.message, 'the address of Acme HR is not allowed (not a public host)')
      }
      assert.equal(vendor.connections, before, 'not one connection was made')
    })

    it('checks the addresses of every connection, so a name rebound to a private address is refused', async () => {
      const tlsVendor = await local((_req, res) => {
        // Close after each answer, so the next call needs a new connection (and a new lookup).
        res.writeHead(200, { connection: 'close' })
        res.end('{}')
      }, true)
      try {
        let answers = 0
        const policy = outboundPolicy({
          // The first lookup answers the stand-in public address, the next ones a private one.
          resolve: dns({ 'rebind.example.test': () => (answers++ === 0 ? ['127.0.0.1'] : ['10.0.0.7']) }),
          isAllowedAddress: (address) => address === '127.0.0.1' || isPublicAddress(address),
          ca: testTls().cert,
        })
        const client = http(policy)
        const target = `https://rebind.example.test:${tlsVendor.port}/`
        assert.equal((await client.send({ method: 'GET', url: target })).status, 200)
        await failure(client.send({ method: 'GET', url: target }), 'not_allowed')
        assert.equal(tlsVendor.requests.length, 1)
      } finally {
        await close(tlsVendor)
      }
    })

    it('speaks https to a trusted certificate and refuses an untrusted one', async () => {
      const tlsVendor = await local((_req, res) => res.end('{"ok":true}'), true)
      try {
        const resolve = dns({ 'acme.example.test': ['127.0.0.1'] })
        const standIn = (address: string) => address === '127.0.0.1'
        const trusted = http(outboundPolicy({ resolve, isAllowedAddress: standIn, ca: testTls().cert }))
        const target = `https://acme.example.test:${tlsVendor.port}/`
        assert.equal((await trusted.send({ method: 'GET', url: target })).status, 200)
        const untrusted = http(outboundPolicy({ resolve, isAllowedAddress: standIn }))
        const error = await failure(untrusted.send({ method: 'GET', url: target }), 'network')
        assert.equal(error.message, 'could not reach Acme HR (certificate not trusted)')
      } finally {
        await close(tlsVendor)
      }
    })
  })
})

describe('vendorErrorCode', () => {
  const cases: Array<[unknown, string | null]> = [
    [
      { error: 'RecordInvalid', description: 'Record validation errors', details: { x: [] } },
      'RecordInvalid',
    ],
    [{ error: { title: 'Forbidden', message: 'You do not have access' } }, 'Forbidden'],
    [{ errors: [{ code: 'TicketLocked', title: 'Locked', detail: 'The ticket is locked' }] }, 'TicketLocked'],
    [[{ code: 'EmployeeNotFound', message: 'Employee 1 was not found' }], 'EmployeeNotFound'],
    [[{ code: 404, message: 'x' }], '404'],
    [{ error: 'invalid_client', error_description: 'Client authentication failed' }, 'invalid_client'],
    [{ error: 'Record Invalid' }, null],
    [{ error: 'x'.repeat(65) }, null],
    [{ error: '<script>' }, null],
    [{ message: 'only a message' }, null],
    ['a string', null],
    [null, null],
  ]
  for (const [body, code] of cases) {
    it(`${JSON.stringify(body).slice(0, 60)} → ${code}`, () => {
      assert.equal(vendorErrorCode(JSON.stringify(body)), code)
    })
  }

  it('reads nothing from a body that is not JSON, and drops a code that is, or is part of, a secret', () => {
    assert.equal(vendorErrorCode('<html>RecordInvalid</html>'), null)
    assert.equal(vendorErrorCode('{"error":"abcdef123456"}', ['xxabcdef123456yy']), null)
    assert.equal(vendorErrorCode('{"error":"xxSECRETVALUEyy"}', ['SECRETVALUE']), null)
  })
})

describe('describeNetworkCause', () => {
  const withCode = (code: string, message = `connect ${code} 10.1.2.3:443`) =>
    Object.assign(new Error(message), { code })
  const cases: Array<[unknown, string]> = [
    [withCode('ECONNREFUSED'), 'connection refused'],
    [withCode('ENOTFOUND'), 'host not found'],
    [withCode('ECONNRESET'), 'connection reset'],
    [withCode('CERT_HAS_EXPIRED'), 'certificate expired'],
    [withCode('ERR_SSL_WRONG_VERSION_NUMBER'), 'TLS handshake failed'],
    [new TypeError('fetch failed', { cause: withCode('EHOSTUNREACH') }), 'host unreachable'],
    [withCode('ESOMETHINGNEW'), 'ESOMETHINGNEW'],
    [withCode('not a code 10.1.2.3'), 'network error'],
    [new Error('socket hang up at 10.1.2.3'), 'network error'],
    ['a string', 'network error'],
  ]
  for (const [error, words] of cases) {
    it(`→ ${words}`, () => {
      assert.equal(describeNetworkCause(error), words)
      assert.doesNotMatch(describeNetworkCause(error), /10\.1\.2\.3/)
    })
  }
})

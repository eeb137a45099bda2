/** Requests Node's HTTP parser or Fastify's router refuse before any route runs answer the contract's {"error":…} shape, over a real socket. */
import assert from 'node:assert/strict'
import { Socket } from 'node:net'
import { after, before, describe, it } from 'node:test'
import { clientErrorHandler } from '../../src/http/low-level-errors.js'
import { exchange } from '../helpers/raw-http.js'
import { seedTenant, startTestApp, type TestApp } from '../helpers/test-app.js'

interface Answer {
  status: number
  headers: Record<string, string>
  body: string
}

function parse(raw: string): Answer {
  const split = raw.indexOf('\r\n\r\n')
  assert.ok(split > 0, `an HTTP answer: ${JSON.stringify(raw.slice(0, 200))}`)
  const [statusLine = '', ...lines] = raw.slice(0, split).split('\r\n')
  const headers: Record<string, string> = {}
  for (const line of lines) {
    const colon = line.indexOf(':')
    headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim()
  }
  return { status: Number(statusLine.split(' ')[1]), headers, body: raw.slice(split + 4) }
}

describe('low-level HTTP errors over a real socket', () => {
  let t: TestApp
  let port: number
  let key: string

  before(async () => {
    t = await startTestApp('sqlite')
    key = (await seedTenant(t.services, 'acme')).key
    await t.app.listen({ host: '127.0.0.1', port: 0 })
    const address = t.app.server.address()
    if (address === null || typeof address === 'string') throw new Error('no port')
    port = address.port
  })
  after(() => t.close())

  const MGMT = '/v5.0/mgmt/api/v1.0'
  const UNREADABLE =
    '{"error":"Bad request: the HTTP request could not be read (malformed request line, headers or framing)"}'
  const cases: Array<{ name: string; request: () => string; status: number; body: string }> = [
    {
      name: 'no Host header (HTTP/1.1)',
      request: () => 'GET /healthz HTTP/1.1\r\nConnection: close\r\n\r\n',
      status: 400,
      body: '{"error":"Bad request: the Host header is required"}',
    },
    {
      name: 'no Host header on a webhook with credentials',
      request: () =>
        `POST ${MGMT}/webhooks/helpdesk/createticket HTTP/1.1\r\nAuthorization: Bearer ${key}\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}`,
      status: 400,
      body: '{"error":"Bad request: the Host header is required"}',
    },
    {
      name: 'bad percent-encoding in the path (FST_ERR_BAD_URL)',
      request: () => `GET ${MGMT}/users/%zz HTTP/1.1\r\nHost: acme.localhost\r\nConnection: close\r\n\r\n`,
      status: 400,
      body: '{"error":"Bad request: the URL is not valid (check its percent-encoding)"}',
    },
    {
      name: 'bad percent-encoding in a webhook path',
      request: () =>
        `POST ${MGMT}/webhooks/provisioning/%E0%A4%A/adduser HTTP/1.1\r\nHost: acme.localhost\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}`,
      status: 400,
      body: '{"error":"Bad request: the URL is not valid (check its percent-encoding)"}',
    },
    {
      name: 'a path parameter over 100 characters',
      request: () =>
        `GET ${MGMT}/users/${'u'.repeat(101)} HTTP/1.1\r\nHost: acme.localhost\r\nConnection: close\r\n\r\n`,
      status: 400,
      body: '{"error":"Bad request: a part of the URL path is longer than 100 characters"}',
    },
    {
      name: 'both Content-Length and Transfer-Encoding (request smuggling)',
      request: () =>
        `POST ${MGMT}/webhooks/helpdesk/createticket HTTP/1.1\r\nHost: acme.localhost\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`,
      status: 400,
      body: UNREADABLE,
    },
    {
      name: 'invalid chunk size',
      request: () =>
        `POST ${MGMT}/webhooks/helpdesk/createticket HTTP/1.1\r\nHost: acme.localhost\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n`,
      status: 400,
      body: UNREADABLE,
    },
    {
      name: 'a header name with a space',
      request: () => 'GET /healthz HTTP/1.1\r\nHost: acme.localhost\r\nBad Header: x\r\n\r\n',
      status: 400,
      body: UNREADABLE,
    },
    {
      name: 'a NUL byte in a header value',
      request: () => 'GET /healthz HTTP/1.1\r\nHost: acme.localhost\r\nX-Note: a\u0000b\r\n\r\n',
      status: 400,
      body: UNREADABLE,
    },
    {
      name: 'not HTTP at all',
      request: () => 'HELLO THERE\r\n\r\n',
      status: 400,
      body: UNREADABLE,
    },
    {
      name: 'headers over 16 KiB',
      request: () => `GET /healthz HTTP/1.1\r\nHost: acme.localhost\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`,
      status: 431,
      body: '{"error":"Request headers too large"}',
    },
  ]

  for (const { name, request, status, body } of cases) {
    it(`${name}: ${status} with a JSON error and an X-Request-Id`, async () => {
      const answer = parse(await exchange(port, request()))
      assert.equal(answer.status, status)
      assert.equal(answer.headers['content-type'], 'application/json; charset=utf-8')
      assert.match(answer.headers['x-request-id'] ?? '', /^[0-9a-f-]{36}$/)
      assert.equal(answer.body, body)
    })
  }

  it('still answers an HTTP/1.0 request without Host, and keeps serving after all of the above', async () => {
    const old = parse(await exchange(port, 'GET /healthz HTTP/1.0\r\n\r\n'))
    assert.equal(old.status, 200)
    const fine = parse(
      await exchange(port, 'GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n'),
    )
    assert.deepEqual([fine.status, fine.body], [200, '{"status":"ok"}'])
  })

  it('answers a request timeout 408 in the same shape, and writes nothing once an answer has begun', () => {
    const written: string[] = []
    const fake = () => {
      const socket = new Socket()
      socket.on('error', () => {}) // the handler destroys the socket with the parser's error
      Object.defineProperty(socket, 'writable', { value: true })
      socket.write = ((chunk: string) => {
        written.push(chunk)
        return true
      }) as Socket['write']
      return socket
    }
    clientErrorHandler(Object.assign(new Error('timeout'), { code: 'ERR_HTTP_REQUEST_TIMEOUT' }), fake())
    assert.equal(written.length, 1)
    assert.match(written[0] ?? '', /^HTTP\/1\.1 408 Request Timeout\r\n/)
    assert.ok((written[0] ?? '').endsWith('\r\n\r\n{"error":"Request timeout"}'))
    const busy = fake()
    Object.assign(busy, { _httpMessage: { headersSent: true } })
    clientErrorHandler(Object.assign(new Error('bad'), { code: 'HPE_INVALID_CHUNK_SIZE' }), busy)
    assert.equal(written.length, 1, 'an answer already on its way is not corrupted')
  })
})

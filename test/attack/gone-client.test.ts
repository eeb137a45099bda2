/**
 * A client that breaks its framing after the headers (an invalid chunk) or hangs up is gone before the
 * authentication hooks run: Node has forgotten its address by then. Found from outside: every such
 * request made the failure limiter throw (`request.ip` undefined) and wrote an error with its stack to
 * the log, on demand and unlimited. Over a real socket, with the real logger, on both databases.
 */
import assert from 'node:assert/strict'
import { it } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import type { FastifyInstance } from 'fastify'
import { clientKey, GONE_CLIENT } from '../../src/auth/failure-limiter.js'
import { exchange } from '../helpers/raw-http.js'
import { onEachDatabase } from '../helpers/suite.js'

const MGMT = '/v5.0/mgmt/api/v1.0'

async function listen(app: FastifyInstance): Promise<number> {
  await app.listen({ host: '127.0.0.1', port: 0 })
  const address = app.server.address()
  if (address === null || typeof address === 'string') throw new Error('no port')
  return address.port
}

/** Log lines at level error (50) or above. */
function errors(lines: string[]): string[] {
  return lines.filter((line) => (JSON.parse(line) as { level: number }).level >= 50)
}

it('clientKey gives requests without an address one key instead of throwing', () => {
  assert.equal(clientKey(undefined), GONE_CLIENT)
  assert.equal(clientKey(''), GONE_CLIENT)
  assert.equal(clientKey('127.0.0.1'), '127.0.0.1')
})

onEachDatabase('a client gone before authentication', (s) => {
  it('an invalid chunk after the headers is answered 400 and logs no error, on every authenticated surface', async () => {
    const { app, lines } = await s.loggedApp()
    const port = await listen(app)
    const headers = 'Host: acme.localhost\r\nTransfer-Encoding: chunked\r\nContent-Type: application/json'
    const requests = [
      `POST ${MGMT}/webhooks/helpdesk/createticket HTTP/1.1\r\n${headers}\r\n\r\nzz\r\n{}\r\n0\r\n\r\n`,
      `POST ${MGMT}/webhooks/helpdesk/createticket HTTP/1.1\r\n${headers}\r\nAuthorization: Bearer ${s.acme.key}\r\n\r\nzz\r\n{}\r\n0\r\n\r\n`,
      `POST ${MGMT}/webhooks/helpdesk/servicenow HTTP/1.1\r\n${headers}\r\nAuthorization: ${s.acme.basic}\r\n\r\nzz\r\n{}\r\n0\r\n\r\n`,
      `POST ${MGMT}/users HTTP/1.1\r\n${headers}\r\nAuthorization: Bearer oc_wrong\r\n\r\nzz\r\n{}\r\n0\r\n\r\n`,
      `POST /console/login HTTP/1.1\r\nHost: acme.localhost\r\nTransfer-Encoding: chunked\r\nContent-Type: application/x-www-form-urlencoded\r\n\r\nzz\r\nemail=a\r\n0\r\n\r\n`,
    ]
    for (const request of requests) {
      const answer = await exchange(port, request)
      assert.match(answer, /^HTTP\/1\.1 400 /, request)
    }
    // The hooks of the requests whose clients are gone finish after the answers: a normal request on a
    // new connection, then one more turn of the database, comes after them.
    const fine = await exchange(
      port,
      `GET ${MGMT}/tickets HTTP/1.1\r\nHost: acme.localhost\r\nAuthorization: Bearer ${s.acme.key}\r\nConnection: close\r\n\r\n`,
    )
    assert.match(fine, /^HTTP\/1\.1 200 /)
    await sleep(200)
    assert.deepEqual(errors(lines), [])
  })
})

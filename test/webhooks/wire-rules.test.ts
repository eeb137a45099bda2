/** The common wire rules on both TICKETS webhooks: bodies that are not JSON objects, the size limit, content types, X-Request-Id. */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { BODY_LIMIT } from '../../src/app.js'
import { addRequester } from '../../src/support/requesters.js'
import { uniqueAddress } from '../helpers/client-address.js'
import { countRows } from '../helpers/rows.js'
import { onEachDatabase } from '../helpers/suite.js'
import { post, TICKETS } from '../helpers/test-app.js'

const NOT_OBJECT = '{"error":"Request body must be a JSON object"}'
const TOO_LARGE = '{"error":"Request body too large"}'
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/

const ROUTES = [
  { name: 'servicenow', path: `${TICKETS}/servicenow` },
  { name: 'createticket', path: `${TICKETS}/createticket` },
]

/** A body each route accepts (the requester is made in the suite's setup). */
function validBody(route: string): Record<string, unknown> {
  return route === 'servicenow'
    ? { requester_email: 'wire@acme.example.com', short_description: 'Wire' }
    : { title: 'Wire', description: 'D', requester_email: 'wire@acme.example.com' }
}

/** `valid` padded with a `padding` field so its JSON is exactly `size` bytes. */
function bodyOfSize(valid: Record<string, unknown>, size: number): string {
  const empty = JSON.stringify({ ...valid, padding: '' })
  const text = JSON.stringify({ ...valid, padding: 'x'.repeat(size - Buffer.byteLength(empty)) })
  assert.equal(Buffer.byteLength(text), size)
  return text
}

onEachDatabase(
  'wire rules',
  {
    tenants: ['acme'],
    setup: (s) => addRequester(s.services.database, s.acme.tenant.id, 'wire@acme.example.com', null),
  },
  (s) => {
    for (const route of ROUTES) {
      describe(route.name, () => {
        it('answers a body that is not a JSON object 400, and creates nothing', async () => {
          const before = await countRows(s.db, 'tickets', s.acme.tenant.id)
          for (const raw of [
            '{',
            '{"title":}',
            '[1,2]',
            '[]',
            '"a string"',
            '42',
            'null',
            'true',
            '',
            '   ',
            '{} {}',
          ]) {
            const res = await post(s.app, route.path, { host: s.acme.host, auth: s.acme.key, raw })
            assert.equal(res.statusCode, 400, `${JSON.stringify(raw)}: ${res.body}`)
            assert.equal(res.body, NOT_OBJECT, JSON.stringify(raw))
            assert.equal(res.headers['content-type'], 'application/json; charset=utf-8')
          }
          assert.equal(await countRows(s.db, 'tickets', s.acme.tenant.id), before)
        })

        it('answers a body over 1 MiB 413, and takes one of exactly 1 MiB', async () => {
          assert.equal(BODY_LIMIT, 1024 * 1024)
          const over = await post(s.app, route.path, {
            host: s.acme.host,
            auth: s.acme.key,
            raw: bodyOfSize(validBody(route.name), BODY_LIMIT + 1),
          })
          assert.equal(over.statusCode, 413, over.body)
          assert.equal(over.body, TOO_LARGE)
          const huge = await post(s.app, route.path, {
            host: s.acme.host,
            auth: s.acme.key,
            raw: bodyOfSize(validBody(route.name), 3 * BODY_LIMIT),
          })
          assert.equal(huge.statusCode, 413)
          assert.equal(huge.body, TOO_LARGE)
          const exact = await post(s.app, route.path, {
            host: s.acme.host,
            auth: s.acme.key,
            raw: bodyOfSize(validBody(route.name), BODY_LIMIT),
          })
          assert.equal(exact.statusCode, 201, exact.body)
        })

        it('reads JSON whatever the JSON content type, or none', async () => {
          for (const type of [
            'application/json',
            'application/json; charset=utf-8',
            'application/json;charset=UTF-8',
            'Application/JSON',
            'application/scim+json',
            'application/scim+json; charset=utf-8',
            undefined,
          ]) {
            const res = await s.app.inject({
              method: 'POST',
              url: route.path,
              headers: {
                host: s.acme.host,
                authorization: s.acme.key,
                ...(type === undefined ? {} : { 'content-type': type }),
              },
              payload: JSON.stringify(validBody(route.name)),
            })
            assert.equal(res.statusCode, 201, `${type}: ${res.body}`)
            assert.equal(res.headers['content-type'], 'application/json; charset=utf-8')
            assert.equal(typeof res.json().ticket, 'number')
          }
          // No content type and no body: still the JSON-object rule.
          const empty = await s.app.inject({
            method: 'POST',
            url: route.path,
            headers: { host: s.acme.host, authorization: s.acme.key },
          })
          assert.equal(empty.statusCode, 400)
          assert.equal(empty.body, NOT_OBJECT)
        })
      })
    }

    describe('X-Request-Id', () => {
      const path = `${TICKETS}/createticket`
      /** One request of each outcome, all with the given X-Request-Id (or none). */
      async function everyOutcome(requestId: string | undefined) {
        const headers: Record<string, string> = requestId === undefined ? {} : { 'x-request-id': requestId }
        const common = { host: s.acme.host, headers }
        return {
          201: await post(s.app, path, { ...common, auth: s.acme.key, body: validBody('createticket') }),
          400: await post(s.app, path, { ...common, auth: s.acme.key, body: {} }),
          401: await post(s.app, path, { ...common, auth: 'nope', body: {}, remoteAddress: uniqueAddress() }),
          '401 unknown tenant': await post(s.app, path, {
            ...common,
            host: 'nosuch.localhost',
            auth: s.acme.key,
            remoteAddress: uniqueAddress(),
          }),
          404: await post(s.app, `${TICKETS}/nosuchwebhook`, { ...common, auth: s.acme.key, body: {} }),
          413: await post(s.app, path, { ...common, auth: s.acme.key, raw: 'x'.repeat(BODY_LIMIT + 10) }),
          healthz: await s.app.inject({ method: 'GET', url: '/healthz', headers }),
          // The same rule off the webhooks: the Management API and the console answer with it too.
          '200 management API': await s.app.inject({
            method: 'GET',
            url: '/v5.0/mgmt/api/v1.0/apikeys',
            headers: { ...headers, host: s.acme.host, authorization: `Bearer ${s.acme.key}` },
          }),
          '200 console': await s.app.inject({
            method: 'GET',
            url: '/console/login',
            headers: { ...headers, host: s.acme.host },
          }),
          429: await blocked(headers),
        }
      }

      /** A 429: one address shut out by 31 failures, then asking once more. */
      async function blocked(headers: Record<string, string>) {
        const remoteAddress = uniqueAddress()
        for (let i = 0; i < 31; i++)
          await post(s.app, path, { host: s.acme.host, auth: 'nope', remoteAddress })
        return post(s.app, path, { host: s.acme.host, auth: s.acme.key, body: {}, headers, remoteAddress })
      }

      it('echoes a sane one on every response', async () => {
        for (const id of ['abc-123', 'req_01HX.Z:9@host/x+y=', 'a'.repeat(128)]) {
          const outcomes = await everyOutcome(id)
          for (const [outcome, res] of Object.entries(outcomes)) {
            assert.equal(
              String(res.statusCode),
              outcome.split(' ')[0] === 'healthz' ? '200' : outcome.split(' ')[0],
            )
            assert.equal(res.headers['x-request-id'], id, `${outcome} with ${id}`)
          }
        }
      })

      it('replaces an insane or missing one by a fresh one on every response', async () => {
        const seen = new Set<string>()
        for (const id of [
          undefined,
          'a'.repeat(500),
          'a'.repeat(129),
          'has spaces in it',
          'new\tline',
          '',
          'é',
        ]) {
          const outcomes = await everyOutcome(id)
          for (const [outcome, res] of Object.entries(outcomes)) {
            const given = res.headers['x-request-id']
            assert.equal(typeof given, 'string', `${outcome} has no X-Request-Id`)
            assert.match(String(given), UUID, `${outcome} with ${JSON.stringify(id)}`)
            assert.ok(!seen.has(String(given)), 'a fresh id each time')
            seen.add(String(given))
          }
        }
      })
    })
  },
)

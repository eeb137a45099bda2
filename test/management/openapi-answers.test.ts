/**
 * The OpenAPI document tells the truth: every answer the Management API gives (success, and each error case it
 * documents: 400, 401, 403, 404, 409, 413, 429) is sent for real and validated against the document with an
 * OpenAPI validator (openapi-response-validator), never by hand. A status an operation answers that its
 * document does not list fails, and so does a documented status no case produced (but 503, which needs a
 * database that refuses the service: test/attack/readiness.test.ts sends every operation then and validates
 * its 503 against this document).
 */
import assert from 'node:assert/strict'
import { before, it } from 'node:test'
import { createUser } from '../../src/directory/users.js'
import { addAdmin, signIn } from '../console/console-helpers.js'
import {
  answerProblems,
  documentedOperation,
  MANAGEMENT_ROUTES,
  type ManagementRoute,
  mgmt,
  type OpenApiOperations,
} from '../helpers/management-routes.js'
import { onEachDatabase } from '../helpers/suite.js'

interface OpenApi {
  servers: Array<{ url: string }>
  components: {
    securitySchemes: Record<string, { type: string; scheme?: string; in?: string; name?: string }>
  }
  security: Array<Record<string, string[]>>
  paths: OpenApiOperations['paths']
}

/** The route with its path parameter replaced by `value`, or null when it has none. */
function withParameter(route: ManagementRoute, value: (name: string) => string): string | null {
  const parameter = /\{([^}]+)\}/.exec(route.route)
  return parameter === null ? null : route.route.replace(parameter[0], value(parameter[1] ?? ''))
}

onEachDatabase('OpenAPI document against the answers', { tenants: ['acme'] }, (s) => {
  let doc: OpenApi
  /** `METHOD route` → the statuses the cases produced, to check every documented one was sent. */
  const seen = new Map<string, Set<number>>()

  /** Validates one answer against the operation's documented responses. */
  function check(route: ManagementRoute, status: number, body: string): void {
    const problems = answerProblems(doc, route, status, body === '' ? undefined : JSON.parse(body))
    assert.equal(
      problems,
      undefined,
      `${route.method} ${route.route} answered ${status} ${body.slice(0, 300)}: ${JSON.stringify(problems)}`,
    )
    const key = `${route.method} ${route.route}`
    seen.set(key, (seen.get(key) ?? new Set()).add(status))
  }

  before(async () => {
    const res = await mgmt(s.app, 'GET', '/openapi.json', { host: 'acme.localhost:8080' })
    assert.equal(res.statusCode, 200)
    doc = res.json() as OpenApi
  })

  it('names the address it was fetched from as its server', async () => {
    assert.deepEqual(
      doc.servers.map((server) => server.url),
      ['http://acme.localhost:8080'],
    )
    const elsewhere = await mgmt(s.app, 'GET', '/openapi.json', { host: 'globex.example.com:9443' })
    assert.deepEqual(
      (elsewhere.json() as OpenApi).servers.map((server) => server.url),
      ['http://globex.example.com:9443'],
    )
  })

  it('lists every credential form the API accepts, and each one works', async () => {
    const schemes = doc.components.securitySchemes
    assert.deepEqual(
      Object.values(schemes).map((scheme) => [scheme.type, scheme.scheme ?? scheme.in, scheme.name]),
      [
        ['http', 'bearer', undefined],
        ['apiKey', 'header', 'Authorization'],
        ['apiKey', 'header', 'Authorization'],
        ['apiKey', 'cookie', 'oc_session'],
      ],
    )
    assert.deepEqual(
      doc.security.flatMap((requirement) => Object.keys(requirement)),
      Object.keys(schemes),
    )
    const list = MANAGEMENT_ROUTES.find(
      (r) => r.method === 'GET' && r.route === '/apikeys',
    ) as ManagementRoute
    for (const auth of [`Bearer ${s.acme.key}`, `ApiKey ${s.acme.key}`, s.acme.key]) {
      const res = await mgmt(s.app, 'GET', '/apikeys', { host: s.acme.host, auth })
      assert.equal(res.statusCode, 200, auth.slice(0, 7))
      check(list, res.statusCode, res.body)
    }
    const admin = await addAdmin(s.services, s.acme.tenant)
    const session = await signIn(s.app, s.acme.host, admin.email)
    const res = await mgmt(s.app, 'GET', '/apikeys', {
      host: s.acme.host,
      headers: { cookie: session.cookie },
    })
    assert.equal(res.statusCode, 200)
    check(list, res.statusCode, res.body)
    // Basic (a service account) is a webhook credential only: refused here, so not documented.
    const refused = await mgmt(s.app, 'GET', '/apikeys', { host: s.acme.host, auth: s.acme.basic })
    assert.equal(refused.statusCode, 401)
  })

  for (const route of MANAGEMENT_ROUTES) {
    it(`${route.method} ${route.route}: every answer is one the document lists, in its shape`, async () => {
      const bearer = `Bearer ${s.acme.key}`
      const ok = await route.prepare(s.services, s.app, s.acme)
      // Each route's failures come from an address of its own, so they never add up to a block (429).
      const index = MANAGEMENT_ROUTES.indexOf(route) + 1
      const send = (options: Omit<Parameters<typeof mgmt>[3], 'host'> & { path?: string }) =>
        mgmt(s.app, route.method, options.path ?? ok.path, {
          host: s.acme.host,
          remoteAddress: `198.51.100.${index}`,
          ...options,
        })

      const success = await send({ auth: bearer, ...(ok.body === undefined ? {} : { body: ok.body }) })
      assert.ok(
        success.statusCode >= 200 && success.statusCode < 300,
        `${success.statusCode} ${success.body}`,
      )
      check(route, success.statusCode, success.body)

      const cases: Array<[number, Awaited<ReturnType<typeof send>>]> = [
        [401, await send({})],
        [401, await send({ auth: 'Bearer oc_not-a-key' })],
        // A value out of bounds: a NUL in the path parameter, or in the query string of a route without one.
        [400, await send({ auth: bearer, path: withParameter(route, () => '%00') ?? `${ok.path}?e=%00` })],
      ]
      if (route.method !== 'GET') {
        cases.push([413, await send({ auth: bearer, raw: `{"x":"${'a'.repeat(1024 * 1024 + 10)}"}` })])
        const admin = await addAdmin(s.services, s.acme.tenant, `admin-${index}@acme.example.com`)
        const session = await signIn(s.app, s.acme.host, admin.email)
        const again = await route.prepare(s.services, s.app, s.acme)
        cases.push([
          403,
          await send({
            path: again.path,
            headers: { cookie: session.cookie },
            ...(again.body === undefined ? {} : { body: again.body }),
          }),
        ])
      }
      const unknown = withParameter(route, (name) => (name === 'number' ? '999999' : 'nosuchthing0000'))
      if (unknown !== null) {
        cases.push([
          404,
          await send({ auth: bearer, path: unknown, ...(ok.body === undefined ? {} : { body: ok.body }) }),
        ])
      }
      if (route.method === 'POST' && route.route === '/users') {
        const taken = await createUser(s.services.database, s.acme.tenant.id, {
          email: 'taken@acme.example.com',
        })
        cases.push([409, await send({ auth: bearer, body: { email: taken.email } })])
      }
      if (ok.body !== undefined) {
        cases.push([400, await send({ auth: bearer, raw: '[1,2]' })])
      }
      // 31 failures from one address, then the route itself from there: 429 before any credential check.
      const address = `203.0.113.${index}`
      for (let i = 0; i < 31; i++) await send({ auth: 'Bearer oc_wrong', remoteAddress: address })
      cases.push([429, await send({ auth: bearer, remoteAddress: address })])

      for (const [status, res] of cases) {
        assert.equal(
          res.statusCode,
          status,
          `${route.method} ${route.route} case ${status}: ${res.body.slice(0, 200)}`,
        )
        check(route, res.statusCode, res.body)
      }
    })
  }

  it('every status the document lists was answered by some case (503 aside: a database that cannot be written)', () => {
    for (const route of MANAGEMENT_ROUTES) {
      const documented = Object.keys(documentedOperation(doc, route).responses).map(Number)
      const answered = seen.get(`${route.method} ${route.route}`) ?? new Set()
      const missing = documented.filter((status) => status !== 503 && !answered.has(status))
      // A route documents one success status; the cases produced it once each.
      assert.deepEqual(missing, [], `${route.method} ${route.route}`)
    }
  })
})

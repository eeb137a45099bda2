/** The Management API's OpenAPI document: served without credentials, generated from the route schemas, one path per route. */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { DIALECTS, postgresAvailable } from '../helpers/databases.js'
import { MANAGEMENT_ROUTES, MGMT, mgmt } from '../helpers/management-routes.js'
import { post, seedTenant, startTestApp, type TestApp, TICKETS } from '../helpers/test-app.js'

const pgUp = await postgresAvailable()

interface Operation {
  operationId?: string
  security?: unknown
  requestBody?: { content: Record<string, { schema: Record<string, unknown> }> }
  responses: Record<string, { description: string; content?: Record<string, { schema: unknown }> }>
}

interface OpenApi {
  openapi: string
  info: { title: string; version: string }
  servers: Array<{ url: string }>
  components: { securitySchemes: Record<string, { type: string; scheme: string }> }
  security: Array<Record<string, string[]>>
  paths: Record<string, Record<string, Operation>>
}

for (const dialect of DIALECTS) {
  describe(`management API: OpenAPI document (${dialect})`, {
    skip: dialect === 'postgres' && !pgUp && 'no PostgreSQL',
  }, () => {
    let t: TestApp
    let doc: OpenApi
    before(async () => {
      t = await startTestApp(dialect)
      const res = await mgmt(t.app, 'GET', '/openapi.json', { host: 'anything.localhost' })
      assert.equal(res.statusCode, 200)
      assert.match(String(res.headers['content-type']), /^application\/json/)
      doc = JSON.parse(res.body) as OpenApi
    })
    after(() => t.close())

    it('is OpenAPI 3.x, titled, with a Bearer key or a console session required by every operation', () => {
      assert.match(doc.openapi, /^3\.\d+\.\d+$/)
      assert.equal(doc.info.title, 'OptimalCloud Management API')
      assert.equal(doc.servers[0]?.url, 'http://anything.localhost')
      const schemes = Object.values(doc.components.securitySchemes)
      assert.deepEqual(
        schemes.map((s) => [s.type, s.scheme ?? (s as { in?: string }).in]),
        [
          ['http', 'bearer'],
          ['apiKey', 'header'],
          ['apiKey', 'header'],
          ['apiKey', 'cookie'],
        ],
      )
      assert.deepEqual(doc.security, [
        { managementKey: [] },
        { managementKeyApiKeyPrefix: [] },
        { managementKeyBare: [] },
        { consoleSession: [] },
      ])
    })

    it('has exactly one operation per management route, each with an id, its answers and 401', () => {
      const documented = Object.entries(doc.paths).flatMap(([path, operations]) =>
        Object.keys(operations).map((method) => `${method.toUpperCase()} ${path}`),
      )
      const expected = MANAGEMENT_ROUTES.map((r) => `${r.method} ${MGMT}${r.route}`)
      assert.deepEqual([...documented].sort(), [...expected].sort())
      const ids = new Set<string>()
      for (const operations of Object.values(doc.paths)) {
        for (const operation of Object.values(operations)) {
          assert.ok(operation.operationId !== undefined)
          ids.add(operation.operationId)
          assert.ok(operation.responses['401'] !== undefined, operation.operationId)
          assert.ok(
            Object.keys(operation.responses).some((status) => status.startsWith('2')),
            operation.operationId,
          )
        }
      }
      assert.equal(ids.size, documented.length, 'operation ids are unique')
      assert.ok(
        !JSON.stringify(Object.keys(doc.paths)).includes('/webhooks/'),
        'webhooks are documented in docs/',
      )
    })

    it('is generated from the schemas: bodies, nullable fields, and no secret fields in answers', () => {
      const create = doc.paths[`${MGMT}/apikeys`]?.post
      const schema = create?.requestBody?.content['application/json']?.schema as {
        required: string[]
        properties: Record<string, unknown>
        additionalProperties: boolean
      }
      assert.deepEqual(schema.required, ['name'])
      assert.deepEqual(Object.keys(schema.properties).sort(), ['expires_in', 'management', 'name'])
      assert.equal(schema.additionalProperties, false)
      const listed = JSON.stringify(doc.paths[`${MGMT}/apikeys`]?.get?.responses['200'])
      assert.ok(listed.includes('"nullable":true'))
      assert.ok(!listed.includes('"key"'), 'the key list has no key')
      assert.ok(JSON.stringify(create?.responses['201']).includes('"key"'), 'a created key has its key')
      const answers = JSON.stringify(
        Object.values(doc.paths).flatMap((ops) => Object.values(ops).map((op) => op.responses)),
      )
      for (const field of ['key_hash', 'password_hash', 'password', 'client_secret"', 'support_settings']) {
        assert.ok(!answers.includes(`"${field}`), `${field} in an answer schema`)
      }
    })

    it('the requests it describes work: an example from the document runs', async () => {
      const acme = await seedTenant(t.services, 'acme')
      await post(t.app, `${TICKETS}/createticket`, {
        host: acme.host,
        auth: `Bearer ${acme.key}`,
        body: { title: 'T', description: 'D', requester_email: acme.requester },
      })
      const params = doc.paths[`${MGMT}/tickets/{number}`]?.get as unknown as {
        parameters: Array<{ name: string; in: string; required: boolean }>
      }
      assert.deepEqual(
        params.parameters.map((p) => [p.name, p.in, p.required]),
        [['number', 'path', true]],
      )
      const res = await mgmt(t.app, 'GET', '/tickets/1', { host: acme.host, auth: `Bearer ${acme.key}` })
      assert.equal(res.statusCode, 200)
    })
  })
}

/** The delivery log of the TICKETS webhooks: an entry per authenticated call with who and what, and never a secret there or in the logs. */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import type { FastifyInstance } from 'fastify'
import { BODY_LIMIT } from '../../src/app.js'
import { listDeliveries } from '../../src/deliveries/deliveries.js'
import { uniqueAddress } from '../helpers/client-address.js'
import { DIALECTS, postgresAvailable } from '../helpers/databases.js'
import {
  buildLoggedApp,
  post,
  SERVICE_PASSWORD,
  type SeededTenant,
  seedTenant,
  startTestApp,
  type TestApp,
  TICKETS,
} from '../helpers/test-app.js'

const pgUp = await postgresAvailable()

for (const dialect of DIALECTS) {
  describe(`delivery log (${dialect})`, { skip: dialect === 'postgres' && !pgUp && 'no PostgreSQL' }, () => {
    let t: TestApp
    let acme: SeededTenant
    let app: FastifyInstance
    let logLines: string[] = []
    before(async () => {
      t = await startTestApp(dialect)
      acme = await seedTenant(t.services, 'acme')
      ;({ app, lines: logLines } = await buildLoggedApp(t.services))
    })
    after(async () => {
      await app.close()
      await t.close()
    })

    it('records every call with its endpoint, status, error, principal, ticket and request id; no secret anywhere', async () => {
      const ticketBody = { title: 'Logged', description: 'D', requester_email: acme.requester }
      const incident = { requester_email: acme.requester, short_description: 'Logged', sys_id: 'log-1' }
      const wrongPassword = 'not the password at all'
      const wrongBasic = `Basic ${Buffer.from(`${acme.serviceEmail}:${wrongPassword}`).toString('base64')}`
      const strangerKey = `oc_${'Z'.repeat(43)}`
      const calls: Array<{
        id: string
        path: string
        auth?: string
        body?: unknown
        raw?: string
        host?: string
      }> = [
        { id: 'dl-201-key', path: 'createticket', auth: `Bearer ${acme.key}`, body: ticketBody },
        { id: 'dl-201-basic', path: 'servicenow', auth: acme.basic, body: incident },
        { id: 'dl-200-basic', path: 'servicenow', auth: acme.basic, body: incident },
        { id: 'dl-400-field', path: 'createticket', auth: `ApiKey ${acme.key}`, body: { title: 'x' } },
        {
          id: 'dl-400-requester',
          path: 'createticket',
          auth: acme.key,
          body: { ...ticketBody, requester_email: 'stranger@acme.example.com' },
        },
        { id: 'dl-400-json', path: 'servicenow', auth: acme.key, raw: '{"oops"' },
        { id: 'dl-413', path: 'createticket', auth: acme.key, raw: 'x'.repeat(BODY_LIMIT + 1) },
        { id: 'dl-401-password', path: 'createticket', auth: wrongBasic, body: ticketBody },
        { id: 'dl-401-key', path: 'servicenow', auth: `Bearer ${strangerKey}`, body: incident },
        { id: 'dl-401-none', path: 'servicenow', body: incident },
        { id: 'dl-401-tenant', path: 'servicenow', auth: acme.key, body: incident, host: 'nosuch.localhost' },
      ]
      const answers = new Map<string, number>()
      for (const call of calls) {
        const res = await post(app, `${TICKETS}/${call.path}`, {
          host: call.host ?? acme.host,
          ...(call.auth === undefined ? {} : { auth: call.auth }),
          ...(call.raw === undefined ? { body: call.body } : { raw: call.raw }),
          headers: { 'x-request-id': call.id },
          remoteAddress: uniqueAddress(),
        })
        assert.equal(res.headers['x-request-id'], call.id)
        assert.equal(String(res.statusCode), call.id.split('-')[1], `${call.id}: ${res.body}`)
        answers.set(call.id, res.statusCode)
      }

      const entries = await listDeliveries(t.services.database.db, acme.tenant.id, { limit: 1000 })
      const byId = (id: string) => {
        const found = entries.filter((entry) => entry.request_id === id)
        assert.equal(found.length, 1, `one entry for ${id}`)
        const [entry] = found
        assert.ok(entry)
        return entry
      }
      const keyPrincipal = `api_key:${acme.keyId}`
      assert.match(keyPrincipal, /^api_key:key_/)

      const created = byId('dl-201-key')
      assert.deepEqual(
        [created.endpoint, created.status, created.error, created.principal, created.ticket],
        ['createticket', 201, null, keyPrincipal, 1],
      )
      const viaBasic = byId('dl-201-basic')
      assert.equal(viaBasic.endpoint, 'servicenow')
      assert.equal(viaBasic.status, 201)
      assert.match(viaBasic.principal ?? '', /^service_account:usr_/)
      assert.equal(viaBasic.ticket, 2)
      const repeat = byId('dl-200-basic')
      assert.deepEqual([repeat.status, repeat.ticket, repeat.principal], [200, 2, viaBasic.principal])

      const field = byId('dl-400-field')
      assert.deepEqual(
        [field.endpoint, field.status, field.error, field.principal, field.ticket],
        ['createticket', 400, 'description is a required field', keyPrincipal, null],
      )
      const requester = byId('dl-400-requester')
      assert.equal(requester.error, 'Requestor email was not found in Zendesk')
      assert.match(requester.reason ?? '', /stranger@acme\.example\.com/, 'the log says why')
      const json = byId('dl-400-json')
      assert.deepEqual(
        [json.endpoint, json.status, json.error, json.principal],
        ['servicenow', 400, 'Request body must be a JSON object', keyPrincipal],
      )
      const large = byId('dl-413')
      assert.deepEqual([large.status, large.error], [413, 'Request body too large'])
      // Calls without valid credentials are not the tenant's deliveries: nothing is logged for them
      // (they are counted per tenant and hour instead, see test/auth/refused-calls.test.ts).
      for (const id of ['dl-401-password', 'dl-401-key', 'dl-401-none', 'dl-401-tenant']) {
        assert.equal(entries.filter((entry) => entry.request_id === id).length, 0, id)
      }
      assert.equal(answers.size, calls.length)

      // Nothing secret in any column of any delivery row, nor in anything logged.
      const rows = await t.services.database.db.selectFrom('deliveries').selectAll().execute()
      const stored = JSON.stringify(rows)
      const logged = logLines.join('')
      assert.ok(logLines.length >= calls.length, 'the logger wrote one line per request at least')
      assert.match(logged, /"status":201/)
      const secrets = {
        'the API key': acme.key,
        'the key without its prefix': acme.key.slice(3),
        'an unknown key': strangerKey,
        'the password': SERVICE_PASSWORD,
        'a wrong password': wrongPassword,
        'the Basic credentials': acme.basic.slice('Basic '.length),
        'the wrong Basic credentials': wrongBasic.slice('Basic '.length),
      }
      for (const [what, secret] of Object.entries(secrets)) {
        assert.ok(!stored.includes(secret), `${what} is in the delivery log`)
        assert.ok(!logged.includes(secret), `${what} is in the logs`)
      }
      assert.ok(!/authorization/i.test(stored), 'no Authorization header in the delivery log')
    })
  })
}

import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import {
  post,
  type SeededTenant,
  seedTenant,
  startTestApp,
  type TestApp,
  TICKETS,
} from '../helpers/test-app.js'

describe('smoke', () => {
  let t: TestApp
  let acme: SeededTenant
  before(async () => {
    t = await startTestApp(process.env.D === 'pg' ? 'postgres' : 'sqlite')
    acme = await seedTenant(t.services, 'acme')
  })
  after(() => t.close())
  it('creates a ticket', async () => {
    const res = await post(t.app, `${TICKETS}/createticket`, {
      host: acme.host,
      auth: `Bearer ${acme.key}`,
      body: { title: 'T', description: 'D', requester_email: acme.requester, priority: 'high', extra: 1 },
    })
    assert.equal(res.statusCode, 201, res.body)
    assert.deepEqual(res.json(), { ticket: 1 })
    const basic = await post(t.app, `${TICKETS}/createticket`, {
      host: acme.host,
      auth: acme.basic,
      body: { title: 'T', description: 'D', requester_email: acme.requester },
    })
    assert.equal(basic.statusCode, 201, basic.body)
    assert.deepEqual(basic.json(), { ticket: 2 })
  })
})

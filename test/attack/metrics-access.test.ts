/** GET /metrics is for the operator: never on a tenant's host; on localhost or an IP host, or anywhere with the operator's token. */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { startTestApp, type TestApp } from '../helpers/test-app.js'

const NOT_FOUND = '{"error":"Not found"}'

describe('/metrics access', () => {
  let open: TestApp
  let guarded: TestApp
  const TOKEN = 'metrics-token-for-tests-0123456789'

  before(async () => {
    open = await startTestApp('sqlite')
    guarded = await startTestApp('sqlite', { metricsToken: TOKEN })
  })
  after(async () => {
    await open.close()
    await guarded.close()
  })

  const scrape = (t: TestApp, host: string, authorization?: string) =>
    t.app.inject({
      method: 'GET',
      url: '/metrics',
      headers: { host, ...(authorization === undefined ? {} : { authorization }) },
    })

  it('serves the operator without a token: localhost or an IP address as Host, any port', async () => {
    for (const host of [
      '127.0.0.1:8080',
      'localhost:8080',
      'LOCALHOST',
      '10.0.3.7',
      '[::1]:8080',
      '[fd00::5]',
    ]) {
      const res = await scrape(open, host)
      assert.equal(res.statusCode, 200, host)
      assert.match(res.body, /optimalcloud_http_requests_total/)
      assert.match(res.body, /optimalcloud_log_lines_dropped_total 0/)
    }
  })

  it('is not found on tenant hosts or any other name, whatever the credentials', async () => {
    for (const host of [
      'acme.localhost:8080',
      'nosuch.localhost',
      'acme.theoptimalcloud.com',
      'metrics.example.com',
      '127.0.0.1.nip.io',
      'localhost.evil.com',
    ]) {
      const res = await scrape(open, host, 'Bearer anything')
      assert.equal(res.statusCode, 404, host)
      assert.equal(res.body, NOT_FOUND)
    }
  })

  it('with OPTIMALCLOUD_METRICS_TOKEN, needs exactly `Bearer <token>`, on any host', async () => {
    assert.equal((await scrape(guarded, 'acme.localhost', `Bearer ${TOKEN}`)).statusCode, 200)
    assert.equal((await scrape(guarded, '127.0.0.1:8080', `Bearer ${TOKEN}`)).statusCode, 200)
    for (const authorization of [
      undefined,
      TOKEN,
      `Bearer ${TOKEN}x`,
      `Bearer ${TOKEN.slice(1)}`,
      `bearer ${TOKEN.toUpperCase()}`,
    ]) {
      const res = await scrape(guarded, '127.0.0.1:8080', authorization)
      assert.equal(res.statusCode, 404, String(authorization))
      assert.equal(res.body, NOT_FOUND)
    }
  })

  it('reads the token from the environment', async () => {
    const { loadConfig } = await import('../../src/config.js')
    assert.equal(loadConfig({ OPTIMALCLOUD_METRICS_TOKEN: 'abc' }).metricsToken, 'abc')
    assert.equal(loadConfig({}).metricsToken, null)
  })
})

// Where administrators are told a tenant is reached: HR webhook URLs and the OpenAPI server.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { loadConfig, publicOrigin } from '../../src/config.js'

describe('publicOrigin', () => {
  it('on the default localhost base domain, names plain http and the port, so curl reaches it as shown', () => {
    assert.equal(publicOrigin(loadConfig({}), 'acme'), 'http://acme.localhost:8080')
    assert.equal(publicOrigin(loadConfig({ PORT: '9090' }), 'acme'), 'http://acme.localhost:9090')
  })

  it('on a real base domain, https without a port', () => {
    const config = loadConfig({ OPTIMALCLOUD_BASE_DOMAIN: 'theoptimalcloud.com' })
    assert.equal(publicOrigin(config, 'acme'), 'https://acme.theoptimalcloud.com')
  })

  it('OPTIMALCLOUD_PUBLIC_URL wins, with {tenant} replaced and no trailing slash', () => {
    const config = loadConfig({ OPTIMALCLOUD_PUBLIC_URL: 'https://{tenant}.hooks.example.com/' })
    assert.equal(publicOrigin(config, 'acme'), 'https://acme.hooks.example.com')
  })
})

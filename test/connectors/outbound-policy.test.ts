// The outbound URL policy without a database: which addresses are public, which URLs may be saved.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import {
  checkOutboundUrl,
  isPublicAddress,
  outboundPolicy,
  type ResolvedAddress,
  urlProblem,
} from '../../src/connectors/http/outbound-policy.js'
import { AppError } from '../../src/errors.js'

/** A resolver that answers from a table, as DNS would (ENOTFOUND for the rest), and counts its questions. */
function table(entries: Record<string, string[]>): {
  resolve: (name: string) => Promise<ResolvedAddress[]>
  asked: string[]
} {
  const asked: string[] = []
  return {
    asked,
    resolve: async (name) => {
      asked.push(name)
      const found = entries[name]
      if (found === undefined)
        throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${name}`), { code: 'ENOTFOUND' })
      return found.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }))
    },
  }
}

async function refusal(promise: Promise<unknown>): Promise<AppError> {
  try {
    await promise
  } catch (error) {
    assert.ok(error instanceof AppError, `expected an AppError, got ${String(error)}`)
    return error
  }
  assert.fail('expected a 400')
}

describe('isPublicAddress', () => {
  const refused: Array<[string, string]> = [
    ['127.0.0.1', 'loopback'],
    ['127.255.255.254', 'loopback range'],
    ['0.0.0.0', 'unspecified'],
    ['10.0.0.1', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.1.1', 'private'],
    ['169.254.169.254', 'link-local (cloud metadata)'],
    ['100.64.0.1', 'CGNAT'],
    ['198.18.0.1', 'benchmarking'],
    ['192.0.2.1', 'documentation'],
    ['198.51.100.7', 'documentation'],
    ['203.0.113.9', 'documentation'],
    ['192.0.0.1', 'IETF protocol assignments'],
    ['224.0.0.1', 'multicast'],
    ['239.255.255.250', 'multicast'],
    ['240.0.0.1', 'reserved'],
    ['255.255.255.255', 'broadcast'],
    ['::1', 'IPv6 loopback'],
    ['::', 'IPv6 unspecified'],
    ['fc00::1', 'unique local'],
    ['fd00:ec2::254', 'unique local (EC2 metadata)'],
    ['fe80::1', 'link-local'],
    ['fe80::1%eth0', 'link-local with a zone'],
    ['fec0::1', 'site-local'],
    ['ff02::1', 'IPv6 multicast'],
    ['::ffff:127.0.0.1', 'IPv4-mapped loopback'],
    ['::ffff:10.0.0.1', 'IPv4-mapped private'],
    ['::ffff:169.254.169.254', 'IPv4-mapped metadata'],
    ['::ffff:0:7f00:1', 'IPv4-translated'],
    ['::127.0.0.1', 'IPv4-compatible (deprecated)'],
    ['64:ff9b::7f00:1', 'NAT64 of loopback'],
    ['64:ff9b::a00:1', 'NAT64 of private'],
    ['64:ff9b:1::a00:1', 'local-use NAT64'],
    ['2002:7f00:1::', '6to4 of loopback'],
    ['2002:a00:1::', '6to4 of private'],
    ['2001::1', 'Teredo'],
    ['2001:db8::1', 'documentation'],
    ['3fff::1', 'documentation (RFC 9637)'],
    ['100::1', 'discard'],
    ['not an address', 'garbage'],
    ['', 'empty'],
  ]
  for (const [address, what] of refused) {
    it(`refuses ${address || '(empty)'} (${what})`, () => assert.equal(isPublicAddress(address), false))
  }

  const allowed = [
    '8.8.8.8',
    '93.184.216.34',
    '172.32.0.1',
    '100.128.0.1',
    '2606:4700::6810:85e5',
    '2a00:1450:4001:80b::200e',
    '::ffff:8.8.8.8',
    '64:ff9b::808:808',
    '2002:808:808::1',
  ]
  for (const address of allowed) {
    it(`allows the public ${address}`, () => assert.equal(isPublicAddress(address), true))
  }
})

describe('urlProblem (no DNS)', () => {
  const strict = outboundPolicy()
  const cases: Array<[string, ReturnType<typeof urlProblem>]> = [
    ['https://acme.zendesk.com', null],
    ['https://93.184.216.34/', null],
    ['http://acme.zendesk.com', 'scheme'],
    ['ftp://acme.zendesk.com', 'scheme'],
    ['file:///etc/passwd', 'scheme'],
    ['https://user:pw@acme.zendesk.com', 'credentials'],
    ['https://127.0.0.1/', 'address'],
    ['https://localhost/', 'address'],
    ['https://LOCALHOST./', 'address'],
    ['https://api.localhost/', 'address'],
    ['https://0.0.0.0/', 'address'],
    ['https://169.254.169.254/latest/meta-data/', 'address'],
    ['https://[::1]/', 'address'],
    ['https://[fc00::1]/', 'address'],
    ['https://[fe80::1]/', 'address'],
    ['https://[::ffff:127.0.0.1]/', 'address'],
    ['https://[::ffff:10.0.0.1]/', 'address'],
    // The WHATWG parser turns these into 127.0.0.1 before anything looks at them.
    ['https://2130706433/', 'address'],
    ['https://0x7f.1/', 'address'],
    ['https://0x7f000001/', 'address'],
    ['https://0177.0.0.1/', 'address'],
    ['https://127.1/', 'address'],
    ['https://017700000001/', 'address'],
  ]
  for (const [url, problem] of cases) {
    it(`${url} → ${problem ?? 'allowed'}`, () => assert.equal(urlProblem(strict, new URL(url)), problem))
  }

  it('allows plain http and private hosts only under the allow-private setting', () => {
    const open = outboundPolicy({ allowPrivate: true })
    assert.equal(urlProblem(open, new URL('http://127.0.0.1:4567')), null)
    assert.equal(urlProblem(open, new URL('http://localhost:4567')), null)
    assert.equal(urlProblem(open, new URL('ftp://127.0.0.1')), 'scheme')
    assert.equal(urlProblem(open, new URL('http://u:p@127.0.0.1')), 'credentials')
  })
})

describe('checkOutboundUrl (save time)', () => {
  it('accepts an https URL of a name that resolves to public addresses only', async () => {
    const dns = table({ 'acme.zendesk.com': ['104.16.51.111', '2606:4700::6810:336f'] })
    await checkOutboundUrl(outboundPolicy({ resolve: dns.resolve }), 'url', 'https://acme.zendesk.com')
    assert.deepEqual(dns.asked, ['acme.zendesk.com'])
  })

  const refusedNames: Array<[string, string[]]> = [
    ['loopback.example.test', ['127.0.0.1']],
    ['private.example.test', ['10.0.0.1']],
    ['metadata.example.test', ['169.254.169.254']],
    ['ec2-v6.example.test', ['fd00:ec2::254']],
    ['v6-loopback.example.test', ['::1']],
    ['mapped.example.test', ['::ffff:10.0.0.1']],
    ['cgnat.example.test', ['100.64.1.1']],
    // One private address among public ones is enough: the connection may use it.
    ['mixed.example.test', ['93.184.216.34', '192.168.0.10']],
  ]
  for (const [name, addresses] of refusedNames) {
    it(`refuses ${name}, which resolves to ${addresses.join(', ')}`, async () => {
      const dns = table({ [name]: addresses })
      const error = await refusal(
        checkOutboundUrl(outboundPolicy({ resolve: dns.resolve }), 'url', `https://${name}/`),
      )
      assert.equal(error.status, 400)
      assert.equal(error.message, 'url must be an https URL of a public host')
    })
  }

  it('names the setting as the caller does, and never echoes the value', async () => {
    const error = await refusal(
      checkOutboundUrl(outboundPolicy(), 'Setting token_url', 'http://secret-host.example.test/x?token=abc'),
    )
    assert.equal(error.message, 'Setting token_url must be an https URL of a public host')
  })

  it('refuses credentials in the URL with their own message', async () => {
    const error = await refusal(checkOutboundUrl(outboundPolicy(), 'url', 'https://u:p@acme.zendesk.com'))
    assert.equal(error.message, 'url must not carry a user name or password')
  })

  it('refuses an IP literal or a local name without asking DNS', async () => {
    const dns = table({})
    for (const url of ['https://127.0.0.1', 'https://[::1]', 'https://localhost', 'https://2130706433']) {
      await refusal(checkOutboundUrl(outboundPolicy({ resolve: dns.resolve }), 'url', url))
    }
    assert.deepEqual(dns.asked, [])
  })

  it('accepts a name that does not resolve (the call-time check holds), and one whose DNS does not answer in time', async () => {
    await checkOutboundUrl(outboundPolicy({ resolve: table({}).resolve }), 'url', 'https://nowhere.invalid')
    const hang = () => new Promise<ResolvedAddress[]>(() => {})
    const policy = outboundPolicy({ resolve: hang, saveLookupTimeoutMs: 50 })
    await checkOutboundUrl(policy, 'url', 'https://slow-dns.example.test')
  })

  it('under the allow-private setting accepts http and private hosts, without DNS', async () => {
    const dns = table({})
    const open = outboundPolicy({ allowPrivate: true, resolve: dns.resolve })
    await checkOutboundUrl(open, 'url', 'http://127.0.0.1:4567')
    await checkOutboundUrl(open, 'url', 'http://internal.example.test')
    assert.deepEqual(dns.asked, [])
    const error = await refusal(checkOutboundUrl(open, 'url', 'ftp://127.0.0.1'))
    assert.equal(error.message, 'url must be an http(s) URL')
  })

  it('uses the policy predicate, so a test can stand a local address in for a public one', async () => {
    const dns = table({ 'acme.example.test': ['127.0.0.1'] })
    const seam = outboundPolicy({ resolve: dns.resolve, isAllowedAddress: (a) => a === '127.0.0.1' })
    await checkOutboundUrl(seam, 'url', 'https://acme.example.test')
    await refusal(checkOutboundUrl(seam, 'url', 'https://10.0.0.1'))
  })
})

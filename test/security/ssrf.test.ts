/**
 * The SSRF table: a tenant administrator points a connector at hosts it must not reach (loopback,
 * private, link-local, metadata, IPv6, mapped, decimal/octal/hex forms, DNS names that resolve to
 * those, a name rebound after it was saved, redirects). Every surface that saves a connector URL
 * refuses them (management API, CLI), and every webhook that would call one refuses again after
 * resolution without connecting. A vendor's answer reaches the tenant only as a fixed reason.
 */
import assert from 'node:assert/strict'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { after, before, beforeEach, describe, it } from 'node:test'
import {
  isPublicAddress,
  type OutboundPolicy,
  outboundPolicy,
  type ResolvedAddress,
} from '../../src/connectors/http/outbound-policy.js'
import { resetPaylocityTokenCache } from '../../src/connectors/paylocity-client.js'
import { createDestination } from '../../src/directory/destinations.js'
import { configureSupport } from '../../src/support/support-settings.js'
import { requireTenant } from '../../src/tenancy/tenants.js'
import { addAdmin, getPage, signIn } from '../console/console-helpers.js'
import { type FakePaylocity, startFakePaylocity, weblinkEmployeeFixture } from '../fakes/fake-paylocity.js'
import { type FakeZendesk, startFakeZendesk } from '../fakes/fake-zendesk.js'
import { runCli } from '../helpers/cli.js'
import { as } from '../helpers/management-routes.js'
import { onEachDatabase, type Suite } from '../helpers/suite.js'
import { post, TEST_SECRET_KEY, TICKETS } from '../helpers/test-app.js'
import { testTls } from '../helpers/test-tls.js'
import { fixture, hr, lastDelivery } from '../hr/hr-helpers.js'

const EMAIL = 'agent@acme.example.com'
const TOKEN = 'zd-ssrf-T0ken-0123456789abcdef'
const CANARY = 'CANARY-ssrf-5b1e0d'
const NOT_PUBLIC = 'url must be an https URL of a public host'

/** DNS as the tests need it: names that resolve to hostile addresses, and one that rebinds after its first answer. */
function testDns(): {
  resolve: (name: string) => Promise<ResolvedAddress[]>
  asked: string[]
  rebind(): void
} {
  const asked: string[] = []
  let rebindAnswers = 0
  const table: Record<string, () => string[]> = {
    'public.example.test': () => ['93.184.216.34'],
    'zendesk.example.test': () => ['127.0.0.1'],
    'paylocity.example.test': () => ['127.0.0.1'],
    'loopback.example.test': () => ['127.0.0.1'],
    'private.example.test': () => ['10.0.0.1'],
    'metadata.example.test': () => ['169.254.169.254'],
    'v6.example.test': () => ['::1'],
    'ula.example.test': () => ['fd00:ec2::254'],
    'mapped.example.test': () => ['::ffff:127.0.0.1'],
    'mixed.example.test': () => ['93.184.216.34', '127.0.0.1'],
    // Public when the setting is saved, loopback when the webhook calls it.
    'rebind.example.test': () => (rebindAnswers++ === 0 ? ['93.184.216.34'] : ['127.0.0.1']),
  }
  return {
    asked,
    rebind: () => {
      rebindAnswers = 0
    },
    resolve: async (name) => {
      asked.push(name)
      const entry = table[name]
      if (entry === undefined)
        throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${name}`), { code: 'ENOTFOUND' })
      return entry().map((address) => ({ address, family: address.includes(':') ? 6 : 4 }))
    },
  }
}

/** URLs no connector setting may hold, with what makes each one hostile. */
const HOSTILE: Array<[string, string]> = [
  ['http://public.example.test', 'plain http'],
  ['https://127.0.0.1', 'loopback'],
  ['https://127.0.0.1:8443', 'loopback with a port'],
  ['https://localhost', 'localhost'],
  ['https://api.localhost', 'a localhost subdomain'],
  ['https://0.0.0.0', 'unspecified'],
  ['https://10.0.0.1', 'private'],
  ['https://192.168.1.10', 'private'],
  ['https://172.16.5.4', 'private'],
  ['https://100.64.0.1', 'CGNAT'],
  ['https://169.254.169.254', 'cloud metadata'],
  ['https://[fd00:ec2::254]', 'cloud metadata over IPv6'],
  ['https://[::1]', 'IPv6 loopback'],
  ['https://[fc00::1]', 'IPv6 unique local'],
  ['https://[fe80::1]', 'IPv6 link-local'],
  ['https://[::ffff:127.0.0.1]', 'IPv4-mapped loopback'],
  ['https://[::ffff:10.0.0.1]', 'IPv4-mapped private'],
  ['https://[64:ff9b::a9fe:a9fe]', 'NAT64 of the metadata address'],
  ['https://[2002:a9fe:a9fe::]', '6to4 of the metadata address'],
  ['https://2130706433', 'decimal 127.0.0.1'],
  ['https://0x7f.1', 'hex and short 127.0.0.1'],
  ['https://0177.0.0.1', 'octal 127.0.0.1'],
  ['https://127.1', 'short 127.0.0.1'],
  ['https://loopback.example.test', 'a name that resolves to 127.0.0.1'],
  ['https://private.example.test', 'a name that resolves to 10.0.0.1'],
  ['https://metadata.example.test', 'a name that resolves to 169.254.169.254'],
  ['https://v6.example.test', 'a name that resolves to ::1'],
  ['https://ula.example.test', 'a name that resolves to fd00:ec2::254'],
  ['https://mapped.example.test', 'a name that resolves to ::ffff:127.0.0.1'],
  ['https://mixed.example.test', 'a name that resolves to a public and a private address'],
]

interface Vendor {
  server: Server
  url: string
  connections: number
}

/** A plain local server answering whatever `handler` says, counting connections (for the canary tests). */
async function vendorServer(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<Vendor> {
  const server = createServer(handler)
  const state: Vendor = { server, url: '', connections: 0 }
  server.on('connection', () => {
    state.connections++
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()))
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  return state
}

onEachDatabase('SSRF: connector URLs', { tenants: ['acme'] }, (s) => {
  let dns: ReturnType<typeof testDns>
  /** The production rule with test DNS: only public addresses. */
  let strict: OutboundPolicy
  /** 127.0.0.1 stands in for a public host (the https fakes listen there), everything else as in production. */
  let seam: OutboundPolicy
  /** OPTIMALCLOUD_ALLOW_PRIVATE_CONNECTORS=true, to store settings a stricter policy then meets at call time. */
  let lenient: OutboundPolicy
  let zd: FakeZendesk
  let plainZd: FakeZendesk
  let pl: FakePaylocity
  let paylocityId: string

  before(async () => {
    dns = testDns()
    strict = outboundPolicy({ resolve: dns.resolve })
    seam = outboundPolicy({
      resolve: dns.resolve,
      isAllowedAddress: (address) => address === '127.0.0.1' || isPublicAddress(address),
      ca: testTls().cert,
    })
    lenient = outboundPolicy({ allowPrivate: true, resolve: dns.resolve })
    const users = [{ id: 4242, name: 'John Doe', email: s.acme.requester }]
    zd = await startFakeZendesk({ email: EMAIL, apiToken: TOKEN, users, tls: testTls() })
    plainZd = await startFakeZendesk({ email: EMAIL, apiToken: TOKEN, users })
    pl = await startFakePaylocity({ tls: testTls() })
    pl.setEmployee('C01', 'SSRF1', { ...weblinkEmployeeFixture(), employeeId: 'SSRF1' })
    s.services.outbound = lenient
    paylocityId = (
      await createDestination(s.services, s.acme.tenant, {
        type: 'paylocity',
        name: 'Payroll',
        settings: { client_id: pl.clientId, client_secret: pl.clientSecret },
      })
    ).plugin_id
    const added = await hr(s.app, s.acme, paylocityId, 'adduser', {
      ...fixture('paylocity-new-hire.json'),
      employeeId: 'SSRF1',
      employeeWorkEMailAddress: 'ssrf1@work.example.com',
    })
    assert.equal(added.statusCode, 201, added.body)
  })
  after(async () => {
    await Promise.all([zd.close(), plainZd.close(), pl.close()])
  })
  beforeEach(() => {
    s.services.outbound = strict
    s.services.zendesk = { sleep: async () => {} }
    dns.rebind()
    resetPaylocityTokenCache()
  })

  const support = (settings: Record<string, string>) =>
    as(s.app, s.acme, 'PUT', '/support', { backend: 'zendesk', settings })
  const zendeskSettings = (url: string) => ({ url, email: EMAIL, api_token: TOKEN })
  const createTicket = () =>
    post(s.app, `${TICKETS}/createticket`, {
      host: s.acme.host,
      auth: `Bearer ${s.acme.key}`,
      body: { title: 'SSRF', description: 'probe', requester_email: s.acme.requester },
    })
  const employeeChange = () =>
    hr(s.app, s.acme, paylocityId, 'modifyuser', { companyId: 'C01', employeeId: 'SSRF1' })
  const reason = async () => (await lastDelivery(s.db, s.acme.tenant.id))?.reason ?? ''
  /** Stores Zendesk settings as a laxer policy allowed them (the flag was on, or the code was older). */
  const storeZendeskUrl = async (url: string) => {
    s.services.outbound = lenient
    const tenant = await requireTenant(s.services.database, 'acme')
    await configureSupport(s.services, tenant, 'zendesk', zendeskSettings(url))
    s.services.outbound = strict
  }
  const storePaylocityUrls = async (settings: Record<string, string | null>) => {
    s.services.outbound = lenient
    const res = await as(s.app, s.acme, 'PATCH', `/destinations/${paylocityId}`, { settings })
    assert.equal(res.status, 200, res.raw)
    s.services.outbound = strict
  }

  describe('saving a connector URL (management API)', () => {
    for (const [url, what] of HOSTILE) {
      it(`refuses ${url} (${what}) as the Zendesk url, a Paylocity or BambooHR URL setting, changing nothing`, async () => {
        const supportBefore = await as(s.app, s.acme, 'GET', '/support')
        const destinationsBefore = await as(s.app, s.acme, 'GET', '/destinations')

        const zendesk = await support(zendeskSettings(url))
        assert.equal(zendesk.status, 400, zendesk.raw)
        assert.deepEqual(zendesk.body, { error: NOT_PUBLIC })

        for (const key of ['token_url', 'api_base_url']) {
          const created = await as(s.app, s.acme, 'POST', '/destinations', {
            type: 'paylocity',
            name: 'Hostile',
            settings: { client_id: 'c', client_secret: 'client-secret-value', [key]: `${url}/x` },
          })
          assert.equal(created.status, 400, created.raw)
          assert.deepEqual(created.body, { error: `Setting ${key} ${NOT_PUBLIC.slice('url '.length)}` })
          const patched = await as(s.app, s.acme, 'PATCH', `/destinations/${paylocityId}`, {
            settings: { [key]: url },
          })
          assert.equal(patched.status, 400, patched.raw)
          assert.deepEqual(patched.body, { error: `Setting ${key} ${NOT_PUBLIC.slice('url '.length)}` })
        }
        const bamboo = await as(s.app, s.acme, 'POST', '/destinations', {
          type: 'bamboohr',
          name: 'Hostile',
          settings: { company_domain: 'acme', api_key: 'bamboo-api-key-value', api_base_url: url },
        })
        assert.equal(bamboo.status, 400, bamboo.raw)
        assert.deepEqual(bamboo.body, { error: `Setting api_base_url ${NOT_PUBLIC.slice('url '.length)}` })

        assert.deepEqual((await as(s.app, s.acme, 'GET', '/support')).body, supportBefore.body)
        assert.deepEqual((await as(s.app, s.acme, 'GET', '/destinations')).body, destinationsBefore.body)
      })
    }

    it('accepts an https URL of a name that resolves to public addresses only', async () => {
      const res = await support(zendeskSettings('https://public.example.test'))
      assert.equal(res.status, 200, res.raw)
      const patched = await as(s.app, s.acme, 'PATCH', `/destinations/${paylocityId}`, {
        settings: { api_base_url: 'https://public.example.test', token_url: null },
      })
      assert.equal(patched.status, 200, patched.raw)
    })

    it('accepts a name that does not resolve (yet): the call-time check refuses it if it ever resolves privately', async () => {
      const res = await support(zendeskSettings('https://not-yet-published.example.test'))
      assert.equal(res.status, 200, res.raw)
      const call = await createTicket()
      assert.equal(call.statusCode, 400)
      assert.match(await reason(), /^could not reach Zendesk \(host not found\) during user search/)
    })
  })

  describe('calling a connector (webhooks, after resolution)', () => {
    const zendeskCases = (port: number, plainPort: number): Array<[string, string]> => [
      [`https://127.0.0.1:${port}`, 'not a public host'],
      [`https://[::ffff:127.0.0.1]:${port}`, 'not a public host'],
      [`https://2130706433:${port}`, 'not a public host'],
      [`https://0x7f.1:${port}`, 'not a public host'],
      [`https://localhost:${port}`, 'not a public host'],
      [`https://loopback.example.test:${port}`, 'not a public host'],
      [`https://mapped.example.test:${port}`, 'not a public host'],
      [`https://mixed.example.test:${port}`, 'not a public host'],
      [`https://metadata.example.test:${port}`, 'not a public host'],
      [`http://loopback.example.test:${plainPort}`, 'only https URLs are called'],
      [`http://127.0.0.1:${plainPort}`, 'only https URLs are called'],
    ]

    it('refuses every stored hostile Zendesk url without connecting: 400 for the caller, the reason in the log', async () => {
      for (const [url, why] of zendeskCases(zd.port, plainZd.port)) {
        await storeZendeskUrl(url)
        const connections = zd.connections() + plainZd.connections()
        const res = await createTicket()
        assert.equal(res.statusCode, 400, url)
        assert.deepEqual(res.json(), { error: 'Failed to create the new ticket in Zendesk' })
        assert.equal(await reason(), `the address of Zendesk is not allowed (${why}) during user search`, url)
        assert.equal(zd.connections() + plainZd.connections(), connections, `${url}: no connection was made`)
      }
    })

    it('refuses a name rebound to loopback after it was saved as public (DNS rebinding)', async () => {
      const saved = await support(zendeskSettings(`https://rebind.example.test:${zd.port}`))
      assert.equal(saved.status, 200, saved.raw)
      const connections = zd.connections()
      const res = await createTicket()
      assert.equal(res.statusCode, 400)
      assert.equal(
        await reason(),
        'the address of Zendesk is not allowed (not a public host) during user search',
      )
      assert.equal(zd.connections(), connections, 'no connection was made')
      assert.ok(
        dns.asked.filter((name) => name === 'rebind.example.test').length >= 2,
        'resolved again at call time',
      )
    })

    it('calls a public-looking https host through the same check (the seam): 201', async () => {
      s.services.outbound = seam
      await configureSupport(
        s.services,
        s.acme.tenant,
        'zendesk',
        zendeskSettings(`https://zendesk.example.test:${zd.port}`),
      )
      dns.asked.length = 0
      const res = await createTicket()
      assert.equal(res.statusCode, 201, res.body)
      assert.ok(
        dns.asked.includes('zendesk.example.test'),
        'the address was resolved and checked at call time',
      )
    })

    it('does not follow a redirect from a public host to a private one', async () => {
      s.services.outbound = seam
      await configureSupport(
        s.services,
        s.acme.tenant,
        'zendesk',
        zendeskSettings(`https://zendesk.example.test:${zd.port}`),
      )
      zd.failNext({
        kind: 'answer',
        status: 302,
        body: '',
        headers: { Location: `${plainZd.url}/api/v2/users/search.json?query=x` },
      })
      const before = plainZd.connections()
      const res = await createTicket()
      assert.equal(res.statusCode, 400)
      assert.deepEqual(res.json(), { error: 'Failed to create the new ticket in Zendesk' })
      assert.equal(
        await reason(),
        'Zendesk answered 302, a redirect, which is not followed during user search',
      )
      assert.equal(plainZd.connections(), before, 'the redirect target was never contacted')
    })

    it('refuses a hostile BambooHR api_base_url at call time, without connecting', async () => {
      s.services.outbound = lenient
      const created = await as<{ plugin_id: string }>(s.app, s.acme, 'POST', '/destinations', {
        type: 'bamboohr',
        name: 'BambooHR',
        settings: {
          company_domain: 'acme',
          api_key: 'bamboo-api-key-value',
          api_base_url: `https://loopback.example.test:${zd.port}`,
        },
      })
      assert.equal(created.status, 201, created.raw)
      s.services.outbound = strict
      const connections = zd.connections()
      const res = await hr(s.app, s.acme, created.body.plugin_id, 'adduser', {
        type: 'employee.created',
        timestamp: new Date().toISOString(),
        data: { companyId: 1, employeeId: '77', changedFields: [] },
      })
      assert.equal(res.statusCode, 400, res.body)
      assert.deepEqual(res.json(), { error: 'Failed to fetch the employee from BambooHR' })
      assert.match(
        await reason(),
        /^the address of BambooHR is not allowed \(not a public host\) while fetching employee 77$/,
      )
      assert.equal(zd.connections(), connections, 'no connection was made')
    })

    it('refuses hostile Paylocity URLs at call time: token_url before the token, api_base_url before the employee', async () => {
      // The token endpoint stands in for a public host (seam) only where the employee call is the one refused.
      const cases: Array<[Record<string, string>, OutboundPolicy, RegExp]> = [
        [
          { token_url: `https://127.0.0.1:${pl.port}/token` },
          strict,
          /^the address of Paylocity token endpoint is not allowed \(not a public host\) while requesting an access token$/,
        ],
        [
          { token_url: `https://loopback.example.test:${pl.port}/token` },
          strict,
          /^the address of Paylocity token endpoint is not allowed \(not a public host\)/,
        ],
        [
          { token_url: `https://v6.example.test:${pl.port}/token` },
          seam,
          /^the address of Paylocity token endpoint is not allowed \(not a public host\)/,
        ],
        [
          { token_url: `http://paylocity.example.test:${pl.port}/token` },
          seam,
          /^the address of Paylocity token endpoint is not allowed \(only https URLs are called\)/,
        ],
        [
          {
            token_url: pl.tokenUrl.replace('127.0.0.1', 'paylocity.example.test'),
            api_base_url: `https://metadata.example.test:${pl.port}`,
          },
          seam,
          /^the address of Paylocity is not allowed \(not a public host\) while fetching employee SSRF1 of company C01$/,
        ],
      ]
      for (const [settings, policy, expected] of cases) {
        resetPaylocityTokenCache()
        await storePaylocityUrls({ api_base_url: null, ...settings })
        s.services.outbound = policy
        const employeeRequests = pl.employeeRequests()
        const connections = pl.connections()
        const res = await employeeChange()
        assert.equal(res.statusCode, 400, JSON.stringify(settings))
        assert.deepEqual(res.json(), { error: 'Failed to fetch the employee from Paylocity' })
        assert.match(await reason(), expected)
        assert.equal(pl.employeeRequests(), employeeRequests, 'the employee was never asked for')
        if (settings.api_base_url === undefined)
          assert.equal(pl.connections(), connections, 'no connection at all')
        else assert.equal(pl.tokenRequests() > 0, true, 'the token came from the stand-in public host')
      }
    })
  })

  describe("a vendor's answer never reaches the tenant", () => {
    const authorization = `Basic ${Buffer.from(`${EMAIL}/token:${TOKEN}`).toString('base64')}`
    let echo: Vendor
    before(async () => {
      // Answers every call with the canary and an echo of the request's Authorization header, in the body and headers.
      echo = await vendorServer((req, res) => {
        const said = `${CANARY} ${req.headers.authorization ?? ''}`
        res.writeHead(req.url?.includes('token') === true ? 400 : 422, {
          'content-type': 'application/json',
          'x-echo': said.replace(/[^\x20-\x7e]/g, ''),
        })
        res.end(
          JSON.stringify(
            req.url?.includes('token') === true
              ? { error: 'invalid_client', error_description: said }
              : { error: 'RecordInvalid', description: said, details: { base: [{ description: said }] } },
          ),
        )
      })
    })
    after(async () => {
      echo.server.closeAllConnections()
      await new Promise((resolve) => echo.server.close(resolve))
    })

    it('keeps the body, its echo of the Authorization header and the token out of every read (API, console, CLI)', async () => {
      s.services.outbound = lenient
      await configureSupport(s.services, s.acme.tenant, 'zendesk', zendeskSettings(echo.url))
      await storePaylocityUrls({ token_url: `${echo.url}/token`, api_base_url: null })
      s.services.outbound = lenient
      const ticket = await createTicket()
      assert.equal(ticket.statusCode, 400)
      assert.equal(await reason(), 'Zendesk answered 422 (RecordInvalid) during user search')
      const change = await employeeChange()
      assert.equal(change.statusCode, 400)
      assert.equal(
        await reason(),
        'Paylocity token endpoint answered 400 (invalid_client) while requesting an access token',
      )
      assert.ok(echo.connections > 0, 'the vendor was called')

      const leaks = [CANARY, TOKEN, authorization, authorization.slice('Basic '.length), pl.clientSecret]
      const reads: Array<[string, string]> = [['webhook answers', `${ticket.body}${change.body}`]]
      const list = await as<Array<{ id: string }>>(s.app, s.acme, 'GET', '/deliveries')
      reads.push(['GET /deliveries', list.raw])
      for (const entry of list.body.slice(0, 2)) {
        reads.push([
          `GET /deliveries/${entry.id}`,
          (await as(s.app, s.acme, 'GET', `/deliveries/${entry.id}`)).raw,
        ])
      }
      const admin = await addAdmin(s.services, s.acme.tenant)
      const { cookie } = await signIn(s.app, s.acme.host, admin.email)
      reads.push(['console activity', (await getPage(s.app, '/console/activity', s.acme.host, cookie)).body])
      for (const entry of list.body.slice(0, 2)) {
        reads.push([
          'console delivery',
          (await getPage(s.app, `/console/activity/${entry.id}`, s.acme.host, cookie)).body,
        ])
      }
      const cli = await runCli(['deliveries', 'list', '--tenant', 'acme', '--json'], { env: cliEnv(s) })
      assert.equal(cli.code, 0, cli.stderr)
      reads.push(['CLI deliveries list', `${cli.stdout}${cli.stderr}`])
      for (const [where, text] of reads) {
        for (const leak of leaks) assert.ok(!text.includes(leak), `${where} shows ${leak.slice(0, 12)}…`)
      }
      assert.ok(
        reads.some(([, text]) => text.includes('Zendesk answered 422 (RecordInvalid)')),
        'the fixed reason is shown',
      )
    })
  })

  describe('saving a connector URL (CLI)', () => {
    it('support configure refuses hostile urls with the message naming the setting', async () => {
      const urls = [
        'http://acme.zendesk.com',
        'https://127.0.0.1',
        'https://[::ffff:127.0.0.1]',
        'https://2130706433',
        'https://localhost',
      ]
      const results = await Promise.all(
        urls.map((url) =>
          runCli(
            [
              'support',
              'configure',
              '--tenant',
              'acme',
              '--backend',
              'zendesk',
              '--set',
              `url=${url}`,
              '--set',
              `email=${EMAIL}`,
              '--api-token-stdin',
              '--json',
            ],
            { env: cliEnv(s), stdin: `${TOKEN}\n` },
          ),
        ),
      )
      for (const [index, result] of results.entries()) {
        assert.notEqual(result.code, 0, urls[index])
        assert.equal(result.stdout, '')
        assert.match(result.stderr, /url must be an https URL of a public host/, urls[index])
        assert.ok(!result.stderr.includes(TOKEN))
      }
    })

    it('destination create refuses hostile token_url and api_base_url; the operator setting lifts the rule', async () => {
      const cases: Array<[string, string]> = [
        ['token_url', 'https://169.254.169.254/latest/meta-data/'],
        ['token_url', 'https://[::1]/token'],
        ['api_base_url', 'https://0x7f.1'],
        ['api_base_url', 'http://api.paylocity.com'],
      ]
      const create = (key: string, url: string, env = cliEnv(s)) =>
        runCli(
          [
            'destination',
            'create',
            '--tenant',
            'acme',
            '--type',
            'paylocity',
            '--name',
            'CLI',
            '--set',
            'client_id=c',
            '--set',
            `${key}=${url}`,
            '--client-secret-stdin',
            '--json',
          ],
          { env, stdin: 'cli-client-secret\n' },
        )
      const results = await Promise.all(cases.map(([key, url]) => create(key, url)))
      for (const [index, result] of results.entries()) {
        const [key] = cases[index] ?? []
        assert.notEqual(result.code, 0)
        assert.match(result.stderr, new RegExp(`Setting ${key} must be an https URL of a public host`))
      }
      const allowed = await create('token_url', 'http://127.0.0.1:9/token', {
        ...cliEnv(s),
        OPTIMALCLOUD_ALLOW_PRIVATE_CONNECTORS: 'true',
      })
      assert.equal(allowed.code, 0, allowed.stderr)
    })
  })
})

/** The environment that points the CLI at the suite's database. */
function cliEnv(s: Suite): Record<string, string> {
  return {
    OPTIMALCLOUD_DATABASE_URL: s.t.testDb.url,
    OPTIMALCLOUD_SECRET_KEY: TEST_SECRET_KEY,
    ...(s.t.testDb.pgSchema === undefined ? {} : { OPTIMALCLOUD_PG_SCHEMA: s.t.testDb.pgSchema }),
  }
}

/** Client addresses behind proxies: only declared hops are believed, so X-Forwarded-For can neither dodge the failure limit nor aim it at someone else (and the Redis setting's checks). */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { fastifyTrustProxy, loadConfig, parseTrustProxy } from '../../src/config.js'
import { runCli } from '../helpers/cli.js'
import { uniqueAddress } from '../helpers/client-address.js'
import { onEachDatabase, type Suite } from '../helpers/suite.js'
import { post, TICKETS } from '../helpers/test-app.js'

const PATH = `${TICKETS}/createticket`

/** 31 failed attempts through `via` (the socket address) with this X-Forwarded-For: the client is shut out. */
async function shutOut(s: Suite, via: string, forwarded: (attempt: number) => string): Promise<number[]> {
  const answers: number[] = []
  for (let i = 0; i < 31; i++) {
    const res = await post(s.app, PATH, {
      host: s.acme.host,
      auth: 'Bearer nope',
      body: {},
      remoteAddress: via,
      headers: { 'x-forwarded-for': forwarded(i) },
    })
    answers.push(res.statusCode)
  }
  return answers
}

/** A call with the tenant's good key: 400 (authenticated, empty body) or 429 (its address is shut out). */
async function goodCall(s: Suite, via: string, forwarded?: string): Promise<number> {
  const res = await post(s.app, PATH, {
    host: s.acme.host,
    auth: `Bearer ${s.acme.key}`,
    body: {},
    remoteAddress: via,
    ...(forwarded === undefined ? {} : { headers: { 'x-forwarded-for': forwarded } }),
  })
  return res.statusCode
}

const THIRTY_THEN_429 = [...Array.from({ length: 30 }, () => 401), 429]

describe('OPTIMALCLOUD_TRUST_PROXY', () => {
  it('reads a hop count, or proxy addresses and CIDRs; unset, empty, false and 0 trust nobody', () => {
    assert.equal(parseTrustProxy(undefined), false)
    for (const off of ['', 'false', 'FALSE', '0', ' ']) assert.equal(parseTrustProxy(off), false, off)
    assert.equal(parseTrustProxy('1'), 1)
    assert.equal(parseTrustProxy(' 2 '), 2)
    assert.deepEqual(parseTrustProxy('10.0.0.0/8, 192.168.1.7,::1, 2001:db8::/32'), [
      '10.0.0.0/8',
      '192.168.1.7',
      '::1',
      '2001:db8::/32',
    ])
  })

  it('refuses true (it would believe every entry a client sends) and anything that is not an address, with a clear message', () => {
    assert.throws(() => parseTrustProxy('true'), /OPTIMALCLOUD_TRUST_PROXY=true would let any client choose/)
    assert.throws(() => parseTrustProxy('TRUE'), /number of proxies/)
    for (const bad of [
      'yes',
      '10.0.0.0/33',
      '::1/129',
      '10.0.0.1/8/8',
      'loadbalancer.local',
      '10.0.0.1,',
      '-1',
      '50',
    ])
      assert.throws(() => parseTrustProxy(bad), /OPTIMALCLOUD_TRUST_PROXY/, bad)
  })

  it('a hop count trusts exactly that many hops from the socket', () => {
    const trust = fastifyTrustProxy(2)
    assert.ok(typeof trust === 'function')
    assert.deepEqual(
      [0, 1, 2, 3].map((hop) => trust('10.0.0.1', hop)),
      [true, true, false, false],
    )
    assert.equal(fastifyTrustProxy(false), false)
  })

  it('serve refuses to start with OPTIMALCLOUD_TRUST_PROXY=true, saying what to set instead', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'oc-trust-'))
    try {
      const result = await runCli(['serve', '--port', '0'], {
        env: {
          OPTIMALCLOUD_TRUST_PROXY: 'true',
          OPTIMALCLOUD_DATABASE_URL: `sqlite:${join(dir, 'x.db')}`,
        },
        timeoutMs: 30_000,
      })
      assert.notEqual(result.code, 0)
      assert.match(result.stderr, /OPTIMALCLOUD_TRUST_PROXY=true would let any client choose its own address/)
      assert.match(result.stderr, /e\.g\. 1 for one load balancer/)
      assert.equal(result.stdout, '')
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})

describe('OPTIMALCLOUD_REDIS_URL', () => {
  it('OPTIMALCLOUD_REDIS_URL is a redis:// or rediss:// URL, or unset', () => {
    assert.equal(loadConfig({}).redisUrl, null)
    assert.equal(
      loadConfig({ OPTIMALCLOUD_REDIS_URL: 'redis://10.0.0.9:6379' }).redisUrl,
      'redis://10.0.0.9:6379',
    )
    assert.equal(
      loadConfig({ OPTIMALCLOUD_REDIS_URL: 'rediss://:pw@r.example.com/2' }).redisUrl,
      'rediss://:pw@r.example.com/2',
    )
    for (const bad of ['http://10.0.0.9', '10.0.0.9:6379', 'redis://a b'])
      assert.throws(
        () => loadConfig({ OPTIMALCLOUD_REDIS_URL: bad }),
        /OPTIMALCLOUD_REDIS_URL must look like/,
        bad,
      )
    // The message never repeats the URL: it may hold a password.
    assert.throws(
      () => loadConfig({ OPTIMALCLOUD_REDIS_URL: 'http://:secret@x' }),
      (error: Error) => !error.message.includes('secret'),
    )
  })
})

onEachDatabase('no proxy trusted (the default)', (s) => {
  it('ignores X-Forwarded-For: a client changing it on every call is still shut out, and cannot shut out the address it names', async () => {
    const attacker = uniqueAddress()
    const victim = uniqueAddress()
    const answers = await shutOut(s, attacker, (i) => `${victim}, 198.51.100.${i + 1}`)
    assert.deepEqual(answers, THIRTY_THEN_429)
    assert.equal(await goodCall(s, attacker), 429)
    assert.equal(await goodCall(s, victim), 400, 'the address named in the header is not touched')
  })
})

onEachDatabase('one trusted hop (OPTIMALCLOUD_TRUST_PROXY=1)', { config: { trustProxy: 1 } }, (s) => {
  const proxy = '10.200.0.1'

  it('takes the entry the proxy appended: a spoofed left-most entry does not dodge the limit', async () => {
    const client = uniqueAddress()
    const answers = await shutOut(s, proxy, (i) => `203.0.113.${i + 1}, ${client}`)
    assert.deepEqual(answers, THIRTY_THEN_429)
    assert.equal(await goodCall(s, proxy, `203.0.113.77, ${client}`), 429, 'the client, whatever it claims')
    assert.equal(await goodCall(s, proxy, client), 429)
  })

  it('a spoofed left-most entry cannot shut out the address it names, nor the proxy', async () => {
    const attacker = uniqueAddress()
    const victim = uniqueAddress()
    const answers = await shutOut(s, proxy, () => `${victim}, ${attacker}`)
    assert.deepEqual(answers, THIRTY_THEN_429)
    assert.equal(await goodCall(s, proxy, victim), 400, 'the victim, through the proxy, with its good key')
    assert.equal(await goodCall(s, proxy, `${attacker}, ${victim}`), 400)
    assert.equal(await goodCall(s, proxy, uniqueAddress()), 400, 'other clients of the proxy')
    assert.equal(await goodCall(s, proxy, attacker), 429)
  })
})

onEachDatabase(
  'trusted proxy addresses (OPTIMALCLOUD_TRUST_PROXY=10.200.0.0/16,192.0.2.10)',
  { config: { trustProxy: ['10.200.0.0/16', '192.0.2.10'] } },
  (s) => {
    it('skips the trusted hops from the right and takes the first untrusted one, whatever is left of it', async () => {
      const client = uniqueAddress()
      const answers = await shutOut(s, '10.200.3.4', (i) => `203.0.113.${i + 1}, ${client}, 192.0.2.10`)
      assert.deepEqual(answers, THIRTY_THEN_429)
      assert.equal(await goodCall(s, '10.200.9.9', client), 429)
      assert.equal(await goodCall(s, '10.200.9.9', `${client}, 10.200.1.1`), 429)
      assert.equal(await goodCall(s, '10.200.9.9', `${uniqueAddress()}, 10.200.1.1`), 400)
    })

    it('believes no X-Forwarded-For from a socket that is not a trusted proxy', async () => {
      const direct = uniqueAddress()
      const victim = uniqueAddress()
      const answers = await shutOut(s, direct, () => victim)
      assert.deepEqual(answers, THIRTY_THEN_429)
      assert.equal(await goodCall(s, direct, uniqueAddress()), 429, 'the socket address is the client')
      assert.equal(await goodCall(s, '10.200.0.5', victim), 400, 'the address it named is not shut out')
    })
  },
)

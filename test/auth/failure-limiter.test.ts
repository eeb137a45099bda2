/** The FailureLimiter's rules in time: windows, slots given back, checks still running, the account slowdown (memory store, mocked clock). */
import assert from 'node:assert/strict'
import { readdir, readFile } from 'node:fs/promises'
import { afterEach, beforeEach, describe, it, mock } from 'node:test'
import { accountKey, clientKey, FailureLimiter } from '../../src/auth/failure-limiter.js'
import { memoryLimiterStore } from '../../src/auth/limiter-store.js'

const LIMITS = { perAddressPerMinute: 30, perAccountPerHour: 100, slowdownSeconds: 30 }

function limiter(): FailureLimiter {
  return new FailureLimiter(memoryLimiterStore(), LIMITS)
}

describe('FailureLimiter', () => {
  beforeEach(() => mock.timers.enable({ apis: ['Date', 'setTimeout'], now: 1_000_000 }))
  afterEach(() => mock.timers.reset())

  it('30 failed checks in a minute change nothing; the 31st attempt is refused, and the address stays blocked until the minute has passed', async () => {
    const failures = limiter()
    for (let i = 0; i < 30; i++) {
      const slot = await failures.reserve('a')
      assert.ok(slot !== null, `check ${i + 1}`)
      await slot.failed()
      mock.timers.tick(1000)
    }
    assert.equal(failures.isBlocked('a'), false, '30 failures change nothing')
    assert.equal(await failures.reserve('a'), null, 'the 31st attempt gets no check')
    assert.equal(failures.isBlocked('a'), true)
    assert.equal(failures.isBlocked('b'), false, 'another address is unaffected')
    assert.ok((await failures.reserve('b')) !== null)
    mock.timers.tick(29_000) // 59 s after the first failure
    assert.equal(failures.isBlocked('a'), true, 'still within the minute')
    mock.timers.tick(1_001)
    assert.equal(failures.isBlocked('a'), false, 'the minute has passed')
    assert.ok((await failures.reserve('a')) !== null)
  })

  it('a check that succeeds gives its slot back: a helpdesk behind one address is never slowed', async () => {
    const failures = limiter()
    for (let i = 0; i < 500; i++) {
      const slot = await failures.reserve('helpdesk', accountKey('t1', 'svc@acme.com'))
      assert.ok(slot !== null, `check ${i + 1}`)
      await slot.succeeded()
    }
    assert.equal(failures.isBlocked('helpdesk'), false)
  })

  it('a failure without a check counts like one with a check', async () => {
    const failures = limiter()
    for (let i = 0; i < 30; i++) await failures.recordFailure('a')
    assert.equal(failures.isBlocked('a'), false)
    await failures.recordFailure('a')
    assert.equal(failures.isBlocked('a'), true)
    assert.equal(await failures.reserve('a'), null)
  })

  it('refused while its checks are still running, an address is blocked only if they fail', async () => {
    for (const outcome of ['succeeded', 'failed'] as const) {
      const failures = limiter()
      const address = `busy-${outcome}`
      const slots = await Promise.all(Array.from({ length: 30 }, () => failures.reserve(address)))
      assert.equal(await failures.reserve(address), null, 'no slot left while 30 checks run')
      assert.equal(failures.isBlocked(address), false, 'not yet: the running checks may give slots back')
      for (const slot of slots) await slot?.[outcome]()
      assert.equal(failures.isBlocked(address), outcome === 'failed', outcome)
      assert.equal((await failures.reserve(address)) === null, outcome === 'failed', outcome)
    }
  })

  it('an account past 100 failures an hour gets one check every 30 s from new addresses; an address it signed in from is not slowed', async () => {
    const failures = limiter()
    const account = accountKey('t1', 'svc@acme.com')
    const office = await failures.reserve('office', account)
    await office?.succeeded()
    let guesser = 0
    const guess = async () => {
      guesser += 1
      const slot = await failures.reserve(`guesser-${guesser}`, account)
      await slot?.failed()
      return slot !== null
    }
    for (let i = 0; i < 100; i++) assert.equal(await guess(), true, `guess ${i + 1}`)
    assert.equal(await guess(), true, 'slowed: one check in the window')
    assert.equal(await guess(), false)
    assert.equal(await guess(), false)
    const fromOffice = await failures.reserve('office', account)
    assert.ok(fromOffice !== null, 'the office is not slowed')
    await fromOffice.succeeded()
    mock.timers.tick(30_000)
    assert.equal(await guess(), true, 'the next window: one more check')
    assert.equal(await guess(), false)
    // Another account of the same tenant is not affected.
    assert.ok((await failures.reserve('elsewhere', accountKey('t1', 'other@acme.com'))) !== null)
    mock.timers.tick(3_600_000)
    for (let i = 0; i < 100; i++) assert.equal(await guess(), true, `next hour, guess ${i + 1}`)
  })

  it('keys an account by tenant and email without case or surrounding space, and never holds the email', () => {
    assert.equal(accountKey('t1', ' SVC@Acme.com '), accountKey('t1', 'svc@acme.com'))
    assert.notEqual(accountKey('t1', 'svc@acme.com'), accountKey('t2', 'svc@acme.com'))
    assert.doesNotMatch(accountKey('t1', 'svc@acme.com'), /acme/)
  })
})

describe('clientKey', () => {
  it('counts IPv4 by address (also IPv4-mapped) and IPv6 by its /64, however it is written', () => {
    const cases: Array<[string, string]> = [
      ['203.0.113.7', '203.0.113.7'],
      ['::ffff:203.0.113.7', '203.0.113.7'],
      ['::FFFF:203.0.113.7', '203.0.113.7'],
      ['2001:db8:1:2::7', '2001:db8:1:2::/64'],
      ['2001:0DB8:0001:0002:ffff:ffff:ffff:ffff', '2001:db8:1:2::/64'],
      ['2001:db8:1:2:3:4:5:6', '2001:db8:1:2::/64'],
      ['2001:db8::', '2001:db8:0:0::/64'],
      ['2001:db8:aaaa:bbbb:cccc::1', '2001:db8:aaaa:bbbb::/64'],
      ['fe80::1%eth0', 'fe80:0:0:0::/64'],
      ['64:ff9b::198.51.100.1', '64:ff9b:0:0::/64'],
      ['::1', '0:0:0:0::/64'],
    ]
    for (const [address, key] of cases) assert.equal(clientKey(address), key, address)
    assert.notEqual(clientKey('2001:db8:1:2::1'), clientKey('2001:db8:1:3::1'))
  })

  it('one IPv6 /64 is one client for the limit', async () => {
    mock.timers.enable({ apis: ['Date', 'setTimeout'], now: 1_000_000 })
    try {
      const failures = limiter()
      for (let i = 0; i < 30; i++) await failures.recordFailure(`2001:db8:1:2::${(i + 1).toString(16)}`)
      assert.equal(await failures.reserve('2001:db8:1:2:ffff::1'), null)
      assert.equal(failures.isBlocked('2001:db8:1:2:abcd:0:0:9'), true)
      assert.equal(failures.isBlocked('2001:db8:1:3::1'), false, 'the next /64 is another client')
    } finally {
      mock.timers.reset()
    }
  })
})

describe('the CLI', () => {
  it('never authenticates: on SQLite the one server process counts every failure, so memory is exact', async () => {
    const root = new URL('../../src/', import.meta.url)
    const files = ['cli.ts', ...(await readdir(new URL('cli/', root))).map((name) => `cli/${name}`)]
    assert.ok(files.length > 5)
    for (const file of files) {
      const source = await readFile(new URL(file, root), 'utf8')
      for (const use of ['authenticator', 'failures.', 'verifyAdministrator', 'authenticateHook']) {
        assert.ok(!source.includes(use), `${file} uses ${use}`)
      }
    }
  })
})

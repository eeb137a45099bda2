/** The failure limits attacked as an attacker would: concurrent guesses, shared headers, values the database cannot hold, guesses spread over many addresses. */
import assert from 'node:assert/strict'
import { it } from 'node:test'
import { Authenticator } from '../../src/auth/authenticator.js'
import { verifyPassword } from '../../src/auth/passwords.js'
import { createUser } from '../../src/directory/users.js'
import { ADMIN_PASSWORD, addAdmin, postForm } from '../console/console-helpers.js'
import { uniqueAddress } from '../helpers/client-address.js'
import { mgmt } from '../helpers/management-routes.js'
import { onEachDatabase, type Suite } from '../helpers/suite.js'
import { post, SERVICE_PASSWORD, TICKETS } from '../helpers/test-app.js'

const PATH = `${TICKETS}/createticket`
const ERROR = '{"error":"ERROR"}'

function basic(email: string, password: string): string {
  return `Basic ${Buffer.from(`${email}:${password}`).toString('base64')}`
}

/** Basic credentials from raw bytes (invalid UTF-8, NUL) that no string form can carry. */
function basicBytes(bytes: Buffer): string {
  return `Basic ${bytes.toString('base64')}`
}

/** Swaps in an Authenticator whose KDF runs are counted (the one seam every password check goes through). */
function countKdfRuns(s: Suite): {
  runs(): number
  started(): string[]
  mostAtOnce(): number
  restore(): void
} {
  let runs = 0
  let running = 0
  let mostAtOnce = 0
  const started: string[] = []
  const original = s.services.authenticator
  s.services.authenticator = new Authenticator(s.services.database, s.services.failures, {
    checkPassword: async (password, stored) => {
      runs += 1
      running += 1
      mostAtOnce = Math.max(mostAtOnce, running)
      started.push(password)
      try {
        return await verifyPassword(password, stored)
      } finally {
        running -= 1
      }
    },
  })
  return {
    runs: () => runs,
    started: () => started,
    mostAtOnce: () => mostAtOnce,
    restore: () => {
      s.services.authenticator = original
    },
  }
}

function statuses(responses: Array<{ statusCode: number }>): Record<number, number> {
  const counts: Record<number, number> = {}
  for (const res of responses) counts[res.statusCode] = (counts[res.statusCode] ?? 0) + 1
  return counts
}

const TICKET = { title: 'T', description: 'D' }

onEachDatabase('failure limits under concurrency', (s) => {
  it('100 wrong passwords at once from one address: 30 KDF runs, 30 × 401, 70 × 429; then the address is blocked', async () => {
    const kdf = countKdfRuns(s)
    try {
      const address = uniqueAddress()
      const answers = await Promise.all(
        Array.from({ length: 100 }, (_, i) =>
          post(s.app, PATH, {
            host: s.acme.host,
            auth: basic(s.acme.serviceEmail, `wrong password ${i}`),
            body: TICKET,
            remoteAddress: address,
          }),
        ),
      )
      assert.equal(kdf.runs(), 30, 'at most 30 checks in the minute')
      assert.deepEqual(statuses(answers), { 401: 30, 429: 70 })
      for (const res of answers) assert.equal(res.body, ERROR)
      // Blocked now, even for the right password and a good key, without a check.
      for (const auth of [s.acme.basic, `Bearer ${s.acme.key}`]) {
        const res = await post(s.app, PATH, { host: s.acme.host, auth, body: TICKET, remoteAddress: address })
        assert.equal(res.statusCode, 429)
      }
      assert.equal(kdf.runs(), 30)
      // Another address is not affected.
      const elsewhere = await post(s.app, PATH, {
        host: s.acme.host,
        auth: s.acme.basic,
        body: TICKET,
        remoteAddress: uniqueAddress(),
      })
      assert.equal(elsewhere.statusCode, 400, elsewhere.body)
    } finally {
      kdf.restore()
    }
  })

  it('100 wrong keys at once from one address: 30 × 401, 70 × 429', async () => {
    const address = uniqueAddress()
    const answers = await Promise.all(
      Array.from({ length: 100 }, (_, i) =>
        post(s.app, PATH, {
          host: s.acme.host,
          auth: `Bearer oc_${String(i).padStart(43, 'x')}`,
          body: TICKET,
          remoteAddress: address,
        }),
      ),
    )
    assert.deepEqual(statuses(answers), { 401: 30, 429: 70 })
  })

  it('the same on the Management API: 100 wrong keys at once, 30 × 401 and 70 × 429', async () => {
    const address = uniqueAddress()
    const answers = await Promise.all(
      Array.from({ length: 100 }, (_, i) =>
        mgmt(s.app, 'GET', '/users', {
          host: s.acme.host,
          auth: `Bearer oc_${String(i).padStart(43, 'y')}`,
          remoteAddress: address,
        }),
      ),
    )
    assert.deepEqual(statuses(answers), { 401: 30, 429: 70 })
  })

  it('200 console sign-in guesses at once run at most 30 KDFs; a real sign-in from another address still works', async () => {
    const admin = await addAdmin(s.services, s.acme.tenant, 'guessed-admin@acme.example.com')
    const kdf = countKdfRuns(s)
    try {
      const attacker = uniqueAddress()
      const guesses = Array.from({ length: 200 }, (_, i) =>
        postForm(s.app, '/console/login', {
          host: s.acme.host,
          fields: { email: admin.email, password: `guess ${i}` },
          remoteAddress: attacker,
        }),
      )
      const real = postForm(s.app, '/console/login', {
        host: s.acme.host,
        fields: { email: admin.email, password: ADMIN_PASSWORD },
        remoteAddress: uniqueAddress(),
      })
      const [signedIn, ...answers] = await Promise.all([real, ...guesses])
      assert.equal(signedIn?.statusCode, 303, 'the real administrator is signed in')
      assert.deepEqual(statuses(answers), { 401: 30, 429: 170 })
      assert.equal(kdf.runs(), 31, "30 guesses and the administrator's own sign-in")
      // The guesses of one address take turns, two at a time: the administrator's check does not
      // wait behind all thirty (libuv has four threads for every KDF of the process).
      assert.ok(kdf.mostAtOnce() <= 3, `${kdf.mostAtOnce()} KDF runs at once`)
      assert.ok(
        kdf.started().indexOf(ADMIN_PASSWORD) < 5,
        `started as ${kdf.started().indexOf(ADMIN_PASSWORD) + 1}th`,
      )
    } finally {
      kdf.restore()
    }
  })

  it('one header sent 100 times at once is one check and one slot: a helpdesk burst passes, a repeated guess counts 100', async () => {
    const kdf = countKdfRuns(s)
    try {
      const helpdesk = uniqueAddress()
      const email = 'burst@acme.example.com'
      await createUser(s.services.database, s.acme.tenant.id, {
        email,
        serviceAccount: true,
        password: SERVICE_PASSWORD,
      })
      const good = await Promise.all(
        Array.from({ length: 100 }, () =>
          post(s.app, PATH, {
            host: s.acme.host,
            auth: basic(email, SERVICE_PASSWORD),
            body: TICKET,
            remoteAddress: helpdesk,
          }),
        ),
      )
      assert.deepEqual(statuses(good), { 400: 100 }, 'all authenticated (the body then fails validation)')
      assert.equal(kdf.runs(), 1)

      const attacker = uniqueAddress()
      const wrong = await Promise.all(
        Array.from({ length: 100 }, () =>
          post(s.app, PATH, {
            host: s.acme.host,
            auth: basic(email, 'the same wrong password'),
            body: TICKET,
            remoteAddress: attacker,
          }),
        ),
      )
      assert.deepEqual(statuses(wrong), { 401: 100 }, 'one check answers them all')
      assert.equal(kdf.runs(), 2)
      const after = await post(s.app, PATH, {
        host: s.acme.host,
        auth: `Bearer ${s.acme.key}`,
        body: TICKET,
        remoteAddress: attacker,
      })
      assert.equal(after.statusCode, 429, 'each of the 100 counted as a failure')
    } finally {
      kdf.restore()
    }
  })

  it('a check shared with a refused address does not refuse the other: it gets a check of its own', async () => {
    const email = 'shared@acme.example.com'
    await createUser(s.services.database, s.acme.tenant.id, {
      email,
      serviceAccount: true,
      password: SERVICE_PASSWORD,
    })
    const exhausted = uniqueAddress()
    for (let i = 0; i < 30; i++) {
      const res = await post(s.app, PATH, {
        host: s.acme.host,
        auth: 'nope',
        body: TICKET,
        remoteAddress: exhausted,
      })
      assert.equal(res.statusCode, 401)
    }
    // The same first-time header from both at once: whoever leads, the other address is not refused for it.
    const auth = basic(email, SERVICE_PASSWORD)
    const [fromExhausted, fromElsewhere] = await Promise.all([
      post(s.app, PATH, { host: s.acme.host, auth, body: TICKET, remoteAddress: exhausted }),
      post(s.app, PATH, { host: s.acme.host, auth, body: TICKET, remoteAddress: uniqueAddress() }),
    ])
    assert.equal(fromElsewhere.statusCode, 400, fromElsewhere.body)
    assert.ok([400, 429].includes(fromExhausted.statusCode), fromExhausted.body)
  })

  it('a busy helpdesk with valid credentials behind one address is never slowed, and 30 typos change nothing for it', async () => {
    const helpdesk = uniqueAddress()
    const keys = [`Bearer ${s.acme.key}`, s.acme.basic, `ApiKey ${s.acme.key}`, s.acme.key]
    const calls = await Promise.all(
      Array.from({ length: 300 }, (_, i) =>
        post(s.app, PATH, {
          host: s.acme.host,
          auth: keys[i % keys.length],
          body: TICKET,
          remoteAddress: helpdesk,
        }),
      ),
    )
    assert.deepEqual(statuses(calls), { 400: 300 })
    for (let i = 0; i < 30; i++) {
      // Typos in a key (a wrong password counts the same, see above; a key costs the machine no KDF).
      const typo = await post(s.app, PATH, {
        host: s.acme.host,
        auth: `Bearer ${s.acme.key.slice(0, -1)}${i % 2 === 0 ? '!' : '?'}`,
        body: TICKET,
        remoteAddress: helpdesk,
      })
      assert.equal(typo.statusCode, 401)
    }
    const still = await Promise.all(
      keys.map((auth) =>
        post(s.app, PATH, { host: s.acme.host, auth, body: TICKET, remoteAddress: helpdesk }),
      ),
    )
    assert.deepEqual(statuses(still), { 400: keys.length })
  })

  it('an IPv6 client cannot dodge the limit by using every address of its /64', async () => {
    const answers = []
    for (let i = 0; i < 31; i++) {
      answers.push(
        (
          await post(s.app, PATH, {
            host: s.acme.host,
            auth: 'Bearer nope',
            body: TICKET,
            remoteAddress: `2001:db8:77:1::${(i + 1).toString(16)}`,
          })
        ).statusCode,
      )
    }
    assert.deepEqual(answers, [...Array.from({ length: 30 }, () => 401), 429])
    const sameNetwork = await post(s.app, PATH, {
      host: s.acme.host,
      auth: `Bearer ${s.acme.key}`,
      body: TICKET,
      remoteAddress: '2001:db8:77:1:dead:beef:0:1',
    })
    assert.equal(sameNetwork.statusCode, 429)
    const nextNetwork = await post(s.app, PATH, {
      host: s.acme.host,
      auth: `Bearer ${s.acme.key}`,
      body: TICKET,
      remoteAddress: '2001:db8:77:2::1',
    })
    assert.equal(nextNetwork.statusCode, 400)
  })

  it('a failure that never reached a check still counts: no header, garbage, an unknown tenant', async () => {
    const address = uniqueAddress()
    const attempts = [
      () => post(s.app, PATH, { host: s.acme.host, body: TICKET, remoteAddress: address }),
      () => post(s.app, PATH, { host: s.acme.host, auth: 'garbage', body: TICKET, remoteAddress: address }),
      () =>
        post(s.app, PATH, {
          host: 'nosuch.localhost',
          auth: `Bearer ${s.acme.key}`,
          body: TICKET,
          remoteAddress: address,
        }),
    ]
    for (let i = 0; i < 31; i++) {
      const attempt = attempts[i % attempts.length]
      assert.ok(attempt !== undefined)
      const res = await attempt()
      assert.equal(res.statusCode, i < 30 ? 401 : 429, `attempt ${i + 1}`)
      assert.equal(res.body, ERROR)
    }
    const blocked = await post(s.app, PATH, {
      host: s.acme.host,
      auth: `Bearer ${s.acme.key}`,
      body: TICKET,
      remoteAddress: address,
    })
    assert.equal(blocked.statusCode, 429, 'a good key too, once more than 30 attempts failed')
  })

  it('credentials the database cannot hold (NUL, invalid UTF-8, over-long, control characters) get the uniform 401 and count', async () => {
    const bad = [
      basic(`svc\u0000@acme.example.com`, SERVICE_PASSWORD),
      basic(s.acme.serviceEmail, `pass\u0000word`),
      basic('\u0000', '\u0000'),
      basicBytes(Buffer.concat([Buffer.from('svc@acme.example.com:'), Buffer.from([0xff, 0xfe, 0xc3])])),
      basicBytes(Buffer.concat([Buffer.from([0xc3, 0x28]), Buffer.from('@acme.example.com:password')])),
      basic(`${'a'.repeat(2000)}@acme.example.com`, 'password'),
      basic(s.acme.serviceEmail, 'p'.repeat(2000)),
      basic('svc\r\n@acme.example.com', SERVICE_PASSWORD),
      `Basic ${'QUFB'.repeat(1200)}`,
      `Bearer ${'a'.repeat(5000)}`,
    ]
    const address = uniqueAddress()
    for (const auth of bad) {
      for (const send of [
        () => post(s.app, PATH, { host: s.acme.host, auth, body: TICKET, remoteAddress: address }),
        () => mgmt(s.app, 'GET', '/users', { host: s.acme.host, auth, remoteAddress: address }),
      ]) {
        const res = await send()
        assert.equal(res.statusCode, 401, `${auth.slice(0, 40)}: ${res.body}`)
        assert.equal(res.body, ERROR)
      }
    }
    // Twenty failures so far from this address: ten more are allowed, then the limit holds.
    for (let i = 0; i < 10; i++) {
      const res = await post(s.app, PATH, {
        host: s.acme.host,
        auth: bad[i % bad.length],
        body: TICKET,
        remoteAddress: address,
      })
      assert.equal(res.statusCode, 401)
    }
    const blocked = await post(s.app, PATH, { host: s.acme.host, auth: bad[0], remoteAddress: address })
    assert.equal(blocked.statusCode, 429)
  })

  it('console sign-in with a NUL, invalid or over-long email or password: the sign-in failure page, counted', async () => {
    const address = uniqueAddress()
    const cases = [
      { email: 'admin\u0000@acme.example.com', password: ADMIN_PASSWORD },
      { email: 'admin@acme.example.com', password: 'pass\u0000word' },
      { email: 'a'.repeat(5000), password: 'x' },
      { email: 'admin@acme.example.com', password: 'p'.repeat(5000) },
    ]
    for (const fields of cases) {
      const res = await postForm(s.app, '/console/login', {
        host: s.acme.host,
        fields,
        remoteAddress: address,
      })
      assert.equal(res.statusCode, 401, res.body.slice(0, 200))
      assert.match(res.body, /Sign-in failed/)
    }
    const invalidUtf8 = await s.app.inject({
      method: 'POST',
      url: '/console/login',
      headers: { host: s.acme.host, 'content-type': 'application/x-www-form-urlencoded' },
      payload: 'email=%FF%FE%00&password=%C3%28',
      remoteAddress: address,
    })
    assert.equal(invalidUtf8.statusCode, 401)
  })
})

// The window is long enough that a busy machine never lets it pass in the middle of a burst of guesses;
// the suite below checks, with a short window, that a window does pass.
onEachDatabase(
  'per-account slowdown',
  { config: { accountFailuresPerHour: 5, accountSlowdownSeconds: 120 } },
  (s) => {
    /** Guesses for `email`, each from an address of its own, all at once. */
    const spread = (email: string, count: number, password = 'a wrong guess') =>
      Promise.all(
        Array.from({ length: count }, (_, i) =>
          post(s.app, PATH, {
            host: s.acme.host,
            auth: basic(email, `${password} ${i}`),
            body: TICKET,
            remoteAddress: uniqueAddress(),
          }),
        ),
      )

    it('past the hourly limit, guesses from new addresses get one check a window; known addresses are not slowed', async () => {
      const email = 'slowed@acme.example.com'
      await createUser(s.services.database, s.acme.tenant.id, {
        email,
        serviceAccount: true,
        password: SERVICE_PASSWORD,
      })
      const office = uniqueAddress()
      const signIn = (remoteAddress: string) =>
        post(s.app, PATH, {
          host: s.acme.host,
          auth: basic(email, SERVICE_PASSWORD),
          body: TICKET,
          remoteAddress,
        })
      assert.equal((await signIn(office)).statusCode, 400, 'the helpdesk authenticates from its office')

      const kdf = countKdfRuns(s)
      try {
        assert.deepEqual(statuses(await spread(email, 5)), { 401: 5 }, 'five failures an hour change nothing')
        assert.equal(kdf.runs(), 5)
        const slowed = await spread(email, 20)
        assert.deepEqual(statuses(slowed), { 401: 1, 429: 19 }, 'one check in the window, the rest refused')
        assert.equal(kdf.runs(), 6)
        // The office signed in to this account before: its right password is checked as usual.
        s.services.authenticator.forget()
        assert.equal((await signIn(office)).statusCode, 400)
        assert.equal(kdf.runs(), 7)
        // A new address in the same window is refused, even with the right password (not yet verified
        // by this instance: a credential it verified moments ago is no guess, whoever sends it).
        s.services.authenticator.forget()
        assert.equal((await signIn(uniqueAddress())).statusCode, 429)
      } finally {
        kdf.restore()
      }
    })

    it('an email that does not exist is slowed down exactly like one that does (nobody learns which exist)', async () => {
      const kdf = countKdfRuns(s)
      try {
        for (const email of ['nobody-here@acme.example.com', s.acme.serviceEmail]) {
          const before = kdf.runs()
          assert.deepEqual(statuses(await spread(email, 5)), { 401: 5 })
          assert.deepEqual(statuses(await spread(email, 10)), { 401: 1, 429: 9 }, email)
          assert.equal(kdf.runs() - before, 6, email)
        }
      } finally {
        kdf.restore()
      }
    })

    it('the console sign-in of an administrator: slowed for new addresses, not for the one it signed in from', async () => {
      const admin = await addAdmin(s.services, s.acme.tenant, 'slowed-admin@acme.example.com')
      const home = uniqueAddress()
      const signIn = (remoteAddress: string, password = ADMIN_PASSWORD) =>
        postForm(s.app, '/console/login', {
          host: s.acme.host,
          fields: { email: admin.email, password },
          remoteAddress,
        })
      assert.equal((await signIn(home)).statusCode, 303)
      const guesses = await Promise.all(
        Array.from({ length: 25 }, (_, i) => signIn(uniqueAddress(), `guess ${i}`)),
      )
      // Five failures, then one check in the window for the twenty others.
      assert.deepEqual(statuses(guesses), { 401: 6, 429: 19 })
      assert.equal((await signIn(uniqueAddress())).statusCode, 429, 'a new address waits for the window')
      assert.equal((await signIn(home)).statusCode, 303, 'the address it signed in from is not slowed')
    })
  },
)

onEachDatabase(
  'per-account slowdown window',
  { config: { accountFailuresPerHour: 1, accountSlowdownSeconds: 4 } },
  (s) => {
    it('the right password from a new address gets its check once the window has passed: no lockout longer than the window', async () => {
      const email = 'window@acme.example.com'
      await createUser(s.services.database, s.acme.tenant.id, {
        email,
        serviceAccount: true,
        password: SERVICE_PASSWORD,
      })
      const call = (password: string) =>
        post(s.app, PATH, {
          host: s.acme.host,
          auth: basic(email, password),
          body: TICKET,
          remoteAddress: uniqueAddress(),
        })
      assert.equal((await call('a wrong guess 1')).statusCode, 401, 'the one failure an hour')
      assert.equal((await call('a wrong guess 2')).statusCode, 401, 'the one check of the window')
      assert.equal((await call(SERVICE_PASSWORD)).statusCode, 429, 'the rest of the window is refused')
      await new Promise((resolve) => setTimeout(resolve, 4100))
      assert.equal((await call(SERVICE_PASSWORD)).statusCode, 400, 'checked, and right')
    })
  },
)

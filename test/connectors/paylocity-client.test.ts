// Tests the Paylocity Weblink client against the fake Weblink server: mapping, token caching, retries, failures.
import assert from 'node:assert/strict'
import { after, afterEach, beforeEach, describe, test } from 'node:test'
import { outboundPolicy } from '../../src/connectors/http/outbound-policy.js'
import {
  DEFAULT_API_BASE_URL,
  DEFAULT_TOKEN_URL,
  mapWeblinkEmployee,
  PaylocityClient,
  type PaylocityClientOptions,
  PaylocityError,
  type PaylocityFailureKind,
  resetPaylocityTokenCache,
} from '../../src/connectors/paylocity-client.js'
import { type FakePaylocity, startFakePaylocity, weblinkEmployeeFixture } from '../fakes/fake-paylocity.js'

const COMPANY = 'C01'
const EMPLOYEE = '12345'

let fake: FakePaylocity
// The fake listens on 127.0.0.1: only the operator's allow-private setting lets a connector call it.
const LOCAL = outboundPolicy({ allowPrivate: true })

beforeEach(async () => {
  resetPaylocityTokenCache()
  fake = await startFakePaylocity()
  fake.setEmployee(COMPANY, EMPLOYEE, weblinkEmployeeFixture())
})

afterEach(async () => {
  await fake.close()
})

after(() => {
  resetPaylocityTokenCache()
})

function client(options?: PaylocityClientOptions, secret = fake.clientSecret): PaylocityClient {
  return new PaylocityClient(
    { clientId: fake.clientId, clientSecret: secret, tokenUrl: fake.tokenUrl, apiBaseUrl: fake.apiBaseUrl },
    { policy: LOCAL, ...options },
  )
}

/** Asserts a PaylocityError of `kind` whose message leaks neither the secret nor any token. */
async function rejectsWith(promise: Promise<unknown>, kind: PaylocityFailureKind): Promise<PaylocityError> {
  let caught: unknown
  try {
    await promise
  } catch (err) {
    caught = err
  }
  assert.ok(caught instanceof PaylocityError, `expected a PaylocityError, got ${String(caught)}`)
  assert.equal(caught.kind, kind, caught.message)
  assert.ok(caught.message.length > 0)
  assert.ok(!caught.message.includes(fake.clientSecret), 'message contains the client secret')
  for (const token of fake.issuedTokens)
    assert.ok(!caught.message.includes(token), 'message contains a token')
  return caught
}

const JANE = {
  firstName: 'Jane',
  lastName: 'Doe',
  displayName: 'Janie Doe',
  email: 'jdoe@work.com',
  mobile: '3125550100',
  terminated: false,
}

describe('mapWeblinkEmployee', () => {
  test('maps the fixture (one-element array) and the object form alike', () => {
    assert.deepEqual(mapWeblinkEmployee([weblinkEmployeeFixture()]), JANE)
    assert.deepEqual(mapWeblinkEmployee(weblinkEmployeeFixture()), JANE)
  })

  test('status T is terminated; missing, empty and non-string values are null', () => {
    const mapped = mapWeblinkEmployee({
      firstName: '  ',
      lastName: null,
      preferredName: 42,
      workAddress: { emailAddress: '' },
      homeAddress: null,
      status: { employeeStatus: 'T' },
    })
    assert.deepEqual(mapped, {
      firstName: null,
      lastName: null,
      displayName: null,
      email: null,
      mobile: null,
      terminated: true,
    })
    assert.equal(mapWeblinkEmployee({}).terminated, false)
  })

  test('unreadable shapes are bad_response; an empty list is not_found', () => {
    for (const body of [null, 'Jane', 42, [null], [{}, {}], [[]]]) {
      assert.throws(
        () => mapWeblinkEmployee(body),
        (err: unknown) => err instanceof PaylocityError && err.kind === 'bad_response',
        JSON.stringify(body),
      )
    }
    assert.throws(
      () => mapWeblinkEmployee([]),
      (err: unknown) => err instanceof PaylocityError && err.kind === 'not_found',
    )
  })
})

describe('PaylocityClient', () => {
  test('defaults point at production Weblink', () => {
    assert.equal(DEFAULT_TOKEN_URL, 'https://api.paylocity.com/IdentityServer/connect/token')
    assert.equal(DEFAULT_API_BASE_URL, 'https://api.paylocity.com')
  })

  test('fetches a token with Basic client credentials and maps the employee (array answer)', async () => {
    assert.deepEqual(await client().getEmployee(COMPANY, EMPLOYEE), JANE)
    const tokenRequest = fake.requests.find((r) => r.path === '/IdentityServer/connect/token')
    assert.ok(tokenRequest)
    assert.equal(tokenRequest.method, 'POST')
    assert.equal(tokenRequest.credentialsVia, 'basic')
    assert.match(String(tokenRequest.headers['content-type']), /^application\/x-www-form-urlencoded/)
    const form = new URLSearchParams(tokenRequest.body)
    assert.equal(form.get('grant_type'), 'client_credentials')
    assert.equal(form.get('scope'), 'WebLinkAPI')
    assert.equal(form.get('client_secret'), null, 'the secret travels in the Authorization header only')
    const employeeRequest = fake.requests.find(
      (r) => r.path === `/api/v2/companies/${COMPANY}/employees/${EMPLOYEE}`,
    )
    assert.ok(employeeRequest)
    assert.equal(employeeRequest.headers.authorization, `Bearer ${fake.issuedTokens[0]}`)
  })

  test('maps the plain object answer and a terminated employee', async () => {
    fake.employeeAsObject = true
    fake.setEmployee(COMPANY, '777', {
      ...weblinkEmployeeFixture(),
      employeeId: '777',
      status: { employeeStatus: 'T' },
    })
    const employee = await client().getEmployee(COMPANY, '777')
    assert.equal(employee.terminated, true)
    assert.equal(employee.firstName, 'Jane')
  })

  test('employeeId is looked up within its company', async () => {
    await rejectsWith(client().getEmployee('C02', EMPLOYEE), 'not_found')
  })

  test('caches the token across calls and across client instances', async () => {
    const first = client()
    await first.getEmployee(COMPANY, EMPLOYEE)
    await first.getEmployee(COMPANY, EMPLOYEE)
    await client().getEmployee(COMPANY, EMPLOYEE)
    assert.equal(fake.tokenRequests(), 1)
    assert.equal(fake.employeeRequests(), 3)
  })

  test('concurrent callers share one token request', async () => {
    await Promise.all([client(), client(), client()].map((c) => c.getEmployee(COMPANY, EMPLOYEE)))
    assert.equal(fake.tokenRequests(), 1)
  })

  test('a changed secret does not reuse the old token', async () => {
    await client().getEmployee(COMPANY, EMPLOYEE)
    await rejectsWith(client({}, `${fake.clientSecret}-old`).getEmployee(COMPANY, EMPLOYEE), 'auth')
    assert.equal(fake.tokenRequests(), 2)
  })

  test('refetches the token once it expires, with a 60 s margin', async () => {
    fake.expiresIn = 3600
    let clock = 1_000_000
    const c = client({ now: () => clock })
    await c.getEmployee(COMPANY, EMPLOYEE)
    clock += (3600 - 61) * 1000
    await c.getEmployee(COMPANY, EMPLOYEE)
    assert.equal(fake.tokenRequests(), 1, 'still valid 61 s before expiry')
    clock += 2000
    await c.getEmployee(COMPANY, EMPLOYEE)
    assert.equal(fake.tokenRequests(), 2, 'refetched inside the margin')
  })

  test('a 401 from the employee endpoint drops the token, fetches a new one and retries once', async () => {
    const c = client()
    await c.getEmployee(COMPANY, EMPLOYEE)
    fake.revokeTokens()
    assert.deepEqual(await c.getEmployee(COMPANY, EMPLOYEE), JANE)
    assert.equal(fake.tokenRequests(), 2)
    assert.equal(fake.employeeRequests(), 3)
    // The fresh token is the cached one now.
    await client().getEmployee(COMPANY, EMPLOYEE)
    assert.equal(fake.tokenRequests(), 2)
  })

  test('a 401 again after the refresh is auth, without a third attempt', async () => {
    fake.failNext(2, 401)
    const err = await rejectsWith(client().getEmployee(COMPANY, EMPLOYEE), 'auth')
    assert.equal(err.status, 401)
    assert.equal(fake.tokenRequests(), 2)
    assert.equal(fake.employeeRequests(), 2)
  })

  test('a 500 once is retried', async () => {
    fake.failNext(1, 500)
    assert.deepEqual(await client().getEmployee(COMPANY, EMPLOYEE), JANE)
    assert.equal(fake.employeeRequests(), 2)
  })

  test('a 500 twice is server', async () => {
    fake.failNext(2, 503)
    const err = await rejectsWith(client().getEmployee(COMPANY, EMPLOYEE), 'server')
    assert.equal(err.status, 503)
    assert.equal(fake.employeeRequests(), 2)
  })

  test('a 500 from the token endpoint is retried once, twice is server', async () => {
    fake.failTokenNext(1)
    assert.deepEqual(await client().getEmployee(COMPANY, EMPLOYEE), JANE)
    resetPaylocityTokenCache()
    fake.failTokenNext(2)
    await rejectsWith(client().getEmployee(COMPANY, EMPLOYEE), 'server')
  })

  test("an unknown employee is not_found: the status and Paylocity's code, never its words", async () => {
    const err = await rejectsWith(client().getEmployee(COMPANY, '99999'), 'not_found')
    assert.equal(err.status, 404)
    assert.equal(err.message, 'Paylocity answered 404 (404) while fetching employee 99999 of company C01')
    assert.doesNotMatch(err.message, /was not found/)
    assert.equal(fake.employeeRequests(), 1, '404 is not retried')
  })

  test('ids are path-encoded', async () => {
    await rejectsWith(client().getEmployee(COMPANY, '../../x'), 'not_found')
    assert.ok(fake.requests.some((r) => r.path === `/api/v2/companies/${COMPANY}/employees/..%2F..%2Fx`))
  })

  test('bad credentials are auth and the message never shows the secret', async () => {
    const wrong = `${fake.clientSecret}X`
    const err = await rejectsWith(client({}, wrong).getEmployee(COMPANY, EMPLOYEE), 'auth')
    assert.equal(err.status, 400)
    assert.equal(
      err.message,
      'Paylocity token endpoint answered 400 (invalid_client) while requesting an access token',
    )
    assert.ok(!err.message.includes(wrong))
    assert.equal(fake.employeeRequests(), 0)
  })

  test('a slow answer is timeout, and the next call works', async () => {
    fake.delayNext(500)
    const c = client({ timeoutMs: 100 })
    const started = Date.now()
    await rejectsWith(c.getEmployee(COMPANY, EMPLOYEE), 'timeout')
    assert.ok(Date.now() - started < 450, 'gave up after the timeout')
    assert.deepEqual(await c.getEmployee(COMPANY, EMPLOYEE), JANE)
  })

  test('an unreachable server is network', async () => {
    const c = client()
    await c.getEmployee(COMPANY, EMPLOYEE)
    await fake.close()
    const err = await rejectsWith(c.getEmployee(COMPANY, EMPLOYEE), 'network')
    assert.match(err.message, /^could not reach Paylocity \(connection refused\) while fetching employee/)
    // A fresh fake for afterEach to close.
    fake = await startFakePaylocity()
  })

  test('an answer that is not an employee object is bad_response', async () => {
    fake.setEmployee(COMPANY, EMPLOYEE, 'not an employee')
    fake.employeeAsObject = true
    await rejectsWith(client().getEmployee(COMPANY, EMPLOYEE), 'bad_response')
  })

  test('error messages never contain the token even when Paylocity echoes it', async () => {
    const c = client()
    await c.getEmployee(COMPANY, EMPLOYEE)
    const token = fake.issuedTokens[0] ?? ''
    assert.ok(token !== '')
    // The 404 body quotes the requested id, here the token itself: the client must redact it.
    const err = await rejectsWith(c.getEmployee(COMPANY, token), 'not_found')
    assert.match(err.message, /\[redacted\]/)
  })
})

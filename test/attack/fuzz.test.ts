/**
 * The property-based attack suite: every route the app registers (webhooks, Management API, console
 * pages and forms, operations), found through the app itself, gets hostile path parameters, query
 * strings, headers and bodies (NUL, lone surrogates, huge numbers, 1e400, -0, deep nesting, long
 * texts, `__proto__`, arrays for objects, bad percent-encoding), as a real key, a service account,
 * a console session, and unauthenticated. Properties: never a 5xx, never the database's own refusal
 * (a bound was missing), errors in the contract's shape, Object.prototype untouched, no stored
 * object carrying a `__proto__`, and the service still serves a valid call afterwards.
 *
 * Runs on both databases within a time budget: OC_FUZZ_BUDGET_MS (default 25000 per database),
 * OC_FUZZ_RUNS (most runs per route and credential, default 150), OC_FUZZ_SEED (replay a run),
 * OC_FUZZ_DEBUG=1 (print every answer: which routes the fuzzing reaches, and how far).
 */
import assert from 'node:assert/strict'
import { before, it } from 'node:test'
import fc from 'fast-check'
import type { LightMyRequestResponse } from 'fastify'
import { API_PREFIX, type RegisteredRoute, routesOf } from '../../src/app.js'
import { createSession, csrfTokenFor, findSession, SESSION_COOKIE } from '../../src/console/session.js'
import { createDestination } from '../../src/directory/destinations.js'
import { errorCatalog } from '../../src/errors.js'
import { addAdmin } from '../console/console-helpers.js'
import { uniqueAddress } from '../helpers/client-address.js'
import { onEachDatabase, type Suite } from '../helpers/suite.js'
import { post, type SeededTenant, TICKETS } from '../helpers/test-app.js'

const BUDGET_MS = Number(process.env.OC_FUZZ_BUDGET_MS ?? 25_000)
const MAX_RUNS = Number(process.env.OC_FUZZ_RUNS ?? 150)
const SEED = process.env.OC_FUZZ_SEED === undefined ? undefined : Number(process.env.OC_FUZZ_SEED)

type Kind = 'webhook' | 'management' | 'console' | 'operations'
type Credential = 'key' | 'basic' | 'session' | 'none' | 'garbage'

const CREDENTIALS: Record<Kind, Credential[]> = {
  webhook: ['key', 'basic', 'none', 'garbage'],
  management: ['key', 'session', 'none', 'garbage'],
  console: ['session', 'none'],
  operations: ['none'],
}

function kindOf(route: RegisteredRoute): Kind {
  if (route.webhook !== undefined) return 'webhook'
  if (route.url.startsWith('/console')) return 'console'
  if (route.url.startsWith(API_PREFIX)) return 'management'
  return 'operations'
}

// ---------------------------------------------------------------------------------------------
// Hostile values
// ---------------------------------------------------------------------------------------------

const NASTY_STRINGS = [
  '',
  ' ',
  '\u0000',
  'a\u0000b',
  '\ud800',
  'x\udfffy',
  '\udc00\ud800',
  '😀',
  '\u202eevil',
  '\r\n',
  'x'.repeat(256),
  'y'.repeat(8000),
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'hasOwnProperty',
  'null',
  'undefined',
  'NaN',
  '-0',
  '1e400',
  '2147483648',
  '9007199254740993',
  '-1',
  '0',
  "' OR 1=1 --",
  '<script>alert(1)</script>',
  '../../../etc/passwd',
  '%00',
  '%zz',
  '90d',
  '100000000d',
  `${'9'.repeat(30)}d`,
  'generic-hr',
  'paylocity',
  'builtin',
  'zendesk',
  'email',
  'employee_id',
  'true',
]

const nastyString = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...NASTY_STRINGS) },
  {
    weight: 2,
    arbitrary: fc.string({
      unit: fc.oneof(
        fc.constantFrom('\u0000', '\ud800', '\udfff', '%', '\\', '"'),
        fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }),
      ),
      maxLength: 40,
    }),
  },
  { weight: 1, arbitrary: fc.string({ maxLength: 20 }) },
)

const nastyNumber = fc.oneof(
  fc.constantFrom(
    0,
    -0,
    1,
    -1,
    2_147_483_647,
    2_147_483_648,
    9_007_199_254_740_992,
    1e308,
    -1e308,
    5e-324,
    0.5,
  ),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
)

/** JSON that JSON.stringify cannot write, spliced into generated bodies through a marker. */
const RAW_TOKENS = [
  '1e400',
  '-1e400',
  '-0',
  '123456789012345678901234567890',
  '1e-400',
  '"\\ud800"',
  '"\\u0000"',
  '"a\\u0000b"',
  '"\\udfff\\ud800"',
  `${'['.repeat(5000)}${']'.repeat(5000)}`,
  `${'{"a":'.repeat(40)}1${'}'.repeat(40)}`,
  '{"__proto__":{"polluted":"yes"}}',
  '{"constructor":{"prototype":{"polluted":"yes"}}}',
]
const MARK = '\u0001RAW\u0001'
const rawToken = fc.constantFrom(...RAW_TOKENS).map((token) => `${MARK}${token}${MARK}`)

/** JSON text of `value`, with every raw-token marker replaced by its token. */
function toJsonText(value: unknown): string {
  return JSON.stringify(value).replace(
    /"\\u0001RAW\\u0001(.*?)\\u0001RAW\\u0001"/g,
    (_all, escaped: string) => JSON.parse(`"${escaped}"`),
  )
}

/** Any JSON value, hostile keys and leaves included, a few levels deep. */
const nastyJson: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    nastyString,
    nastyNumber,
    fc.boolean(),
    fc.constant(null),
    rawToken,
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(
      fc.oneof(nastyString, fc.constantFrom('__proto__', 'constructor', 'password')),
      tie('value'),
      {
        maxKeys: 4,
      },
    ),
  ),
})).value

// ---------------------------------------------------------------------------------------------
// Bodies that get past the first checks, so the fuzzing reaches the handlers
// ---------------------------------------------------------------------------------------------

/** Field names a webhook may read, and plausible values (a real requester, an email). */
const WEBHOOK_FIELDS = [
  'title',
  'description',
  'requester_email',
  'short_description',
  'sys_id',
  'number',
  'priority',
  'employee_id',
  'first_name',
  'last_name',
  'email',
  'mobile',
  'display_name',
  'companyId',
  'company_id',
  'employeeId',
  'employeeFirstName',
  'employeeLastName',
  'employeeWorkEMailAddress',
  'employeeWorkPhone',
]

function validWebhookBody(endpoint: string, tenant: SeededTenant): Record<string, unknown> {
  switch (endpoint) {
    case 'servicenow':
      return { requester_email: tenant.requester, short_description: 'Fuzz', sys_id: 'SYS-1' }
    case 'createticket':
      return { title: 'Fuzz', description: 'D', requester_email: tenant.requester }
    case 'adduser':
      return { employee_id: 'F-1', first_name: 'Fu', last_name: 'Zz', email: 'fuzz@fuzz.example.com' }
    default:
      return { employee_id: 'F-1' }
  }
}

interface Body {
  payload: string | undefined
  contentType: string | undefined
}

const json = (text: string): Body => ({ payload: text, contentType: 'application/json' })

/** A JSON Schema (from the OpenAPI document) turned into values that mostly fit it and sometimes do not. */
function fromSchema(schema: Record<string, unknown> | undefined, depth = 0): fc.Arbitrary<unknown> {
  if (schema === undefined || depth > 4) return nastyJson
  const any = [schema.anyOf, schema.oneOf].find(Array.isArray) as Array<Record<string, unknown>> | undefined
  if (any !== undefined) return fc.oneof(...any.map((member) => fromSchema(member, depth + 1)), nastyJson)
  if ('const' in schema)
    return fc.oneof({ weight: 4, arbitrary: fc.constant(schema.const) }, { weight: 1, arbitrary: nastyJson })
  if (Array.isArray(schema.enum)) return fc.oneof(fc.constantFrom(...(schema.enum as unknown[])), nastyJson)
  switch (schema.type) {
    case 'object': {
      const properties = (schema.properties ?? {}) as Record<string, Record<string, unknown>>
      const fields = Object.fromEntries(
        Object.entries(properties).map(([name, property]) => [name, fromSchema(property, depth + 1)]),
      )
      const additional =
        typeof schema.additionalProperties === 'object'
          ? fc.dictionary(
              nastyString,
              fromSchema(schema.additionalProperties as Record<string, unknown>, depth + 1),
              {
                maxKeys: 3,
              },
            )
          : fc.constant({})
      return fc
        .tuple(
          fc.record(fields, { requiredKeys: [] }),
          additional,
          fc.option(fc.dictionary(nastyString, nastyJson, { maxKeys: 2 }), { freq: 4, nil: {} }),
        )
        .map(([known, extra, stray]) => ({ ...extra, ...known, ...stray }))
    }
    case 'string':
      return fc.oneof(
        nastyString,
        fc.constantFrom('fuzz@fuzz.example.com', 'A name', 'long enough password 1'),
      )
    case 'integer':
    case 'number':
      return fc.oneof(nastyNumber, rawToken)
    case 'boolean':
      return fc.oneof({ weight: 4, arbitrary: fc.boolean() }, { weight: 1, arbitrary: nastyJson })
    case 'array':
      return fc.array(fromSchema(schema.items as Record<string, unknown> | undefined, depth + 1), {
        maxLength: 3,
      })
    default:
      return nastyJson
  }
}

const RAW_BODIES = [
  '',
  '   ',
  '{',
  'not json',
  '[]',
  '"a string"',
  '42',
  'null',
  '{} {}',
  '{"a":1,"a":2}',
  '--boundary\r\nContent-Disposition: form-data; name="x"\r\n\r\ny\r\n--boundary--',
  ...RAW_TOKENS,
]

function jsonBody(objects: fc.Arbitrary<unknown>): fc.Arbitrary<Body> {
  return fc.oneof(
    { weight: 6, arbitrary: objects.map((value) => json(toJsonText(value))) },
    { weight: 2, arbitrary: nastyJson.map((value) => json(toJsonText(value))) },
    {
      weight: 2,
      arbitrary: fc
        .tuple(
          fc.constantFrom(...RAW_BODIES),
          fc.constantFrom('application/json', 'text/plain', undefined, 'application/scim+json'),
        )
        .map(([payload, contentType]) => ({ payload, contentType })),
    },
    { weight: 1, arbitrary: fc.constant({ payload: undefined, contentType: undefined }) },
  )
}

function formBody(fields: string[], csrf: () => string): fc.Arbitrary<Body> {
  const value = fc.oneof(nastyString, fc.constantFrom('fuzz@fuzz.example.com', '1', 'on'))
  const form = fc
    .tuple(
      fc.dictionary(
        fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...fields) }, { weight: 1, arbitrary: nastyString }),
        fc.oneof(value, fc.array(value, { maxLength: 3 })),
        {
          maxKeys: 6,
        },
      ),
      fc.boolean(),
    )
    .map(([entries, withCsrf]) => {
      const params = new URLSearchParams()
      if (withCsrf) params.append('_csrf', csrf())
      for (const [name, item] of Object.entries(entries))
        for (const one of Array.isArray(item) ? item : [item]) params.append(name, wellFormed(one))
      return { payload: params.toString(), contentType: 'application/x-www-form-urlencoded' }
    })
  return fc.oneof({ weight: 4, arbitrary: form }, { weight: 1, arbitrary: jsonBody(nastyJson) })
}

// ---------------------------------------------------------------------------------------------
// URLs
// ---------------------------------------------------------------------------------------------

function wellFormed(text: string): string {
  return (text as string & { toWellFormed(): string }).toWellFormed()
}

/** Lone surrogates as the UTF-8 bytes of their code unit: not valid UTF-8, the kind of thing an attacker sends. */
function rawPercent(text: string): string {
  let out = ''
  for (const char of text) {
    const code = char.charCodeAt(0)
    if (char.length === 1 && code >= 0xd800 && code <= 0xdfff)
      out += `%${(0xe0 | (code >> 12)).toString(16)}%${(0x80 | ((code >> 6) & 63)).toString(16)}%${(0x80 | (code & 63)).toString(16)}`
    else out += encodeURIComponent(char)
  }
  return out
}

const BAD_ENCODINGS = ['%', '%zz', '%00', '%C0%AF', '%ED%A0%80', '%E0%A4%A', '%FF', '%2e%2e%2f', '%u0041']

/** A path or query component: encoded, encoded with raw surrogate bytes, or hostile encodings as they are. */
function component(values: fc.Arbitrary<string>): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 8, arbitrary: values.map(rawPercent) },
    { weight: 1, arbitrary: fc.constantFrom(...BAD_ENCODINGS) },
    {
      weight: 1,
      arbitrary: fc.tuple(values, fc.constantFrom(...BAD_ENCODINGS)).map(([a, b]) => `${rawPercent(a)}${b}`),
    },
  )
}

// ---------------------------------------------------------------------------------------------
// The properties
// ---------------------------------------------------------------------------------------------

/**
 * Whether a real record's id fits a path parameter, by the parameter's name: `pluginId` takes
 * destination ids (32 letters and digits), `number` ticket numbers, any other (`id`) the ids
 * of keys, users and deliveries. Other values are generated anyway.
 */
function looksLike(param: string, value: string): boolean {
  if (param === 'pluginId') return /^[A-Za-z0-9]{32}$/.test(value)
  if (param === 'number') return /^\d+$/.test(value)
  return /^[a-z]+_/.test(value)
}

/** Object.prototype and friends, as they are before any request: any change is pollution. */
function prototypeSnapshot(): string {
  const describe = (target: object) =>
    Reflect.ownKeys(target)
      .map((key) => {
        const d = Object.getOwnPropertyDescriptor(target, key)
        return `${String(key)}:${typeof d?.value}:${typeof d?.get}:${String(d?.writable)}`
      })
      .join(',')
  return [Object.prototype, Array.prototype, Function.prototype, String.prototype].map(describe).join('|')
}

/** Keys a stored JSON value must never have: proof that a `__proto__` or `constructor.prototype` got into storage. */
function findPoison(value: unknown, path = ''): string | null {
  if (typeof value !== 'object' || value === null) return null
  for (const [key, item] of Object.entries(value)) {
    if (key === '__proto__') return `${path}.__proto__`
    if (key === 'constructor' && typeof item === 'object' && item !== null && 'prototype' in item)
      return `${path}.constructor.prototype`
    const found = findPoison(item, `${path}.${key}`)
    if (found !== null) return found
  }
  return null
}

const UNSTORABLE = JSON.stringify({ error: errorCatalog.value_not_storable.message })

onEachDatabase('property-based attack suite', { tenants: ['fuzz', 'other'] }, (s) => {
  let snapshot = ''
  let session = { cookie: '', csrf: '', token: '' }
  let protectedIds = new Set<string>()
  let schemas = new Map<string, Record<string, unknown> | undefined>()
  let formFields: string[] = []
  let pool: string[] = []
  let requests = 0
  /** How many answers of each kind and status: a run that only ever answers 401 or 400 reaches nothing. */
  const statuses = new Map<string, number>()

  async function newSession(suite: Suite, adminId: string) {
    const token = await createSession(suite.services.database, suite.tenant('fuzz').tenant.id, adminId)
    session = { cookie: `${SESSION_COOKIE}=${token}`, csrf: csrfTokenFor(token), token }
  }

  let adminId = ''
  before(async () => {
    const fuzz = s.tenant('fuzz')
    snapshot = prototypeSnapshot()
    const admin = await addAdmin(s.services, fuzz.tenant)
    adminId = admin.id
    await newSession(s, adminId)
    const service = await s.db
      .selectFrom('users')
      .select('id')
      .where('tenant_id', '=', fuzz.tenant.id)
      .where('email', '=', fuzz.serviceEmail)
      .executeTakeFirstOrThrow()
    // The suite's own credentials are never handed to routes that revoke or disable.
    protectedIds = new Set([fuzz.keyId, admin.id, service.id])
    await createDestination(s.services, fuzz.tenant, { type: 'generic-hr', name: 'Fuzz HR' })
    await createDestination(s.services, fuzz.tenant, { type: 'paylocity', name: 'Fuzz Payroll' })

    // Request body schemas from the OpenAPI document the service serves.
    const openapi = (
      await s.app.inject({ method: 'GET', url: `${API_PREFIX}/openapi.json`, headers: { host: fuzz.host } })
    ).json() as {
      paths: Record<
        string,
        Record<string, { requestBody?: { content?: Record<string, { schema?: Record<string, unknown> }> } }>
      >
    }
    schemas = new Map()
    for (const [path, operations] of Object.entries(openapi.paths)) {
      for (const [method, operation] of Object.entries(operations)) {
        const url = `${API_PREFIX}${path}`.replace(/\{(\w+)\}/g, ':$1')
        schemas.set(
          `${method.toUpperCase()} ${url}`,
          operation.requestBody?.content?.['application/json']?.schema,
        )
      }
    }
    // Form field names from the console's own pages.
    const names = new Set<string>()
    for (const route of routesOf(s.app)) {
      if (route.method !== 'GET' || !route.url.startsWith('/console') || route.url.includes(':')) continue
      const page = await s.app.inject({
        method: 'GET',
        url: route.url,
        headers: { host: fuzz.host, cookie: session.cookie },
      })
      for (const match of page.body.matchAll(/name="([^"]+)"/g))
        if (match[1] !== undefined) names.add(match[1])
    }
    names.delete('_csrf')
    formFields = [...names]
    assert.ok(formFields.length >= 5, `console form fields found: ${formFields.join(', ')}`)
    // A failed delivery and a ticket, so ids and numbers of real records are in the pool.
    await post(s.app, `${TICKETS}/createticket`, {
      host: fuzz.host,
      auth: `Bearer ${fuzz.key}`,
      body: { title: 'T', description: 'D', requester_email: 'nobody@example.com' },
    })
    await post(s.app, `${TICKETS}/createticket`, {
      host: fuzz.host,
      auth: `Bearer ${fuzz.key}`,
      body: validWebhookBody('createticket', fuzz),
    })
  })

  /** Ids and numbers of the tenant's records (never the suite's own credentials). */
  async function refreshPool(): Promise<void> {
    const tenantId = s.tenant('fuzz').tenant.id
    const ids = async (table: 'api_keys' | 'users' | 'destinations' | 'deliveries') =>
      (await s.db.selectFrom(table).select('id').where('tenant_id', '=', tenantId).execute()).map(
        (row) => row.id,
      )
    const tickets = await s.db
      .selectFrom('tickets')
      .select('number')
      .where('tenant_id', '=', tenantId)
      .execute()
    pool = [
      ...(await ids('api_keys')),
      ...(await ids('users')),
      ...(await ids('destinations')),
      ...(await ids('deliveries')).slice(-20),
      ...tickets.map((row) => String(row.number)),
    ].filter((id) => !protectedIds.has(id))
  }

  it('answers every hostile request to every route without a 5xx, in the contract shape, without pollution', async (t) => {
    const fuzz = s.tenant('fuzz')
    const targets = routesOf(s.app).filter((route) => route.method !== 'HEAD')
    assert.ok(
      targets.some((route) => route.webhook !== undefined),
      'the webhooks are enumerated',
    )
    assert.ok(
      targets.some((route) => route.url.startsWith('/console')),
      'the console is enumerated',
    )
    // The budget is shared by weight: the webhooks (the internet's way in) most, then the Management
    // API and the console, and calls without credentials (all refused at the door) least.
    const weightOf = (kind: Kind, credential: Credential) =>
      ({ webhook: 4, management: 2, console: 2, operations: 1 })[kind] *
      (credential === 'none' || credential === 'garbage' ? 0.5 : 1)
    let weightLeft = targets.reduce(
      (sum, route) =>
        sum +
        CREDENTIALS[kindOf(route)].reduce((n, credential) => n + weightOf(kindOf(route), credential), 0),
      0,
    )
    const started = Date.now()
    const spent = new Map<string, { ms: number; requests: number }>()
    /**
     * Runs for the next route and credential: its share of the time left, at the pace measured so far
     * on this route (a route's first slot is held to 10 runs, to measure it: console sign-in runs a
     * KDF on every call). Calls without credentials stop at the door: 30 of them say all there is.
     */
    const runsNow = (route: RegisteredRoute, kind: Kind, credential: Credential) => {
      const left = Math.max(0, BUDGET_MS - (Date.now() - started))
      const share = (left * weightOf(kind, credential)) / Math.max(1, weightLeft)
      const pace = spent.get(`${route.method} ${route.url}`)
      const cap = pace === undefined ? 10 : credential === 'none' || credential === 'garbage' ? 30 : MAX_RUNS
      const msPerRequest = pace === undefined || pace.requests === 0 ? 5 : pace.ms / pace.requests
      return Math.max(3, Math.min(cap, Math.floor(share / msPerRequest)))
    }

    for (const route of targets) {
      const kind = kindOf(route)
      const params = [...route.url.matchAll(/:(\w+)/g)].map((match) => match[1] ?? '')
      await refreshPool()
      const paramValue = (name: string) => {
        const real = pool.filter((value) => looksLike(name, value))
        return fc.oneof(
          {
            weight: real.length > 0 ? 6 : 0,
            arbitrary: fc.constantFrom(...(real.length > 0 ? real : ['x'])),
          },
          { weight: 2, arbitrary: nastyString },
          {
            weight: 1,
            arbitrary: fc.constantFrom(
              '2147483647',
              '2147483648',
              '99999999999999999999',
              '-1',
              '0',
              'x'.repeat(101),
            ),
          },
        )
      }
      const body: fc.Arbitrary<Body> =
        kind === 'webhook'
          ? jsonBody(
              fc
                .tuple(
                  fc.constant(validWebhookBody(route.webhook ?? '', fuzz)),
                  fc.oneof(
                    // Hostile extra fields on a body that is otherwise valid: they reach the ticket's comment and the log.
                    { weight: 3, arbitrary: fc.dictionary(nastyString, nastyJson, { maxKeys: 3 }) },
                    // Hostile values for the fields the webhooks read.
                    {
                      weight: 2,
                      arbitrary: fc.dictionary(fc.constantFrom(...WEBHOOK_FIELDS), nastyJson, { maxKeys: 2 }),
                    },
                  ),
                )
                .map(([valid, changes]) => ({ ...valid, ...changes })),
            )
          : kind === 'console' && route.method === 'POST'
            ? formBody(formFields, () => session.csrf)
            : kind === 'management'
              ? jsonBody(fromSchema(schemas.get(`${route.method} ${route.url}`)))
              : jsonBody(nastyJson)
      // Mostly no query string; else known names with plausible values, and sometimes hostile ones.
      const query = fc.option(
        fc.array(
          fc.tuple(
            component(
              fc.oneof(
                {
                  weight: 4,
                  arbitrary: fc.constantFrom(
                    'limit',
                    'email',
                    'employee_id',
                    'destination',
                    'failed',
                    'created',
                    'replayed',
                    '__proto__',
                    'constructor[prototype][x]',
                  ),
                },
                { weight: 1, arbitrary: nastyString },
              ),
            ),
            component(
              fc.oneof(
                {
                  weight: 2,
                  arbitrary: fc.constantFrom('1', 'true', '1000', '1001', 'fuzz@fuzz.example.com'),
                },
                { weight: 1, arbitrary: nastyString },
              ),
            ),
          ),
          { minLength: 1, maxLength: 3 },
        ),
        { freq: 2, nil: [] as Array<[string, string]> },
      )

      for (const credential of CREDENTIALS[kind]) {
        const slotStarted = Date.now()
        let slotRequests = 0
        const input = fc.record({
          params: fc.tuple(...params.map((name) => component(paramValue(name)))),
          query,
          body,
          host: fc.oneof(
            { weight: 12, arbitrary: fc.constant(fuzz.host) },
            {
              weight: 1,
              arbitrary: fc.constantFrom('other.localhost', 'nosuch.localhost', '127.0.0.1:8080'),
            },
          ),
          idempotencyKey: fc.option(
            fc.oneof(
              { weight: 4, arbitrary: fc.uuid() },
              { weight: 1, arbitrary: fc.constantFrom('k1', 'x'.repeat(300), 'ü', ' ') },
            ),
            { freq: 3, nil: undefined },
          ),
        })
        await fc.assert(
          fc.asyncProperty(input, async (generated) => {
            let url = route.url
            generated.params.forEach((value, i) => {
              url = url.replace(`:${params[i]}`, value)
            })
            if (generated.query.length > 0)
              url += `?${generated.query.map(([k, v]) => `${k}=${v}`).join('&')}`
            const headers: Record<string, string> = { host: generated.host }
            if (generated.body.contentType !== undefined) headers['content-type'] = generated.body.contentType
            if (generated.idempotencyKey !== undefined) headers['idempotency-key'] = generated.idempotencyKey
            if (credential === 'key') headers.authorization = `Bearer ${fuzz.key}`
            if (credential === 'basic') headers.authorization = fuzz.basic
            if (credential === 'garbage') headers.authorization = 'Bearer oc_notakey'
            if (credential === 'session') {
              if ((await findSession(s.services.database, fuzz.tenant, session.token)) === null)
                await newSession(s, adminId)
              headers.cookie = session.cookie
              if (kind === 'management') headers['x-csrf-token'] = session.csrf
            }
            let res: LightMyRequestResponse
            try {
              res = await s.app.inject({
                method: route.method as 'GET',
                url,
                headers,
                remoteAddress: uniqueAddress(),
                ...(generated.body.payload === undefined ? {} : { payload: generated.body.payload }),
              })
            } catch (error) {
              // light-my-request refusing to build the request (an URL it cannot parse) is not the server's doing.
              if (error instanceof TypeError && /URL|header/i.test(error.message)) return
              throw error
            }
            requests += 1
            slotRequests += 1
            if (process.env.OC_FUZZ_DEBUG !== undefined)
              console.log(
                `${route.method} ${route.url} ${credential} ${res.statusCode} ${res.body.slice(0, 120)}`,
              )
            const bucket = `${kind}:${res.statusCode}`
            statuses.set(bucket, (statuses.get(bucket) ?? 0) + 1)
            const what = `${route.method} ${url} as ${credential} (${res.statusCode}): ${res.body.slice(0, 300)}`
            assert.ok(res.statusCode < 500, `a 5xx: ${what}`)
            assert.notEqual(res.body, UNSTORABLE, `a value reached the database unbounded: ${what}`)
            if (res.statusCode >= 400 && String(res.headers['content-type']).startsWith('application/json')) {
              const parsed = res.json() as { error?: unknown }
              assert.equal(typeof parsed.error, 'string', `not the {"error":…} shape: ${what}`)
            }
            assert.equal(prototypeSnapshot(), snapshot, `Object.prototype changed: ${what}`)
            assert.equal(({} as Record<string, unknown>).polluted, undefined, `pollution: ${what}`)
          }),
          { numRuns: runsNow(route, kind, credential), ...(SEED === undefined ? {} : { seed: SEED }) },
        )
        const key = `${route.method} ${route.url}`
        const pace = spent.get(key) ?? { ms: 0, requests: 0 }
        spent.set(key, { ms: pace.ms + Date.now() - slotStarted, requests: pace.requests + slotRequests })
        weightLeft -= weightOf(kind, credential)
      }
    }
    t.diagnostic(`${requests} requests to ${targets.length} routes in ${Date.now() - started} ms`)
    t.diagnostic(
      [...statuses.entries()]
        .sort()
        .map(([bucket, n]) => `${bucket}×${n}`)
        .join(' '),
    )
    assert.ok(requests >= targets.length * 3, `enough requests ran: ${requests}`)
  })

  it('stored nothing shaped by a __proto__ or constructor.prototype field', async () => {
    const tenantId = s.tenant('fuzz').tenant.id
    const columns: Array<[string, string[]]> = [
      ['deliveries', ['request_body']],
      ['tickets', ['source_fields']],
      ['idempotency_keys', ['response_body']],
      ['destinations', ['settings']],
    ]
    for (const [table, names] of columns) {
      const rows = (await s.db
        .selectFrom(table as 'deliveries')
        .selectAll()
        .where('tenant_id', '=', tenantId)
        .execute()) as unknown as Array<Record<string, string | null>>
      for (const row of rows) {
        for (const name of names) {
          const text = row[name]
          if (typeof text !== 'string') continue
          const poison = findPoison(JSON.parse(text))
          assert.equal(poison, null, `${table}.${name} holds ${poison}: ${text.slice(0, 200)}`)
        }
      }
    }
    const tenants = await s.db.selectFrom('tenants').select('support_settings').execute()
    for (const row of tenants) assert.equal(findPoison(JSON.parse(row.support_settings)), null)
  })

  it('keeps serving: a valid webhook, Management API call, console page and health check all work after the fuzzing', async () => {
    const fuzz = s.tenant('fuzz')
    // The fuzzing may have switched the tenant to Zendesk with plausible settings (an administrator may):
    // back to the built-in system, so the valid ticket below does not wait on a Zendesk that is not there.
    await s.services.database.transaction((trx) =>
      trx
        .updateTable('tenants')
        .set({ support_backend: 'builtin', support_settings: '{}' })
        .where('id', '=', fuzz.tenant.id)
        .execute(),
    )
    s.services.tenants.forget()
    const ticket = await post(s.app, `${TICKETS}/createticket`, {
      host: fuzz.host,
      auth: `Bearer ${fuzz.key}`,
      remoteAddress: uniqueAddress(),
      body: validWebhookBody('createticket', fuzz),
    })
    assert.equal(ticket.statusCode, 201, ticket.body)
    const keys = await s.app.inject({
      method: 'GET',
      url: `${API_PREFIX}/apikeys`,
      headers: { host: fuzz.host, authorization: `Bearer ${fuzz.key}` },
      remoteAddress: uniqueAddress(),
    })
    assert.equal(keys.statusCode, 200, keys.body)
    if ((await findSession(s.services.database, fuzz.tenant, session.token)) === null)
      await newSession(s, adminId)
    const page = await s.app.inject({
      method: 'GET',
      url: '/console/support',
      headers: { host: fuzz.host, cookie: session.cookie },
    })
    assert.equal(page.statusCode, 200)
    const health = await s.app.inject({ method: 'GET', url: '/readyz' })
    assert.equal(health.statusCode, 200)
    assert.equal(prototypeSnapshot(), snapshot)
  })
})

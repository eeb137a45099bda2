/** Values the databases cannot hold (NUL, texts too long to index, numbers out of range, deep nesting) answer a clear 400 on both databases, change nothing, and are logged. */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { createDestination } from '../../src/directory/destinations.js'
import { describePath, findUnstorable, MAX_DEPTH } from '../../src/value-bounds.js'
import { addAdmin, getPage, postForm, signIn } from '../console/console-helpers.js'
import { as, mgmt, tenantSnapshot } from '../helpers/management-routes.js'
import { onEachDatabase } from '../helpers/suite.js'
import { post, TICKETS } from '../helpers/test-app.js'
import { PROVISIONING } from '../helpers/webhook-routes.js'

/** `n` printable characters that compress badly (PostgreSQL compresses repeated text before indexing it). */
function noise(n: number): string {
  let out = ''
  let x = 12345
  while (out.length < n) {
    x = (x * 1103515245 + 12345) % 2 ** 31
    out += String.fromCharCode(33 + (x % 90))
  }
  return out
}

/** A raw JSON body whose `field` nests `levels` objects deep. */
function nested(base: Record<string, unknown>, field: string, levels: number): string {
  const prefix = JSON.stringify(base).slice(0, -1)
  return `${prefix},"${field}":${'{"a":'.repeat(levels)}1${'}'.repeat(levels)}}`
}

describe('findUnstorable', () => {
  const message = (value: unknown, part?: 'body' | 'query' | 'params') =>
    findUnstorable(value, part)?.message ?? null

  it('reports the first problem in the order sent, naming its path', () => {
    assert.equal(
      message({ a: 'ok', b: ['x', { c: 'n\u0000' }], d: '\u0000' }),
      'b[1].c must not contain NUL characters',
    )
    assert.equal(message({ a: '\u0000', 'k\u0000': 1 }), 'Field names must not contain NUL characters')
    assert.equal(message({ a: { b: Number.POSITIVE_INFINITY } }), 'a.b is a number out of range')
    assert.equal(
      message({ email: 'a\u0000' }, 'query'),
      'query parameter email must not contain NUL characters',
    )
    assert.equal(message({ '\u0000': 'x' }, 'query'), 'Query parameter names must not contain NUL characters')
    assert.equal(message({ id: '\u0000' }, 'params'), 'path parameter id must not contain NUL characters')
    assert.equal(
      message({ a: 'fine', n: -0, big: 1e308, s: '\ud800' }),
      null,
      'lone surrogates and -0 are storable',
    )
  })

  it('allows 32 levels, refuses 33, and never overflows the stack', () => {
    const nest = (levels: number) => {
      let value: unknown = 1
      for (let i = 0; i < levels; i++) value = { a: value }
      return value
    }
    assert.equal(message(nest(MAX_DEPTH)), null)
    assert.equal(message(nest(MAX_DEPTH + 1)), `a is nested too deeply (at most ${MAX_DEPTH} levels)`)
    const deep = JSON.parse(`{"x":${'['.repeat(200_000)}${']'.repeat(200_000)}}`)
    assert.equal(message(deep), `x is nested too deeply (at most ${MAX_DEPTH} levels)`)
  })

  it('quotes field names that are not plain, and cuts long ones', () => {
    assert.equal(describePath(['fields', 'tags', 2], 'the body'), 'fields.tags[2]')
    assert.equal(describePath(['a b', 'c"d'], ''), '"a b"."c\\"d"')
    assert.equal(describePath(['x'.repeat(100)], ''), `${'x'.repeat(40)}…`)
    assert.equal(describePath([], 'the body'), 'the body')
  })
})

onEachDatabase('hostile values', (s) => {
  const servicenow = `${TICKETS}/servicenow`
  const createticket = `${TICKETS}/createticket`
  const ticketBody = () => ({ requester_email: s.acme.requester, short_description: 'Hostile' })
  const send = (path: string, body: unknown, headers: Record<string, string> = {}) =>
    post(s.app, path, { host: s.acme.host, auth: `Bearer ${s.acme.key}`, body, headers })
  const sendRaw = (path: string, raw: string, headers: Record<string, string> = {}) =>
    post(s.app, path, { host: s.acme.host, auth: `Bearer ${s.acme.key}`, raw, headers })

  /** The delivery log entry of one request id. */
  const entryOf = (requestId: string) =>
    s.db
      .selectFrom('deliveries')
      .selectAll()
      .where('tenant_id', '=', s.acme.tenant.id)
      .where('request_id', '=', requestId)
      .executeTakeFirstOrThrow()

  let counter = 0
  /** Sends, expects exactly `400 {"error": message}`, no change to the tenant but one delivery-log entry with that error. */
  async function refused(path: string, payload: { body?: unknown; raw?: string }, message: string) {
    counter += 1
    const requestId = `hostile-${counter}`
    const before = await tenantSnapshot(s.services, s.acme.tenant.id)
    const res =
      payload.raw === undefined
        ? await send(path, payload.body, { 'x-request-id': requestId })
        : await sendRaw(path, payload.raw, { 'x-request-id': requestId })
    assert.equal(res.statusCode, 400, `${message}: ${res.body}`)
    assert.equal(res.body, JSON.stringify({ error: message }))
    const entry = await entryOf(requestId)
    assert.deepEqual(
      [entry.status_code, entry.error],
      [400, message],
      'the refused call is in the delivery log',
    )
    // Everything but that one delivery-log entry is as it was (the entry is removed to compare).
    await s.services.database.transaction((trx) =>
      trx.deleteFrom('deliveries').where('id', '=', entry.id).execute(),
    )
    assert.equal(await tenantSnapshot(s.services, s.acme.tenant.id), before, `${message}: nothing changed`)
    return entry
  }

  it('refuses a NUL character anywhere in a TICKETS body (value, field name, nested, in an array), naming the field', async () => {
    await refused(
      servicenow,
      { body: { ...ticketBody(), u_note: 'a\u0000b' } },
      'u_note must not contain NUL characters',
    )
    await refused(
      createticket,
      { body: { title: 'T', description: 'D', requester_email: s.acme.requester, 'bad\u0000name': 1 } },
      'Field names must not contain NUL characters',
    )
    await refused(
      servicenow,
      { body: { ...ticketBody(), u_meta: { tags: ['ok', 'n\u0000l'] } } },
      'u_meta.tags[1] must not contain NUL characters',
    )
    await refused(
      servicenow,
      { body: { ...ticketBody(), u_meta: { 'k\u0000': 1 } } },
      'Field names must not contain NUL characters (in u_meta)',
    )
    await refused(
      servicenow,
      { body: { requester_email: `john\u0000@acme.example.com`, short_description: 'S' } },
      'requester_email must not contain NUL characters',
    )
    await refused(
      createticket,
      { body: { title: 'T\u0000', description: 'D', requester_email: s.acme.requester } },
      'title must not contain NUL characters',
    )
  })

  it('refuses a sys_id or number too long to index, and keeps the limit at 255 characters', async () => {
    await refused(
      servicenow,
      { body: { ...ticketBody(), sys_id: noise(8000) } },
      'sys_id must be at most 255 characters',
    )
    await refused(
      servicenow,
      { body: { ...ticketBody(), number: noise(256) } },
      'number must be at most 255 characters',
    )
    await refused(
      servicenow,
      { body: { ...ticketBody(), sys_id: { long: noise(300) } } },
      'sys_id must be at most 255 characters',
    )
    const ok = await send(servicenow, { ...ticketBody(), sys_id: noise(255), number: noise(255) })
    assert.equal(ok.statusCode, 201, ok.body)
  })

  it('refuses numbers out of range (1e400) and nesting deeper than 32 levels, and takes 32', async () => {
    const base = JSON.stringify(ticketBody()).slice(0, -1)
    await refused(servicenow, { raw: `${base},"u_count":1e400}` }, 'u_count is a number out of range')
    await refused(servicenow, { raw: `${base},"u_list":[1,-1e999]}` }, 'u_list[1] is a number out of range')
    await refused(
      servicenow,
      { raw: nested(ticketBody(), 'u_deep', 5000) },
      `u_deep is nested too deeply (at most ${MAX_DEPTH} levels)`,
    )
    await refused(
      createticket,
      { raw: nested({ title: 'T', description: 'D', requester_email: s.acme.requester }, 'x', MAX_DEPTH) },
      `x is nested too deeply (at most ${MAX_DEPTH} levels)`,
    )
    const deepest = await sendRaw(servicenow, nested(ticketBody(), 'u_ok', MAX_DEPTH - 1))
    assert.equal(deepest.statusCode, 201, `${MAX_DEPTH} levels in all are fine: ${deepest.body}`)
    const minusZero = await sendRaw(servicenow, `${base},"u_zero":-0,"u_big":123456789012345678901234567890}`)
    assert.equal(minusZero.statusCode, 201, 'finite numbers of any size are fine')
  })

  it('checks the contract messages first: required fields in order, then types, then bounds', async () => {
    await refused(
      servicenow,
      { body: { short_description: 'S', u_x: 'a\u0000' } },
      'requester_email is a required field',
    )
    await refused(
      servicenow,
      { body: { requester_email: s.acme.requester, short_description: 5, sys_id: noise(300) } },
      'short_description must be a string',
    )
    await refused(
      servicenow,
      { body: { requester_email: s.acme.requester, short_description: 'S', description: 7, u_x: '\u0000' } },
      'description must be a string',
    )
    await refused(
      createticket,
      { raw: nested({ description: 'D', requester_email: s.acme.requester }, 'x', 5000) },
      'title is a required field',
    )
  })

  it('bounds every HR field on adduser, modifyuser and deleteuser, after the required fields and types', async () => {
    const destination = await createDestination(s.services, s.acme.tenant, { type: 'generic-hr', name: 'HR' })
    const url = (operation: string) => `${PROVISIONING}/${destination.plugin_id}/${operation}`
    const add = { employee_id: 'E-1', first_name: 'Ann', last_name: 'Lee', email: 'ann@acme.example.com' }
    await refused(
      url('adduser'),
      { body: { ...add, employee_id: noise(8000) } },
      'employee_id must be at most 255 characters',
    )
    await refused(
      url('adduser'),
      { body: { ...add, first_name: noise(256) } },
      'first_name must be at most 255 characters',
    )
    await refused(
      url('adduser'),
      { body: { ...add, display_name: 'a\u0000' } },
      'display_name must not contain NUL characters',
    )
    await refused(
      url('adduser'),
      { body: { ...add, mobile: noise(300) } },
      'mobile must be at most 255 characters',
    )
    await refused(
      url('adduser'),
      { body: { ...add, email: 'ann\u0000@acme.example.com' } },
      'email must be a valid email address',
    )
    await refused(
      url('adduser'),
      { body: { ...add, extra: ['\u0000'] } },
      'extra[0] must not contain NUL characters',
    )
    await refused(
      url('adduser'),
      { body: { ...add, employee_id: noise(300), first_name: 5 } },
      'first_name must be a string',
    )
    await refused(
      url('adduser'),
      { body: { ...add, last_name: undefined, mobile: '\u0000' } },
      'last_name is a required field',
    )
    await refused(
      url('modifyuser'),
      { body: { employee_id: noise(256) } },
      'employee_id must be at most 255 characters',
    )
    await refused(
      url('modifyuser'),
      { body: { employee_id: 'E-1', last_name: noise(256) } },
      'last_name must be at most 255 characters',
    )
    await refused(
      url('deleteuser'),
      { body: { employee_id: `E\u0000` } },
      'employee_id must not contain NUL characters',
    )
    await refused(
      url('deleteuser'),
      { raw: nested({ employee_id: 'E-1' }, 'x', 100) },
      `x is nested too deeply (at most ${MAX_DEPTH} levels)`,
    )
    const created = await send(url('adduser'), { ...add, employee_id: noise(255), first_name: noise(255) })
    assert.equal(created.statusCode, 201, created.body)
  })

  it('bounds Paylocity bodies by the generic names, and its company id', async () => {
    const destination = await createDestination(s.services, s.acme.tenant, {
      type: 'paylocity',
      name: 'Payroll',
    })
    const url = `${PROVISIONING}/${destination.plugin_id}/adduser`
    const hire = {
      companyId: 'C1',
      employeeId: '42',
      employeeFirstName: 'Pat',
      employeeLastName: 'Doe',
      employeeWorkEMailAddress: 'pat@acme.example.com',
    }
    await refused(
      url,
      { body: { ...hire, employeeId: noise(400) } },
      'employee_id must be at most 255 characters',
    )
    await refused(
      url,
      { body: { ...hire, companyId: noise(400) } },
      'companyId must be at most 255 characters',
    )
    await refused(
      url,
      { body: { ...hire, costCenter: 'a\u0000' } },
      'costCenter must not contain NUL characters',
    )
  })

  it('keeps a trimmed copy of a body nested too deeply, says so, and will not replay it', async () => {
    const entry = await refused(
      servicenow,
      { raw: nested(ticketBody(), 'u_deep', 5000) },
      `u_deep is nested too deeply (at most ${MAX_DEPTH} levels)`,
    )
    assert.match(entry.request_body_note ?? '', /nested deeper than 32 levels/)
    assert.match(entry.request_body ?? '', /\[removed: nested too deeply\]/)
    // refused() removed the entry to compare snapshots; write one again and replay it.
    const res = await sendRaw(servicenow, nested(ticketBody(), 'u_deep', 5000), {
      'x-request-id': 'deep-replay',
    })
    assert.equal(res.statusCode, 400)
    const again = await entryOf('deep-replay')
    const detail = await as<{ body_note: string; request_body: { u_deep: unknown } }>(
      s.app,
      s.acme,
      'GET',
      `/deliveries/${again.id}`,
    )
    assert.equal(detail.status, 200, detail.raw)
    assert.match(detail.body.body_note, /^Not kept as received: values nested deeper than 32 levels/)
    const replay = await as(s.app, s.acme, 'POST', `/deliveries/${again.id}/replay`)
    assert.equal(replay.status, 400)
    assert.deepEqual(replay.body, {
      error: 'The body of this delivery was not kept as received, so it cannot be replayed',
    })
  })

  it('logs a body that is not JSON, is empty, is too large or has a __proto__ field, with a note and no body', async () => {
    const cases: Array<[string, string, number, string, RegExp]> = [
      ['not-json', '{"title": nope', 400, 'Request body must be a JSON object', /not valid JSON/],
      ['empty', '', 400, 'Request body must be a JSON object', /empty/],
      [
        'proto',
        '{"title":"T","__proto__":{"admin":true}}',
        400,
        'Field names __proto__ and constructor.prototype are not allowed (they could change how the service reads the body)',
        /__proto__/,
      ],
      [
        'ctor',
        '{"title":"T","constructor":{"prototype":{"admin":true}}}',
        400,
        'Field names __proto__ and constructor.prototype are not allowed (they could change how the service reads the body)',
        /__proto__ or constructor/,
      ],
      ['large', `{"title":"${'x'.repeat(1024 * 1024)}"}`, 413, 'Request body too large', /over 1 MiB/],
    ]
    for (const [id, raw, status, message, note] of cases) {
      const res = await sendRaw(createticket, raw, { 'x-request-id': `raw-${id}` })
      assert.equal(res.statusCode, status, `${id}: ${res.body}`)
      assert.equal(res.body, JSON.stringify({ error: message }))
      const entry = await entryOf(`raw-${id}`)
      assert.equal(entry.status_code, status)
      assert.equal(entry.request_body, null, id)
      assert.match(entry.request_body_note ?? '', note, id)
    }
    assert.equal(({} as Record<string, unknown>).admin, undefined, 'Object.prototype is untouched')
  })

  it('refuses NUL in Management API paths, query strings and bodies, and integers out of range', async () => {
    const key = `Bearer ${s.acme.key}`
    const call = (method: 'GET' | 'POST' | 'PUT', path: string, body?: unknown) =>
      mgmt(s.app, method, path, { host: s.acme.host, auth: key, ...(body === undefined ? {} : { body }) })
    const cases: Array<[Awaited<ReturnType<typeof call>>, string]> = [
      [await call('GET', '/tickets/2147483648'), 'path parameter number must be at most 2147483647'],
      [await call('GET', '/tickets/99999999999999999999'), 'path parameter number must be an integer'],
      [await call('GET', '/tickets?limit=99999999999999999999'), 'query parameter limit must be an integer'],
      [await call('GET', '/deliveries?limit=2147483648'), 'query parameter limit must be at most 1000'],
      [await call('GET', '/users?email=a%00b'), 'query parameter email must not contain NUL characters'],
      [
        await call('GET', '/users?employee_id=%00'),
        'query parameter employee_id must not contain NUL characters',
      ],
      [await call('GET', '/users/usr%00x'), 'path parameter id must not contain NUL characters'],
      [await call('GET', '/deliveries/%00'), 'path parameter id must not contain NUL characters'],
      [await call('POST', '/apikeys/%00/revoke'), 'path parameter id must not contain NUL characters'],
      [
        await call('POST', '/users', { email: 'n@acme.example.com', first_name: 'A\u0000' }),
        'first_name must not contain NUL characters',
      ],
      [
        await call('POST', '/users', { email: 'n@acme.example.com', last_name: noise(300) }),
        'last_name must be at most 255 characters',
      ],
      [
        await call('POST', '/users', { email: 'n\u0000@acme.example.com' }),
        'email must not contain NUL characters',
      ],
      [
        await call('POST', '/requesters', { email: 'r@acme.example.com', name: noise(256) }),
        'name must be at most 255 characters',
      ],
      [await call('POST', '/apikeys', { name: 'k\u0000' }), 'name must not contain NUL characters'],
      [await call('POST', '/apikeys', { name: noise(201) }), 'name must be at most 200 characters'],
      [
        await call('POST', '/apikeys', { name: 'k', expires_in: '100000000d' }),
        'expires_in must be at most 3650d (ten years)',
      ],
      [
        await call('POST', '/apikeys', { name: 'k', expires_in: '3651d' }),
        'expires_in must be at most 3650d (ten years)',
      ],
      [
        await call('POST', '/apikeys', { name: 'k', expires_in: `${'9'.repeat(400)}s` }),
        'expires_in must look like 90d, 12h, 30m or 45s',
      ],
      [
        await call('POST', '/destinations', {
          type: 'generic-hr',
          name: 'HR',
          settings: { login_id: '\u0000' },
        }),
        'settings.login_id must not contain NUL characters',
      ],
      [
        await call('PUT', '/support', {
          backend: 'zendesk',
          settings: { url: 'https://x.zendesk.com\u0000' },
        }),
        'settings.url must not contain NUL characters',
      ],
    ]
    for (const [res, message] of cases) {
      assert.equal(res.statusCode, 400, `${message}: ${res.body}`)
      assert.equal(res.body, JSON.stringify({ error: message }))
    }
    assert.equal(
      (await call('GET', '/tickets/2147483647')).statusCode,
      404,
      'the largest number is merely not found',
    )
    const longest = await call('POST', '/apikeys', { name: 'k', expires_in: '3650d' })
    assert.equal(longest.statusCode, 201, longest.body)
  })

  it('refuses NUL in console form fields and an out-of-range ticket number in the console', async () => {
    const admin = await addAdmin(s.services, s.acme.tenant)
    const { cookie, csrf } = await signIn(s.app, s.acme.host, admin.email)
    const before = await tenantSnapshot(s.services, s.acme.tenant.id)
    const form = await postForm(s.app, '/console/support/requesters', {
      host: s.acme.host,
      cookie,
      fields: { _csrf: csrf, email: 'x@acme.example.com', name: 'N\u0000' },
    })
    assert.equal(form.statusCode, 400)
    assert.match(form.body, /name must not contain NUL characters/)
    const key = await postForm(s.app, '/console/administration/api-keys', {
      host: s.acme.host,
      cookie,
      fields: { _csrf: csrf, name: 'k', expires_in: '100000000d' },
    })
    assert.equal(key.statusCode, 400)
    assert.match(key.body, /expires_in must be at most 3650d/)
    assert.equal(await tenantSnapshot(s.services, s.acme.tenant.id), before)
    const huge = await getPage(s.app, '/console/support/tickets/2147483648', s.acme.host, cookie)
    assert.equal(huge.statusCode, 400)
    assert.match(huge.body, /Ticket numbers go up to 2147483647/)
    const nul = await getPage(s.app, '/console/activity/%00', s.acme.host, cookie)
    assert.equal(nul.statusCode, 400)
    assert.match(nul.body, /path parameter id must not contain NUL characters/)
  })
})

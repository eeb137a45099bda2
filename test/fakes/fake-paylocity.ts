// Fake Paylocity Weblink API (IdentityServer token endpoint + GET employee) on a real local HTTP server.
import { randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http'
import { createServer as createTlsServer } from 'node:https'
import type { AddressInfo } from 'node:net'

export const TOKEN_PATH = '/IdentityServer/connect/token'
const EMPLOYEE_PATH = /^\/api\/v2\/companies\/([^/]+)\/employees\/([^/]+)$/

const fixturesDir = new URL('../fixtures/', import.meta.url)

/** The vendor fixtures (copied from shared/fixtures), read fresh so a test may mutate its copy. */
export function weblinkEmployeeFixture(): Record<string, unknown> {
  const parsed: unknown = JSON.parse(
    readFileSync(new URL('paylocity-weblink-employee.json', fixturesDir), 'utf8'),
  )
  const first = Array.isArray(parsed) ? parsed[0] : parsed
  if (typeof first !== 'object' || first === null || Array.isArray(first)) {
    throw new Error('paylocity-weblink-employee.json is not an employee')
  }
  return { ...first }
}

export function weblinkTokenFixture(): Record<string, unknown> {
  const parsed: unknown = JSON.parse(
    readFileSync(new URL('paylocity-weblink-token.json', fixturesDir), 'utf8'),
  )
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new Error('paylocity-weblink-token.json is not an object')
  }
  return { ...parsed }
}

export interface RecordedRequest {
  method: string
  path: string
  headers: IncomingHttpHeaders
  body: string
  /** For token requests: how the client sent its credentials. */
  credentialsVia?: 'basic' | 'form' | 'none'
}

export interface FakePaylocityOptions {
  clientId?: string
  /** Defaults to a secret with '+', '/' and '=' in it, like Paylocity's, to catch encoding bugs. */
  clientSecret?: string
  /** expires_in of issued tokens, seconds; default 3600 like the fixture. */
  expiresIn?: number
  /** Answer the employee endpoint with a plain object instead of the one-element array the v2 spec declares. */
  employeeAsObject?: boolean
  /** Serve https with this key and certificate (test/helpers/test-tls.ts) instead of plain http. */
  tls?: { key: string; cert: string }
}

export interface FakePaylocity {
  /** Base URL of the server, also the Weblink API base. */
  url: string
  port: number
  /** TCP connections accepted so far (a refused call must not even connect). */
  connections(): number
  tokenUrl: string
  apiBaseUrl: string
  clientId: string
  clientSecret: string
  /** Employees keyed by employeeKey(companyId, employeeId); the value is sent as is. */
  employees: Map<string, unknown>
  /** Every request, in order. */
  requests: RecordedRequest[]
  /** Every access token issued, in order. */
  issuedTokens: string[]
  /** Mutable: expires_in of the next tokens. */
  expiresIn: number
  /** Mutable: employee answers as a plain object rather than an array. */
  employeeAsObject: boolean
  setEmployee(companyId: string, employeeId: string, employee: unknown): void
  tokenRequests(): number
  employeeRequests(): number
  /** The next `count` employee answers are `status` (default 500) with a Weblink-like error body. */
  failNext(count: number, status?: number): void
  /** The next `count` token answers are `status` (default 500). */
  failTokenNext(count: number, status?: number): void
  /** The next `count` employee answers wait `ms` before being sent. */
  delayNext(ms: number, count?: number): void
  /** Every token issued so far stops working, so the employee endpoint answers 401 until a new one is fetched. */
  revokeTokens(): void
  close(): Promise<void>
}

export function employeeKey(companyId: string, employeeId: string): string {
  return `${companyId}/${employeeId}`
}

interface Fault {
  remaining: number
  status: number
}

function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  if (res.destroyed) return
  const text = JSON.stringify(body)
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    ...headers,
  })
  res.end(text)
}

// Weblink's error model is a list of {code, message, options}.
function weblinkError(code: string, message: string): unknown {
  return [{ code, message, options: null }]
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')))
    req.on('error', reject)
  })
}

function safeDecode(value: string): string | null {
  try {
    return decodeURIComponent(value)
  } catch {
    return null
  }
}

/** Client credentials from Basic auth (id and secret URL-encoded, as IdentityServer reads them) or the form. */
function readCredentials(
  headers: IncomingHttpHeaders,
  form: URLSearchParams,
): { via: 'basic' | 'form' | 'none'; id: string | null; secret: string | null } {
  const auth = headers.authorization
  if (typeof auth === 'string' && /^basic /i.test(auth)) {
    const decoded = Buffer.from(auth.slice(6).trim(), 'base64').toString('utf8')
    const colon = decoded.indexOf(':')
    if (colon < 0) return { via: 'basic', id: null, secret: null }
    return {
      via: 'basic',
      id: safeDecode(decoded.slice(0, colon)),
      secret: safeDecode(decoded.slice(colon + 1)),
    }
  }
  const id = form.get('client_id')
  if (id !== null) return { via: 'form', id, secret: form.get('client_secret') }
  return { via: 'none', id: null, secret: null }
}

export async function startFakePaylocity(opts: FakePaylocityOptions = {}): Promise<FakePaylocity> {
  const clientId = opts.clientId ?? 'optimalcloud-test-client'
  const clientSecret = opts.clientSecret ?? `s3cr+et/${randomBytes(8).toString('hex')}==`
  const employees = new Map<string, unknown>()
  const requests: RecordedRequest[] = []
  const issuedTokens: string[] = []
  const validTokens = new Set<string>()
  const employeeFault: Fault = { remaining: 0, status: 500 }
  const tokenFault: Fault = { remaining: 0, status: 500 }
  const delay = { remaining: 0, ms: 0 }
  const timers = new Set<NodeJS.Timeout>()
  const tokenTemplate = weblinkTokenFixture()

  const state = {
    expiresIn: opts.expiresIn ?? 3600,
    employeeAsObject: opts.employeeAsObject ?? false,
  }

  async function handleToken(
    req: IncomingMessage,
    res: ServerResponse,
    record: RecordedRequest,
  ): Promise<void> {
    const form = new URLSearchParams(record.body)
    const credentials = readCredentials(req.headers, form)
    record.credentialsVia = credentials.via
    if (tokenFault.remaining > 0) {
      tokenFault.remaining -= 1
      sendJson(res, tokenFault.status, { error: 'server_error' })
      return
    }
    // IdentityServer only reads form bodies.
    const contentType = req.headers['content-type'] ?? ''
    if (!contentType.toLowerCase().startsWith('application/x-www-form-urlencoded')) {
      sendJson(res, 400, { error: 'invalid_request' })
      return
    }
    if (credentials.id !== clientId || credentials.secret !== clientSecret) {
      sendJson(res, 400, { error: 'invalid_client' })
      return
    }
    if (form.get('grant_type') !== 'client_credentials') {
      sendJson(res, 400, { error: 'unsupported_grant_type' })
      return
    }
    const scope = form.get('scope')
    if (scope !== null && scope !== 'WebLinkAPI') {
      sendJson(res, 400, { error: 'invalid_scope' })
      return
    }
    const accessToken = `fake-${randomBytes(16).toString('hex')}`
    issuedTokens.push(accessToken)
    validTokens.add(accessToken)
    sendJson(
      res,
      200,
      { ...tokenTemplate, access_token: accessToken, expires_in: state.expiresIn, scope: 'WebLinkAPI' },
      { 'cache-control': 'no-store' },
    )
  }

  function handleEmployee(
    req: IncomingMessage,
    res: ServerResponse,
    companyId: string,
    employeeId: string,
  ): void {
    const auth = req.headers.authorization ?? ''
    const token = /^bearer /i.test(auth) ? auth.slice(7).trim() : ''
    if (!validTokens.has(token)) {
      // Weblink's gateway answers a bad token with an empty-ish 401 and a challenge.
      sendJson(
        res,
        401,
        { message: 'Authorization has been denied for this request.' },
        {
          'www-authenticate': 'Bearer error="invalid_token"',
        },
      )
      return
    }
    if (employeeFault.remaining > 0) {
      employeeFault.remaining -= 1
      sendJson(
        res,
        employeeFault.status,
        weblinkError(String(employeeFault.status), 'An error has occurred.'),
      )
      return
    }
    const employee = employees.get(employeeKey(companyId, employeeId))
    if (employee === undefined) {
      sendJson(res, 404, weblinkError('404', `Employee ${employeeId} was not found in company ${companyId}.`))
      return
    }
    sendJson(res, 200, state.employeeAsObject ? employee : [employee])
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://fake')
    const body = await readBody(req)
    const record: RecordedRequest = {
      method: req.method ?? '',
      path: url.pathname,
      headers: req.headers,
      body,
    }
    requests.push(record)

    if (url.pathname === TOKEN_PATH) {
      if (req.method !== 'POST') {
        sendJson(res, 405, { error: 'invalid_request' })
        return
      }
      await handleToken(req, res, record)
      return
    }
    const match = EMPLOYEE_PATH.exec(url.pathname)
    if (match !== null && req.method === 'GET') {
      const companyId = safeDecode(match[1] ?? '') ?? ''
      const employeeId = safeDecode(match[2] ?? '') ?? ''
      if (delay.remaining > 0) {
        delay.remaining -= 1
        const timer = setTimeout(() => {
          timers.delete(timer)
          handleEmployee(req, res, companyId, employeeId)
        }, delay.ms)
        timers.add(timer)
        return
      }
      handleEmployee(req, res, companyId, employeeId)
      return
    }
    sendJson(res, 404, weblinkError('404', 'No HTTP resource was found that matches the request URI.'))
  }

  const listener = (req: IncomingMessage, res: ServerResponse): void => {
    handle(req, res).catch(() => {
      if (!res.headersSent) sendJson(res, 500, weblinkError('500', 'fake failure'))
    })
  }
  const server = opts.tls === undefined ? createServer(listener) : createTlsServer(opts.tls, listener)
  let connections = 0
  server.on('connection', () => {
    connections++
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve())
  })
  const { port } = server.address() as AddressInfo
  const url = `${opts.tls === undefined ? 'http' : 'https'}://127.0.0.1:${port}`

  return {
    url,
    port,
    connections: () => connections,
    tokenUrl: `${url}${TOKEN_PATH}`,
    apiBaseUrl: url,
    clientId,
    clientSecret,
    employees,
    requests,
    issuedTokens,
    get expiresIn() {
      return state.expiresIn
    },
    set expiresIn(value: number) {
      state.expiresIn = value
    },
    get employeeAsObject() {
      return state.employeeAsObject
    },
    set employeeAsObject(value: boolean) {
      state.employeeAsObject = value
    },
    setEmployee(companyId, employeeId, employee) {
      employees.set(employeeKey(companyId, employeeId), employee)
    },
    tokenRequests: () => requests.filter((r) => r.path === TOKEN_PATH).length,
    employeeRequests: () => requests.filter((r) => EMPLOYEE_PATH.test(r.path)).length,
    failNext(count, status = 500) {
      employeeFault.remaining = count
      employeeFault.status = status
    },
    failTokenNext(count, status = 500) {
      tokenFault.remaining = count
      tokenFault.status = status
    },
    delayNext(ms, count = 1) {
      delay.remaining = count
      delay.ms = ms
    },
    revokeTokens() {
      validTokens.clear()
    },
    close() {
      for (const timer of timers) clearTimeout(timer)
      timers.clear()
      return new Promise<void>((resolve) => {
        server.close(() => resolve())
        // fetch keeps connections alive; without this close() would wait for them to idle out.
        server.closeAllConnections()
      })
    },
  }
}

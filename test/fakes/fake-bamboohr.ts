/**
 * A fake BambooHR on a real local HTTP server: the employees API (`GET /api/gateway.php/{company}/v1/
 * employees/{id}/`, Basic `<api_key>:x`) answering as BambooHR does, and a webhook sender that signs
 * event bodies the way BambooHR does (HMAC-SHA256 of the raw body followed by the timestamp).
 */
import { createHmac, randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { createServer, type IncomingHttpHeaders } from 'node:http'
import type { AddressInfo } from 'node:net'

const EMPLOYEE_PATH = /^\/api\/gateway\.php\/([^/]+)\/v1\/employees\/([^/]+)\/?$/

/** The employee API fixture as a fresh object. */
export function bambooEmployeeFixture(): Record<string, unknown> {
  return JSON.parse(
    readFileSync(new URL('../fixtures/bamboohr-employee.json', import.meta.url), 'utf8'),
  ) as Record<string, unknown>
}

export interface RecordedBambooRequest {
  method: string
  path: string
  query: URLSearchParams
  headers: IncomingHttpHeaders
}

export interface FakeBambooHr {
  /** The API base URL (the destination's `api_base_url`). */
  url: string
  companyDomain: string
  apiKey: string
  /** The webhook's private key (the destination's `webhook_secret`). */
  webhookSecret: string
  /** Employees by id, answered as they are (only the fields asked for, as BambooHR does). */
  employees: Map<string, Record<string, unknown>>
  requests: RecordedBambooRequest[]
  /** The next `count` employee answers are `status` (default 500). */
  failNext(count: number, status?: number): void
  /** Headers and body of a signed webhook call, as BambooHR sends it. */
  signedEvent(
    event: Record<string, unknown> | string,
    options?: { format?: 'json' | 'form'; at?: number; secret?: string },
  ): { headers: Record<string, string>; payload: string }
  close(): Promise<void>
}

/**
 * @example
 * const bamboo = await startFakeBambooHr()
 * bamboo.employees.set('67890', bambooEmployeeFixture())
 * const { headers, payload } = bamboo.signedEvent({ type: 'employee.created', data: { employeeId: '67890' } })
 */
export async function startFakeBambooHr(options: { companyDomain?: string } = {}): Promise<FakeBambooHr> {
  const companyDomain = options.companyDomain ?? 'acme'
  const apiKey = randomBytes(20).toString('hex')
  const webhookSecret = randomBytes(32).toString('hex')
  const employees = new Map<string, Record<string, unknown>>()
  const requests: RecordedBambooRequest[] = []
  const failures: number[] = []

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://fake')
    requests.push({
      method: req.method ?? '',
      path: url.pathname,
      query: url.searchParams,
      headers: req.headers,
    })
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' })
      res.end(JSON.stringify(body))
    }
    const match = EMPLOYEE_PATH.exec(url.pathname)
    if (req.method !== 'GET' || match === null) return send(404, { error: 'not found' })
    const expected = `Basic ${Buffer.from(`${apiKey}:x`).toString('base64')}`
    // BambooHR answers 401 to a wrong key, and 404 to a company domain that is not this one.
    if (req.headers.authorization !== expected) return send(401, { error: 'Unauthorized' })
    if (decodeURIComponent(match[1] ?? '') !== companyDomain) return send(404, { error: 'Company not found' })
    const failure = failures.shift()
    if (failure !== undefined) return send(failure, { error: 'Service unavailable' })
    const employee = employees.get(decodeURIComponent(match[2] ?? ''))
    if (employee === undefined) return send(404, { error: 'Employee not found' })
    const fields = (url.searchParams.get('fields') ?? '').split(',').filter((name) => name !== '')
    const answer: Record<string, unknown> = { id: employee.id }
    for (const name of fields) answer[name] = employee[name] ?? null
    send(200, answer)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo

  return {
    url: `http://127.0.0.1:${port}`,
    companyDomain,
    apiKey,
    webhookSecret,
    employees,
    requests,
    failNext(count, status = 500) {
      for (let i = 0; i < count; i++) failures.push(status)
    },
    signedEvent(event, sendOptions = {}) {
      const format = sendOptions.format ?? 'json'
      const payload =
        typeof event === 'string' ? event : format === 'json' ? JSON.stringify(event) : formEncode(event)
      const timestamp = String(sendOptions.at ?? Math.floor(Date.now() / 1000))
      const signature = createHmac('sha256', sendOptions.secret ?? webhookSecret)
        .update(payload)
        .update(timestamp)
        .digest('hex')
      return {
        payload,
        headers: {
          'content-type': format === 'json' ? 'application/json' : 'application/x-www-form-urlencoded',
          'x-bamboohr-timestamp': timestamp,
          'x-bamboohr-signature': signature,
        },
      }
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }
}

/** `{"type":"x","data":{"employeeId":"7","changedFields":["a"]}}` → `type=x&data[employeeId]=7&data[changedFields][0]=a`. */
function formEncode(value: Record<string, unknown>): string {
  const pairs: string[] = []
  const walk = (prefix: string, item: unknown) => {
    if (typeof item === 'object' && item !== null) {
      for (const [key, child] of Object.entries(item)) walk(prefix === '' ? key : `${prefix}[${key}]`, child)
    } else pairs.push(`${encodeURIComponent(prefix)}=${encodeURIComponent(String(item))}`)
  }
  walk('', value)
  return pairs.join('&')
}

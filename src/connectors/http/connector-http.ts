/**
 * The one place every connector sends HTTP from: the outbound URL policy (at every connection, after
 * DNS), per-attempt timeouts within an overall deadline, no redirects, bounded answers, and failure
 * reasons short and fixed enough for a tenant to read (status and the vendor's error code, never a
 * body, a header or the socket's own text), with the connector's secrets redacted from all of them.
 *
 * A connector is then a small file of its own calls. A BambooHR client, for example (Basic auth
 * with `<api_key>:x`, a GET of JSON):
 *
 * @example
 * class BambooHrClient {
 *   readonly #http: ConnectorHttp
 *   readonly #authorization: string
 *   constructor(private readonly settings: { apiBaseUrl: string; companyDomain: string; apiKey: string }, policy: OutboundPolicy) {
 *     this.#authorization = basicAuthorization(settings.apiKey, 'x')
 *     // The key and the header made from it never reach a message.
 *     this.#http = new ConnectorHttp({ vendor: 'BambooHR', policy, secrets: [settings.apiKey, this.#authorization], timeoutMs: 5000 })
 *   }
 *   async getEmployee(employeeId: string): Promise<unknown> {
 *     const { apiBaseUrl, companyDomain } = this.settings
 *     const answer = await this.#http.send({
 *       method: 'GET',
 *       url: `${apiBaseUrl}/api/gateway.php/${encodeURIComponent(companyDomain)}/v1/employees/${encodeURIComponent(employeeId)}/?fields=firstName,lastName`,
 *       headers: { authorization: this.#authorization, accept: 'application/json' },
 *     }) // throws OutboundError: 'no answer from BambooHR within 5000 ms', 'could not reach BambooHR (connection refused)', …
 *     if (answer.status !== 200) throw new BambooHrError(this.#http.statusReason(answer)) // 'BambooHR answered 404'
 *     return this.#http.json(answer)
 *   }
 * }
 */
import { isIP, type LookupFunction } from 'node:net'
import { Agent, buildConnector, request } from 'undici'
import { ConnectorError } from '../connector-error.js'
import { AddressNotAllowedError, describeNetworkCause } from './network-cause.js'
import { literalAddress, type OutboundPolicy, type ResolvedAddress, urlProblem } from './outbound-policy.js'
import { vendorErrorCode } from './vendor-error-code.js'

/** What went wrong before a vendor's answer could be read (an answer's status is the client's to judge). */
export type OutboundFailureKind =
  | 'timeout'
  | 'network'
  | 'not_allowed'
  | 'redirect'
  | 'too_large'
  | 'bad_response'

/** A failed attempt; `message` is the fixed reason (`no answer from Zendesk within 5000 ms`), safe for the delivery log. */
export class OutboundError extends ConnectorError<OutboundFailureKind> {}

export interface ConnectorHttpOptions {
  /** The vendor as messages name it: `Zendesk`, `Paylocity`. */
  vendor: string
  policy: OutboundPolicy
  /** Strings that must never reach a message: tokens, secrets, Authorization values (more with remember()). */
  secrets?: Iterable<string>
  /** One attempt (connect, headers and the whole body), default 10000 ms. */
  timeoutMs?: number
  /** The largest answer read, default 4 MiB; a larger one is a failure, not a memory problem. */
  maxBodyBytes?: number
}

export interface OutboundRequest {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE'
  url: string
  headers?: Record<string, string>
  body?: string
  /** `performance.now()` time by which this attempt must be over (what is left of an overall budget). */
  deadline?: number
  /** Who answers, for messages, when not the connector's vendor (`Paylocity token endpoint`). */
  vendor?: string
}

/** A vendor's answer, read whole: status, headers (lower-case names, first value) and body text. */
export interface VendorAnswer {
  status: number
  headers: Record<string, string>
  text: string
  /** Who answered, as messages name it. */
  vendor: string
}

const DEFAULT_TIMEOUT_MS = 10_000
const DEFAULT_MAX_BODY_BYTES = 4 * 1024 * 1024
// Secrets shorter than this are test toys; redacting them would shred every message.
const MIN_SECRET_LENGTH = 6

/** One connection pool per policy: connections are reused across a policy's calls, never across policies. */
const agents = new WeakMap<OutboundPolicy, Agent>()

/**
 * Sends a connector's HTTP calls under the outbound URL policy. One instance per client; it
 * remembers the client's secrets so no message it makes can hold them.
 */
export class ConnectorHttp {
  readonly vendor: string
  readonly #policy: OutboundPolicy
  readonly #timeoutMs: number
  readonly #maxBodyBytes: number
  readonly #secrets = new Set<string>()

  constructor(options: ConnectorHttpOptions) {
    this.vendor = options.vendor
    this.#policy = options.policy
    this.#timeoutMs = positive(options.timeoutMs, DEFAULT_TIMEOUT_MS)
    this.#maxBodyBytes = positive(options.maxBodyBytes, DEFAULT_MAX_BODY_BYTES)
    for (const secret of options.secrets ?? []) this.remember(secret)
  }

  /** Keeps `secret` (and the Basic credentials or bearer token in it) out of every message from now on. */
  remember(secret: string): void {
    if (secret.length < MIN_SECRET_LENGTH) return
    this.#secrets.add(secret)
    const scheme = /^(?:basic|bearer)\s+(\S+)$/i.exec(secret)
    if (scheme?.[1] !== undefined && scheme[1].length >= MIN_SECRET_LENGTH) this.#secrets.add(scheme[1])
  }

  /** `text` with every remembered secret replaced by `[redacted]`. */
  redact(text: string): string {
    let out = text
    for (const secret of this.#secrets) out = out.split(secret).join('[redacted]')
    return out
  }

  /**
   * One attempt. Resolves with any answer that has a status other than 3xx; rejects with an
   * OutboundError for a URL or address the policy refuses (before any byte is sent), a redirect
   * (never followed: it could point anywhere, with our credentials), a timeout, a network failure
   * or an answer larger than the limit.
   */
  async send(spec: OutboundRequest): Promise<VendorAnswer> {
    const vendor = spec.vendor ?? this.vendor
    let url: URL
    try {
      url = new URL(spec.url)
    } catch {
      throw new OutboundError('not_allowed', `the address of ${vendor} is not a valid URL`)
    }
    const problem = urlProblem(this.#policy, url)
    if (problem !== null) {
      const why =
        problem === 'scheme'
          ? 'only https URLs are called'
          : problem === 'credentials'
            ? 'a URL with a user name or password is not called'
            : 'not a public host'
      throw new OutboundError('not_allowed', `the address of ${vendor} is not allowed (${why})`)
    }
    for (const value of Object.values(spec.headers ?? {})) {
      if (/^(?:basic|bearer)\s/i.test(value)) this.remember(value)
    }
    const timeoutMs = this.#attemptTimeout(spec.deadline)
    const signal = AbortSignal.timeout(timeoutMs)
    try {
      const response = await request(url, {
        dispatcher: dispatcherFor(this.#policy),
        method: spec.method,
        headers: spec.headers ?? {},
        body: spec.body ?? null,
        signal,
      })
      const headers = firstValues(response.headers)
      if (response.statusCode >= 300 && response.statusCode < 400) {
        discard(response.body)
        throw new OutboundError(
          'redirect',
          `${vendor} answered ${response.statusCode}, a redirect, which is not followed`,
          response.statusCode,
        )
      }
      // Read under the same signal, so a body that trickles in still ends at the timeout.
      const text = await this.#readBody(response.body, vendor, response.statusCode)
      return { status: response.statusCode, headers, text, vendor }
    } catch (error) {
      if (error instanceof OutboundError) throw error
      if (signal.aborted) {
        throw new OutboundError('timeout', `no answer from ${vendor} within ${timeoutMs} ms`)
      }
      if (error instanceof AddressNotAllowedError || isNotAllowed(error)) {
        throw new OutboundError('not_allowed', `the address of ${vendor} is not allowed (not a public host)`)
      }
      throw new OutboundError('network', `could not reach ${vendor} (${describeNetworkCause(error)})`)
    }
  }

  /**
   * The fixed reason for an answer the client will not use: `Zendesk answered 422 (RecordInvalid)`.
   * Only the status and a short error code, never the body's text.
   */
  statusReason(answer: VendorAnswer): string {
    const code = vendorErrorCode(answer.text, this.#secrets)
    return `${answer.vendor} answered ${answer.status}${code === null ? '' : ` (${code})`}`
  }

  /** The vendor's error code of an answer, or null (see vendorErrorCode). */
  errorCode(answer: VendorAnswer): string | null {
    return vendorErrorCode(answer.text, this.#secrets)
  }

  /** The answer's JSON; an OutboundError('bad_response') when it is not JSON (an empty body is null). */
  json(answer: VendorAnswer): unknown {
    if (answer.text.trim() === '') return null
    try {
      return JSON.parse(answer.text)
    } catch {
      throw new OutboundError(
        'bad_response',
        `${answer.vendor} answered ${answer.status} with a body that is not JSON`,
        answer.status,
      )
    }
  }

  #attemptTimeout(deadline: number | undefined): number {
    const left = deadline === undefined ? this.#timeoutMs : deadline - performance.now()
    // AbortSignal.timeout takes whole milliseconds only.
    return Math.max(1, Math.ceil(Math.min(this.#timeoutMs, left)))
  }

  async #readBody(body: Discardable & AsyncIterable<unknown>, vendor: string, status: number) {
    const chunks: Buffer[] = []
    let size = 0
    for await (const chunk of body) {
      const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk))
      size += buffer.length
      if (size > this.#maxBodyBytes) {
        discard(body)
        throw new OutboundError(
          'too_large',
          `${vendor} answered ${status} with more than ${this.#maxBodyBytes} bytes`,
          status,
        )
      }
      chunks.push(buffer)
    }
    return Buffer.concat(chunks).toString('utf8')
  }
}

/**
 * `Basic base64(user:password)`, for connectors that authenticate that way.
 *
 * @example basicAuthorization(apiKey, 'x') // BambooHR
 */
export function basicAuthorization(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`
}

/**
 * A Retry-After header in milliseconds: seconds, or an HTTP date (proxies in front of a vendor send
 * those); undefined when absent or unreadable.
 *
 * @example retryAfterMs({ 'retry-after': '2' }) // 2000
 */
export function retryAfterMs(headers: Record<string, string>, now = Date.now()): number | undefined {
  const value = headers['retry-after']?.trim()
  if (value === undefined || value === '') return undefined
  if (/^\d+(\.\d+)?$/.test(value)) return Math.round(Number(value) * 1000)
  const at = Date.parse(value)
  return Number.isNaN(at) ? undefined : Math.max(0, at - now)
}

/**
 * The policy's connection pool: every connection, first or reused, to a name or an IP literal, is
 * made only to addresses the policy allows, checked on the addresses the socket actually uses (so
 * a name that resolved to a public address when saved and to a private one now is refused).
 */
function dispatcherFor(policy: OutboundPolicy): Agent {
  const known = agents.get(policy)
  if (known !== undefined) return known
  const lookup: LookupFunction = (hostname, options, callback) => {
    policy.resolve(hostname).then(
      (all) => {
        const wanted = all.filter((a) =>
          options.family !== 4 && options.family !== 6 ? true : a.family === options.family,
        )
        const [first] = wanted
        if (first === undefined) {
          callback(Object.assign(new Error('no address'), { code: 'ENOTFOUND' }), '', 4)
          return
        }
        // One bad address refuses the name: a rebinding answer mixes a public and a private one.
        if (wanted.some(({ address }) => !policy.isAllowedAddress(address))) {
          callback(new AddressNotAllowedError(), '', 4)
          return
        }
        if (options.all === true) {
          ;(callback as (error: null, addresses: ResolvedAddress[]) => void)(null, wanted)
          return
        }
        callback(null, first.address, first.family)
      },
      (error: unknown) => callback(error instanceof Error ? error : new Error(String(error)), '', 4),
    )
  }
  const connect = buildConnector({ lookup, ...(policy.ca === undefined ? {} : { ca: policy.ca }) })
  const agent = new Agent({
    connect(options, callback) {
      // An IP literal never reaches lookup: it is checked here.
      const literal = literalAddress(options.hostname)
      if (literal !== null && isIP(literal) !== 0 && !policy.isAllowedAddress(literal)) {
        callback(new AddressNotAllowedError(), null)
        return
      }
      connect(options, callback)
    },
  })
  agents.set(policy, agent)
  return agent
}

interface Discardable {
  on(event: 'error', listener: () => void): unknown
  destroy(): void
}

/** Drops an answer's body unread; the stream's abort error has nobody to tell. */
function discard(body: Discardable): void {
  body.on('error', () => {})
  body.destroy()
}

function isNotAllowed(error: unknown): boolean {
  let current: unknown = error
  for (let depth = 0; depth < 4 && typeof current === 'object' && current !== null; depth++) {
    if (current instanceof AddressNotAllowedError) return true
    current = (current as { cause?: unknown }).cause
  }
  return false
}

function firstValues(headers: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [name, value] of Object.entries(headers)) {
    const first = Array.isArray(value) ? value[0] : value
    if (first !== undefined) out[name.toLowerCase()] = first
  }
  return out
}

function positive(value: number | undefined, fallback: number): number {
  return value !== undefined && Number.isFinite(value) && value > 0 ? value : fallback
}

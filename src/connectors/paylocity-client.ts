// Paylocity Weblink API client: OAuth2 client-credentials token (cached) and GET employee, mapped for provisioning.

import { createHash } from 'node:crypto'
import { ConnectorError } from './connector-error.js'

export interface PaylocitySettings {
  clientId: string
  clientSecret: string
  tokenUrl?: string
  apiBaseUrl?: string
}

export const DEFAULT_TOKEN_URL = 'https://api.paylocity.com/IdentityServer/connect/token'
export const DEFAULT_API_BASE_URL = 'https://api.paylocity.com'

/** What the service needs of an employee, mapped from Weblink's answer. */
export interface PaylocityEmployee {
  firstName: string | null
  lastName: string | null
  displayName: string | null
  email: string | null
  mobile: string | null
  terminated: boolean
}

export type PaylocityFailureKind = 'auth' | 'not_found' | 'server' | 'timeout' | 'network' | 'bad_response'

/** message says why (for the delivery log) and never contains the client secret or the access token. */
export class PaylocityError extends ConnectorError<PaylocityFailureKind> {}

export interface PaylocityClientOptions {
  /** Per attempt (connect, headers and body), default 10000. */
  timeoutMs?: number
  /** Clock for token expiry, injectable so tests can move time. */
  now?: () => number
}

const DEFAULT_TIMEOUT_MS = 10_000
const SCOPE = 'WebLinkAPI'
// A token is dropped this long before Paylocity says it expires, so a request never starts
// with a token that dies in flight.
const EXPIRY_MARGIN_MS = 60_000
// expires_in is only RECOMMENDED by RFC 6749; without it assume a short life rather than
// keep a token Paylocity may already have retired.
const DEFAULT_EXPIRES_IN_S = 300
// Error bodies are quoted in the delivery log; keep them short.
const MAX_DETAIL_CHARS = 200

interface CachedToken {
  accessToken: string
  expiresAt: number
}

// Module-level so that every client built for the same destination (one per webhook
// delivery) shares one token: Weblink rate-limits token requests like any other call.
const tokenCache = new Map<string, CachedToken>()
// Concurrent deliveries for one destination wait on the same token request.
const tokenInFlight = new Map<string, Promise<CachedToken>>()

/** Forgets every cached token, e.g. after a destination's settings change or between tests. */
export function resetPaylocityTokenCache(): void {
  tokenCache.clear()
  tokenInFlight.clear()
}

function cacheKey(tokenUrl: string, clientId: string, clientSecret: string): string {
  // The secret is hashed so a changed secret gets its own entry without keeping the secret as a map key.
  const secretHash = createHash('sha256').update(clientSecret).digest('hex')
  return `${tokenUrl}\n${clientId}\n${secretHash}`
}

function pruneExpired(now: number): void {
  for (const [key, entry] of tokenCache) {
    if (entry.expiresAt <= now) tokenCache.delete(key)
  }
}

function trimTrailingSlash(url: string): string {
  return url.replace(/\/+$/, '')
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function text(value: unknown): string | null {
  if (typeof value !== 'string') return null
  const trimmed = value.trim()
  return trimmed === '' ? null : trimmed
}

/** Maps Weblink's employee JSON (object or one-element array) to PaylocityEmployee; throws PaylocityError('bad_response') on a shape it cannot read. */
export function mapWeblinkEmployee(body: unknown): PaylocityEmployee {
  let record: unknown = body
  if (Array.isArray(body)) {
    // An empty list is Weblink saying there is no such employee, not a broken answer.
    if (body.length === 0) throw new PaylocityError('not_found', 'Paylocity returned no employee')
    // employeeId is unique within a company, so several records means we cannot tell which one
    // is meant; guessing could change or terminate the wrong person.
    if (body.length > 1) {
      throw new PaylocityError('bad_response', `Paylocity returned ${body.length} employees instead of one`)
    }
    record = body[0]
  }
  if (!isRecord(record)) {
    throw new PaylocityError('bad_response', 'Paylocity returned an employee that is not a JSON object')
  }
  const workAddress = isRecord(record.workAddress) ? record.workAddress : {}
  const homeAddress = isRecord(record.homeAddress) ? record.homeAddress : {}
  const status = isRecord(record.status) ? record.status : {}
  return {
    firstName: text(record.firstName),
    lastName: text(record.lastName),
    displayName: text(record.preferredName),
    email: text(workAddress.emailAddress),
    mobile: text(homeAddress.mobilePhone),
    terminated: text(status.employeeStatus)?.toUpperCase() === 'T',
  }
}

interface HttpAnswer {
  status: number
  body: string
}

export class PaylocityClient {
  readonly #clientId: string
  readonly #clientSecret: string
  readonly #tokenUrl: string
  readonly #apiBaseUrl: string
  readonly #timeoutMs: number
  readonly #now: () => number
  readonly #key: string
  // Strings that must never reach an error message: the secret, the Basic credentials
  // (which encode it) and every access token this client has seen. Only text that comes from
  // outside (ids, Paylocity's bodies, socket errors) is redacted: the client's own wording
  // never holds a secret, and redacting it would mangle messages when a secret is short.
  readonly #secrets = new Set<string>()

  constructor(settings: PaylocitySettings, options: PaylocityClientOptions = {}) {
    this.#clientId = settings.clientId
    this.#clientSecret = settings.clientSecret
    this.#tokenUrl = text(settings.tokenUrl) ?? DEFAULT_TOKEN_URL
    this.#apiBaseUrl = trimTrailingSlash(text(settings.apiBaseUrl) ?? DEFAULT_API_BASE_URL)
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS
    this.#now = options.now ?? Date.now
    this.#key = cacheKey(this.#tokenUrl, this.#clientId, this.#clientSecret)
    this.#remember(this.#clientSecret)
    this.#remember(this.#basicCredentials())
  }

  async getEmployee(companyId: string, employeeId: string): Promise<PaylocityEmployee> {
    // Ids come from a webhook body: encode them so they cannot change the path.
    const url = `${this.#apiBaseUrl}/api/v2/companies/${encodeURIComponent(companyId)}/employees/${encodeURIComponent(employeeId)}`
    // Redacted when used rather than now: the token to hide is not known yet.
    const doing = () => this.#redact(`fetching employee ${employeeId} of company ${companyId}`)
    let refreshedToken = false
    let retriedFailure = false
    for (;;) {
      const token = await this.#token()
      let answer: HttpAnswer
      try {
        answer = await this.#send(url, {
          method: 'GET',
          headers: { authorization: `Bearer ${token.accessToken}`, accept: 'application/json' },
        })
      } catch (err) {
        // A timeout is not retried: the webhook sender is waiting on us and a server that was
        // slow for 10 s is unlikely to be fast on the next try.
        if (err instanceof PaylocityError && err.kind === 'network' && !retriedFailure) {
          retriedFailure = true
          continue
        }
        throw this.#withContext(err, doing())
      }
      const { status } = answer
      if (status >= 200 && status < 300) {
        return mapWeblinkEmployee(this.#parseJson(answer, doing()))
      }
      if (status === 401 && !refreshedToken) {
        // The token may have been revoked or expired early: get a fresh one, once.
        refreshedToken = true
        this.#dropToken(token)
        continue
      }
      if (status >= 500 && !retriedFailure) {
        retriedFailure = true
        continue
      }
      throw this.#statusError(answer, doing())
    }
  }

  #token(): Promise<CachedToken> {
    const cached = tokenCache.get(this.#key)
    if (cached !== undefined && cached.expiresAt > this.#now()) {
      this.#remember(cached.accessToken)
      return Promise.resolve(cached)
    }
    let pending = tokenInFlight.get(this.#key)
    if (pending === undefined) {
      pending = this.#requestToken().finally(() => {
        tokenInFlight.delete(this.#key)
      })
      tokenInFlight.set(this.#key, pending)
    }
    return pending.then((token) => {
      // Another instance may have fetched it; this one must still keep it out of its messages.
      this.#remember(token.accessToken)
      return token
    })
  }

  #dropToken(token: CachedToken): void {
    // Only drop the token that failed: a concurrent caller may already have cached a new one.
    if (tokenCache.get(this.#key)?.accessToken === token.accessToken) tokenCache.delete(this.#key)
  }

  async #requestToken(): Promise<CachedToken> {
    let retried = false
    for (;;) {
      let answer: HttpAnswer
      try {
        answer = await this.#send(this.#tokenUrl, {
          method: 'POST',
          headers: {
            authorization: `Basic ${this.#basicCredentials()}`,
            'content-type': 'application/x-www-form-urlencoded',
            accept: 'application/json',
          },
          body: new URLSearchParams({ grant_type: 'client_credentials', scope: SCOPE }).toString(),
        })
      } catch (err) {
        if (err instanceof PaylocityError && err.kind === 'network' && !retried) {
          retried = true
          continue
        }
        throw this.#withContext(err, 'requesting an access token')
      }
      const { status } = answer
      if (status >= 500 && !retried) {
        retried = true
        continue
      }
      if (status < 200 || status >= 300) {
        if (status >= 500) throw this.#statusError(answer, 'requesting an access token')
        // 400 invalid_client / unauthorized_client / invalid_scope, 401, or a token URL that
        // is not a token endpoint at all: all of them are the destination's settings to fix.
        throw new PaylocityError(
          'auth',
          `Paylocity token endpoint answered ${status} while requesting an access token${this.#detail(answer.body)}`,
          status,
        )
      }
      const body = this.#parseJson(answer, 'requesting an access token')
      const accessToken = isRecord(body) ? text(body.access_token) : null
      if (accessToken === null) {
        throw new PaylocityError(
          'bad_response',
          'Paylocity token endpoint answered without an access_token',
          status,
        )
      }
      this.#remember(accessToken)
      const expiresIn =
        isRecord(body) && typeof body.expires_in === 'number' && Number.isFinite(body.expires_in)
          ? body.expires_in
          : DEFAULT_EXPIRES_IN_S
      const now = this.#now()
      const token: CachedToken = { accessToken, expiresAt: now + expiresIn * 1000 - EXPIRY_MARGIN_MS }
      pruneExpired(now)
      // A token that lives less than the margin still serves the request that asked for it,
      // but is not worth caching.
      if (token.expiresAt > now) tokenCache.set(this.#key, token)
      return token
    }
  }

  async #send(url: string, init: RequestInit): Promise<HttpAnswer> {
    const signal = AbortSignal.timeout(this.#timeoutMs)
    try {
      const response = await fetch(url, { ...init, signal, redirect: 'error' })
      // Reading the body is part of the attempt, so a server that stalls mid-body times out too.
      const body = await response.text()
      return { status: response.status, body }
    } catch (err) {
      if (signal.aborted) {
        throw new PaylocityError('timeout', `no answer from Paylocity within ${this.#timeoutMs} ms`)
      }
      throw new PaylocityError(
        'network',
        `could not reach Paylocity (${this.#redact(describeNetworkError(err))})`,
      )
    }
  }

  #parseJson(answer: HttpAnswer, doing: string): unknown {
    try {
      return JSON.parse(answer.body)
    } catch {
      throw new PaylocityError(
        'bad_response',
        `Paylocity answered invalid JSON while ${doing}`,
        answer.status,
      )
    }
  }

  #statusError(answer: HttpAnswer, doing: string): PaylocityError {
    const { status } = answer
    const kind: PaylocityFailureKind =
      status === 404
        ? 'not_found'
        : status === 401 || status === 403
          ? 'auth'
          : status >= 500 || status === 429
            ? 'server'
            : 'bad_response'
    return new PaylocityError(
      kind,
      `Paylocity answered ${status} while ${doing}${this.#detail(answer.body)}`,
      status,
    )
  }

  #withContext(err: unknown, doing: string): PaylocityError {
    if (err instanceof PaylocityError) {
      return new PaylocityError(err.kind, `${err.message} while ${doing}`, err.status)
    }
    return new PaylocityError('network', `unexpected failure while ${doing}`)
  }

  /** Paylocity's own explanation from an error body, for the delivery log. */
  #detail(body: string): string {
    let message: string | null = null
    try {
      message = errorMessageOf(JSON.parse(body))
    } catch {
      message = text(body)
    }
    if (message === null) return ''
    // Redact before cutting, so a token cut in half cannot slip through as a prefix.
    const clean = this.#redact(message).replace(/\s+/g, ' ')
    return `: ${clean.length > MAX_DETAIL_CHARS ? `${clean.slice(0, MAX_DETAIL_CHARS)}...` : clean}`
  }

  #basicCredentials(): string {
    // RFC 6749 2.3.1: id and secret are form-encoded before Basic; IdentityServer decodes them,
    // which matters because Paylocity secrets can contain '+', '/' and '='.
    const pair = `${encodeURIComponent(this.#clientId)}:${encodeURIComponent(this.#clientSecret)}`
    return Buffer.from(pair).toString('base64')
  }

  #remember(secret: string): void {
    if (secret !== '') this.#secrets.add(secret)
  }

  #redact(message: string): string {
    let out = message
    for (const secret of this.#secrets) out = out.split(secret).join('[redacted]')
    return out
  }
}

/** Weblink errors are a list of {code, message, options}; IdentityServer uses {error, error_description}. */
function errorMessageOf(body: unknown): string | null {
  const first = Array.isArray(body) ? body[0] : body
  if (typeof first === 'string') return text(first)
  if (!isRecord(first)) return null
  const parts = [text(first.error), text(first.error_description), text(first.message), text(first.Message)]
  const found = parts.filter((part): part is string => part !== null)
  return found.length > 0 ? found.join(': ') : null
}

function describeNetworkError(err: unknown): string {
  // undici reports "fetch failed" and keeps the useful part (ECONNREFUSED, ENOTFOUND...) in cause.
  if (err instanceof Error) {
    const cause: unknown = err.cause
    if (isRecord(cause) && typeof cause.code === 'string') return cause.code
    if (cause instanceof Error) return cause.message
    return err.message
  }
  return 'unknown error'
}

// Paylocity Weblink API client: OAuth2 client-credentials token (cached) and GET employee, mapped for provisioning.

import { createHash } from 'node:crypto'
import type { HrEmployee } from '../hr-vendors/hr-employee.js'
import { ConnectorError } from './connector-error.js'
import { type HrApiFailureKind, hrApiKindOfOutbound, hrApiKindOfStatus } from './hr-api-failure.js'
import {
  ConnectorHttp,
  OutboundError,
  type OutboundRequest,
  type VendorAnswer,
} from './http/connector-http.js'
import { type OutboundPolicy, outboundPolicy } from './http/outbound-policy.js'

export interface PaylocitySettings {
  clientId: string
  clientSecret: string
  tokenUrl?: string
  apiBaseUrl?: string
}

export const DEFAULT_TOKEN_URL = 'https://api.paylocity.com/IdentityServer/connect/token'
export const DEFAULT_API_BASE_URL = 'https://api.paylocity.com'

/** What the service needs of an employee, mapped from Weblink's answer. */
export type PaylocityEmployee = HrEmployee

export type PaylocityFailureKind = HrApiFailureKind

/** message says why (for the delivery log) and never contains the client secret or the access token. */
export class PaylocityError extends ConnectorError<PaylocityFailureKind> {}

export interface PaylocityClientOptions {
  /** Per attempt (connect, headers and body), default 10000. */
  timeoutMs?: number
  /** Clock for token expiry, injectable so tests can move time. */
  now?: () => number
  /** Where calls may go; strict (https, public hosts) unless given. */
  policy?: OutboundPolicy
}

const DEFAULT_TIMEOUT_MS = 10_000
const SCOPE = 'WebLinkAPI'
// A token is dropped this long before Paylocity says it expires, so a request never starts
// with a token that dies in flight.
const EXPIRY_MARGIN_MS = 60_000
// expires_in is only RECOMMENDED by RFC 6749; without it assume a short life rather than
// keep a token Paylocity may already have retired.
const DEFAULT_EXPIRES_IN_S = 300
// Ids come from a webhook body and are quoted in messages: enough to recognise one.
const MAX_ID_CHARS = 64

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

export class PaylocityClient {
  readonly #clientId: string
  readonly #clientSecret: string
  readonly #tokenUrl: string
  readonly #apiBaseUrl: string
  readonly #now: () => number
  readonly #key: string
  // Remembers what must never reach a message: the secret, the Basic credentials (which encode
  // it) and every access token this client has seen.
  readonly #http: ConnectorHttp

  constructor(settings: PaylocitySettings, options: PaylocityClientOptions = {}) {
    this.#clientId = settings.clientId
    this.#clientSecret = settings.clientSecret
    this.#tokenUrl = text(settings.tokenUrl) ?? DEFAULT_TOKEN_URL
    this.#apiBaseUrl = trimTrailingSlash(text(settings.apiBaseUrl) ?? DEFAULT_API_BASE_URL)
    this.#now = options.now ?? Date.now
    this.#key = cacheKey(this.#tokenUrl, this.#clientId, this.#clientSecret)
    this.#http = new ConnectorHttp({
      vendor: 'Paylocity',
      policy: options.policy ?? outboundPolicy(),
      secrets: [this.#clientSecret, this.#basicCredentials()],
      timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    })
  }

  async getEmployee(companyId: string, employeeId: string): Promise<PaylocityEmployee> {
    // Ids come from a webhook body: encode them so they cannot change the path.
    const url = `${this.#apiBaseUrl}/api/v2/companies/${encodeURIComponent(companyId)}/employees/${encodeURIComponent(employeeId)}`
    // Redacted when used rather than now: the token to hide is not known yet.
    const doing = () =>
      this.#http.redact(`fetching employee ${clip(employeeId)} of company ${clip(companyId)}`)
    let refreshedToken = false
    let retriedFailure = false
    for (;;) {
      const token = await this.#token()
      let answer: VendorAnswer
      try {
        answer = await this.#send({
          method: 'GET',
          url,
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
      this.#http.remember(cached.accessToken)
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
      this.#http.remember(token.accessToken)
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
      let answer: VendorAnswer
      try {
        answer = await this.#send({
          method: 'POST',
          url: this.#tokenUrl,
          vendor: 'Paylocity token endpoint',
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
          `${this.#http.statusReason(answer)} while requesting an access token`,
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
      this.#http.remember(accessToken)
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

  /** One attempt through the shared plumbing; its failures become PaylocityErrors of the same kind. */
  async #send(request: OutboundRequest): Promise<VendorAnswer> {
    try {
      return await this.#http.send(request)
    } catch (err) {
      if (!(err instanceof OutboundError)) throw err
      const kind = hrApiKindOfOutbound(err.kind)
      throw new PaylocityError(kind, err.message, err.status)
    }
  }

  #parseJson(answer: VendorAnswer, doing: string): unknown {
    try {
      return this.#http.json(answer)
    } catch (err) {
      if (err instanceof OutboundError)
        throw new PaylocityError('bad_response', `${err.message} while ${doing}`, answer.status)
      throw err
    }
  }

  /** Only the status and Paylocity's error code reach the message: its bodies quote the request back. */
  #statusError(answer: VendorAnswer, doing: string): PaylocityError {
    const { status } = answer
    const kind = hrApiKindOfStatus(status)
    return new PaylocityError(kind, `${this.#http.statusReason(answer)} while ${doing}`, status)
  }

  #withContext(err: unknown, doing: string): PaylocityError {
    if (err instanceof PaylocityError) {
      return new PaylocityError(err.kind, `${err.message} while ${doing}`, err.status)
    }
    return new PaylocityError('network', `unexpected failure while ${doing}`)
  }

  #basicCredentials(): string {
    // RFC 6749 2.3.1: id and secret are form-encoded before Basic; IdentityServer decodes them,
    // which matters because Paylocity secrets can contain '+', '/' and '='.
    const pair = `${encodeURIComponent(this.#clientId)}:${encodeURIComponent(this.#clientSecret)}`
    return Buffer.from(pair).toString('base64')
  }
}

/** An id from a webhook body, cut to a length a message can hold. */
function clip(id: string): string {
  return id.length > MAX_ID_CHARS ? `${id.slice(0, MAX_ID_CHARS)}…` : id
}

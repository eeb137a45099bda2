// HTTP client of the Zendesk Support API: requester lookup, ticket creation and comments, with bounded retries.

import { setTimeout as delay } from 'node:timers/promises'
import { ConnectorError } from './connector-error.js'

export interface ZendeskSettings {
  url: string
  email: string
  apiToken: string
}

export type ZendeskFailureKind =
  | 'auth'
  | 'rate_limited'
  | 'server'
  | 'timeout'
  | 'network'
  | 'bad_response'
  | 'rejected'

/** A failed Zendesk call; `message` says why for the delivery log and never contains the token or Authorization header. */
export class ZendeskError extends ConnectorError<ZendeskFailureKind> {}

export interface ZendeskClientOptions {
  /** Per HTTP attempt, default 5000. */
  timeoutMs?: number
  /** Whole call including retries, default 15000 (the webhook must answer within 20 s). */
  budgetMs?: number
  /** Default 4. */
  maxAttempts?: number
  /** Injectable for tests. */
  sleep?: (ms: number) => Promise<void>
}

export interface ZendeskTicketInput {
  subject: string
  body: string
  requesterId: number
  priority: 'urgent' | 'high' | 'normal' | 'low'
  externalId?: string
  tags: string[]
}

const DEFAULT_TIMEOUT_MS = 5000
const DEFAULT_BUDGET_MS = 15000
const DEFAULT_MAX_ATTEMPTS = 4
const BACKOFF_BASE_MS = 250
const BACKOFF_MAX_MS = 4000
// An attempt squeezed into less time than this would only turn a clear failure into a timeout.
const MIN_ATTEMPT_MS = 100
// Zendesk's text goes into the delivery log: enough to act on, not a whole HTML error page.
const MAX_DETAIL_CHARS = 200
// The search answers 100 users a page; an exact address hidden behind more fuzzy matches than this is not worth the wait.
const MAX_SEARCH_PAGES = 5
const LOCAL_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]'])

/** Validates settings shape: url must be https:// (or http://127.0.0.1/localhost for tests) with no path beyond '/', email must look like an email, token non-empty. Returns an error message or null. */
export function validateZendeskSettings(s: Partial<Record<string, unknown>>): string | null {
  const url = s.url
  if (typeof url !== 'string' || url.trim() === '') return 'url is required'
  let parsed: URL
  try {
    parsed = new URL(url.trim())
  } catch {
    return 'url must be an absolute address like https://acme.zendesk.com'
  }
  const local = LOCAL_HOSTS.has(parsed.hostname)
  if (parsed.protocol !== 'https:' && !(parsed.protocol === 'http:' && local)) {
    return 'url must start with https:// (like https://acme.zendesk.com)'
  }
  if (parsed.username !== '' || parsed.password !== '') return 'url must not carry credentials'
  if (parsed.pathname !== '/' || parsed.search !== '' || parsed.hash !== '') {
    return 'url must be the Zendesk address alone, with no path (like https://acme.zendesk.com)'
  }

  const email = s.email
  if (typeof email !== 'string' || email.trim() === '') return 'email is required'
  // ':' would end the Basic user part early and whitespace cannot be in an address.
  if (!/^[^\s@:]+@[^\s@:]+\.[^\s@:]+$/.test(email.trim())) return 'email must be an email address'

  // The storage layer names it api_token (SPEC section 7), the client apiToken: accept both.
  const token = s.apiToken ?? s.api_token
  if (typeof token !== 'string' || token.trim() === '') return 'api_token is required'
  // A control character would let the token break out of the Authorization header.
  if (/[\s\p{Cc}]/u.test(token.trim())) return 'api_token must not contain spaces or control characters'
  return null
}

/** One HTTP attempt's failure, with what the retry loop needs to decide. */
interface AttemptFailure {
  kind: ZendeskFailureKind
  reason: string
  status: number | undefined
  retryable: boolean
  retryAfterMs: number | undefined
}

interface RequestSpec {
  method: 'GET' | 'POST' | 'PUT'
  /** Absolute URL on the configured Zendesk host. */
  url: string
  /** For messages: the path without the query (the query holds a requester's address). */
  label: string
  body?: string
  headers?: Record<string, string>
}

export class ZendeskClient {
  readonly #base: string
  readonly #origin: string
  readonly #authorization: string
  readonly #secrets: string[]
  readonly #timeoutMs: number
  readonly #budgetMs: number
  readonly #maxAttempts: number
  readonly #sleep: (ms: number) => Promise<void>

  constructor(settings: ZendeskSettings, options: ZendeskClientOptions = {}) {
    const invalid = validateZendeskSettings({ ...settings })
    if (invalid !== null) throw new ZendeskError('rejected', `Zendesk settings are invalid: ${invalid}`)
    this.#base = settings.url.trim().replace(/\/+$/, '')
    this.#origin = new URL(this.#base).origin
    const token = settings.apiToken.trim()
    const credentials = Buffer.from(`${settings.email.trim()}/token:${token}`).toString('base64')
    this.#authorization = `Basic ${credentials}`
    // Everything that would reveal the token if it were ever echoed back into a message; a toy token of a
    // few characters (tests only, Zendesk's are 40) would turn every message into confetti, so it is spared.
    this.#secrets = [credentials, token].filter((secret) => secret.length >= 6)
    this.#timeoutMs = positive(options.timeoutMs, DEFAULT_TIMEOUT_MS)
    this.#budgetMs = positive(options.budgetMs, DEFAULT_BUDGET_MS)
    this.#maxAttempts = Math.max(1, Math.floor(positive(options.maxAttempts, DEFAULT_MAX_ATTEMPTS)))
    this.#sleep = options.sleep ?? ((ms) => delay(ms))
  }

  /** Exact, case-insensitive email match among the search results (partial matches are no match); null when none. Never creates a user. */
  async findUserIdByEmail(email: string): Promise<number | null> {
    const wanted = email.trim().toLowerCase()
    if (wanted === '') return null
    const deadline = performance.now() + this.#budgetMs
    let url: string | null =
      `${this.#base}/api/v2/users/search.json?query=${encodeURIComponent(`email:${email.trim()}`)}`
    for (let page = 0; url !== null && page < MAX_SEARCH_PAGES; page++) {
      const answer = await this.#call({ method: 'GET', url, label: 'user search' }, deadline)
      const users = isRecord(answer) ? answer.users : undefined
      if (!Array.isArray(users)) {
        throw new ZendeskError('bad_response', 'Zendesk user search answered without a users list')
      }
      for (const user of users) {
        if (!isRecord(user) || typeof user.email !== 'string') continue
        if (user.email.trim().toLowerCase() !== wanted) continue
        if (!isId(user.id)) {
          throw new ZendeskError('bad_response', 'Zendesk user search answered a user without an id')
        }
        return user.id
      }
      url = isRecord(answer) ? this.#sameOrigin(answer.next_page) : null
    }
    return null
  }

  /** POST /api/v2/tickets.json with header Idempotency-Key: idempotencyKey; returns ticket.id */
  async createTicket(input: ZendeskTicketInput, idempotencyKey: string): Promise<number> {
    if (idempotencyKey.trim() === '') {
      throw new ZendeskError('rejected', 'Zendesk ticket creation needs an idempotency key')
    }
    const ticket: Record<string, unknown> = {
      subject: input.subject,
      comment: { body: input.body },
      requester_id: input.requesterId,
      priority: input.priority,
    }
    if (input.externalId !== undefined) ticket.external_id = input.externalId
    ticket.tags = input.tags
    // Serialized once so every retry sends the very bytes the idempotency key was first used with.
    const body = JSON.stringify({ ticket })
    const answer = await this.#call(
      {
        method: 'POST',
        url: `${this.#base}/api/v2/tickets.json`,
        label: 'ticket creation',
        body,
        headers: { 'Idempotency-Key': idempotencyKey },
      },
      performance.now() + this.#budgetMs,
    )
    const created = isRecord(answer) ? answer.ticket : undefined
    if (!isRecord(created) || !isId(created.id)) {
      throw new ZendeskError('bad_response', 'Zendesk ticket creation answered without a ticket id')
    }
    return created.id
  }

  /** PUT /api/v2/tickets/{id}.json {"ticket":{"comment":{"body"}}} */
  async addComment(ticketId: number, body: string): Promise<void> {
    if (!isId(ticketId)) {
      throw new ZendeskError('rejected', `Zendesk ticket id ${String(ticketId)} is not a ticket id`)
    }
    await this.#call(
      {
        method: 'PUT',
        url: `${this.#base}/api/v2/tickets/${ticketId}.json`,
        label: `comment on ticket ${ticketId}`,
        body: JSON.stringify({ ticket: { comment: { body } } }),
      },
      performance.now() + this.#budgetMs,
    )
  }

  /** Runs attempts until one succeeds, one fails for good, the attempts run out or the budget would be overrun. */
  async #call(spec: RequestSpec, deadline: number): Promise<unknown> {
    let attempt = 0
    for (;;) {
      attempt++
      const remaining = deadline - performance.now()
      // AbortSignal.timeout takes whole milliseconds only.
      const outcome = await this.#attempt(spec, Math.max(1, Math.ceil(Math.min(this.#timeoutMs, remaining))))
      if (!('failure' in outcome)) return outcome.json
      const failure = outcome.failure
      const tries = attempt === 1 ? '' : ` (after ${attempt} attempts)`
      if (!failure.retryable || attempt >= this.#maxAttempts) {
        throw this.#error(
          failure.kind,
          `Zendesk ${spec.label} failed: ${failure.reason}${tries}`,
          failure.status,
        )
      }
      const left = deadline - performance.now()
      if (failure.retryAfterMs !== undefined && failure.retryAfterMs + MIN_ATTEMPT_MS > left) {
        const seconds = Math.ceil(failure.retryAfterMs / 1000)
        // Waiting would overrun the webhook's own deadline: better a clear failure now than a late one.
        throw this.#error(
          failure.kind,
          `Zendesk ${spec.label} failed: ${failure.reason}; Zendesk asks to wait ${seconds} s, more than the time left${tries}`,
          failure.status,
        )
      }
      const wait = failure.retryAfterMs ?? backoff(attempt)
      if (wait + MIN_ATTEMPT_MS > left) {
        throw this.#error(
          failure.kind,
          `Zendesk ${spec.label} failed: ${failure.reason}${tries}; out of time`,
          failure.status,
        )
      }
      await this.#sleep(wait)
    }
  }

  async #attempt(
    spec: RequestSpec,
    timeoutMs: number,
  ): Promise<{ json: unknown } | { failure: AttemptFailure }> {
    const headers: Record<string, string> = {
      Accept: 'application/json',
      Authorization: this.#authorization,
      'User-Agent': 'optimalcloud-webhooks',
      ...spec.headers,
    }
    if (spec.body !== undefined) headers['Content-Type'] = 'application/json'
    let status: number
    let retryAfter: string | null
    let text: string
    try {
      const response = await fetch(spec.url, {
        method: spec.method,
        headers,
        body: spec.body,
        // A redirect would carry the token to wherever Zendesk points; the url setting is fixed instead.
        redirect: 'manual',
        signal: AbortSignal.timeout(timeoutMs),
      })
      status = response.status
      retryAfter = response.headers.get('retry-after')
      // Read under the same signal, so a body that trickles in still ends at the timeout.
      text = await response.text()
    } catch (err) {
      return { failure: transportFailure(err, timeoutMs) }
    }

    if (status >= 200 && status < 300) {
      if (text.trim() === '') return { json: null }
      try {
        return { json: JSON.parse(text) }
      } catch {
        return { failure: fail('bad_response', `HTTP ${status} with a body that is not JSON`, status, false) }
      }
    }
    const detail = errorDetail(text)
    const suffix = detail === '' ? '' : `: ${detail}`
    if (status === 401 || status === 403) {
      return {
        failure: fail('auth', `HTTP ${status}, check the email and API token${suffix}`, status, false),
      }
    }
    if (status === 429) {
      return {
        failure: fail(
          'rate_limited',
          `HTTP 429 rate limited${suffix}`,
          status,
          true,
          parseRetryAfter(retryAfter),
        ),
      }
    }
    if (status >= 500) {
      return { failure: fail('server', `HTTP ${status}${suffix}`, status, true, parseRetryAfter(retryAfter)) }
    }
    if (status >= 300 && status < 400) {
      return {
        failure: fail('bad_response', `HTTP ${status} redirect, check the url setting`, status, false),
      }
    }
    return { failure: fail('rejected', `HTTP ${status}${suffix}`, status, false) }
  }

  /** next_page is an absolute URL: follow it only on the configured host, which is where the token may go. */
  #sameOrigin(next: unknown): string | null {
    if (typeof next !== 'string' || next === '') return null
    try {
      const url = new URL(next, this.#base)
      return url.origin === this.#origin ? url.href : null
    } catch {
      return null
    }
  }

  #error(kind: ZendeskFailureKind, message: string, status: number | undefined): ZendeskError {
    let safe = message
    for (const secret of this.#secrets) safe = safe.split(secret).join('[redacted]')
    return new ZendeskError(kind, safe, status)
  }
}

function fail(
  kind: ZendeskFailureKind,
  reason: string,
  status: number | undefined,
  retryable: boolean,
  retryAfterMs?: number,
): AttemptFailure {
  return { kind, reason, status, retryable, retryAfterMs }
}

function transportFailure(err: unknown, timeoutMs: number): AttemptFailure {
  const name = err instanceof Error ? err.name : ''
  if (name === 'TimeoutError' || name === 'AbortError') {
    return fail('timeout', `no answer within ${Math.round(timeoutMs)} ms`, undefined, true)
  }
  // undici reports "fetch failed" and keeps the useful part (ECONNREFUSED, ENOTFOUND...) in the cause.
  const cause = err instanceof Error ? err.cause : undefined
  let why = err instanceof Error ? err.message : String(err)
  if (isRecord(cause)) {
    if (typeof cause.code === 'string') why = cause.code
    else if (typeof cause.message === 'string') why = cause.message
  }
  return fail('network', `network error (${truncate(why)})`, undefined, true)
}

/** Retry-After is seconds for Zendesk; an HTTP date is accepted too since proxies in front may send one. */
function parseRetryAfter(value: string | null): number | undefined {
  if (value === null || value.trim() === '') return undefined
  const trimmed = value.trim()
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000)
  const at = Date.parse(trimmed)
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now())
}

/** Exponential with jitter, so several instances retrying after one outage do not hit Zendesk in step. */
function backoff(attempt: number): number {
  const ceiling = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** (attempt - 1))
  return Math.round(ceiling / 2 + Math.random() * (ceiling / 2))
}

/** Zendesk's own words from an error body: {"error","description","details"} or {"error":{"title","message"}}. */
function errorDetail(text: string): string {
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch {
    return truncate(text)
  }
  if (!isRecord(parsed)) return truncate(text)
  const parts: string[] = []
  const error = parsed.error
  if (typeof error === 'string') parts.push(error)
  else if (isRecord(error)) {
    if (typeof error.title === 'string') parts.push(error.title)
    if (typeof error.message === 'string') parts.push(error.message)
  }
  if (typeof parsed.description === 'string') parts.push(parsed.description)
  if (isRecord(parsed.details)) {
    for (const entries of Object.values(parsed.details)) {
      if (!Array.isArray(entries)) continue
      for (const entry of entries) {
        if (isRecord(entry) && typeof entry.description === 'string') parts.push(entry.description)
      }
    }
  }
  return truncate(parts.length > 0 ? parts.join('; ') : text)
}

function truncate(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim()
  return flat.length > MAX_DETAIL_CHARS ? `${flat.slice(0, MAX_DETAIL_CHARS - 1)}…` : flat
}

function positive(value: number | undefined, fallback: number): number {
  return value !== undefined && Number.isFinite(value) && value > 0 ? value : fallback
}

function isId(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value > 0
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

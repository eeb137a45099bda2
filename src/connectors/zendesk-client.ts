// HTTP client of the Zendesk Support API: requester lookup, ticket creation and comments, with bounded retries.

import { setTimeout as delay } from 'node:timers/promises'
import { ConnectorError } from './connector-error.js'
import {
  ConnectorHttp,
  OutboundError,
  type OutboundRequest,
  retryAfterMs,
  type VendorAnswer,
} from './http/connector-http.js'
import { type OutboundPolicy, outboundPolicy } from './http/outbound-policy.js'

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
  /** The url is not an https URL of a public host (the outbound URL policy); never sent. */
  | 'not_allowed'

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
  /** Where calls may go; strict (https, public hosts) unless given. */
  policy?: OutboundPolicy
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
// The search answers 100 users a page; an exact address hidden behind more fuzzy matches than this is not worth the wait.
const MAX_SEARCH_PAGES = 5
// The newest comments are enough to find one this client just added.
const COMMENTS_PAGE = 100

/**
 * What is wrong with a Zendesk url's shape (absolute http(s), no credentials, no path), or null.
 * Whether it may be called is the outbound URL policy's to say.
 *
 * @example zendeskUrlProblem('https://acme.zendesk.com/api/v2') // 'url must be the Zendesk address alone, …'
 */
export function zendeskUrlProblem(url: unknown): string | null {
  if (typeof url !== 'string' || url.trim() === '') return 'url is required'
  let parsed: URL
  try {
    parsed = new URL(url.trim())
  } catch {
    return 'url must be an absolute address like https://acme.zendesk.com'
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') {
    return 'url must be an https URL of a public host'
  }
  if (parsed.username !== '' || parsed.password !== '') return 'url must not carry credentials'
  if (parsed.pathname !== '/' || parsed.search !== '' || parsed.hash !== '') {
    return 'url must be the Zendesk address alone, with no path (like https://acme.zendesk.com)'
  }
  return null
}

/**
 * Validates the settings' shape: url an absolute http(s) address with no path beyond '/' and no
 * credentials, email like an email, token non-empty. Whether the url may be called (https, a public
 * host) is the outbound URL policy's to say (checkOutboundUrl when saved, the client when calling).
 * Returns an error message or null.
 */
export function validateZendeskSettings(s: Partial<Record<string, unknown>>): string | null {
  const invalidUrl = zendeskUrlProblem(s.url)
  if (invalidUrl !== null) return invalidUrl

  const email = s.email
  if (typeof email !== 'string' || email.trim() === '') return 'email is required'
  // ':' would end the Basic user part early and whitespace cannot be in an address.
  if (!/^[^\s@:]+@[^\s@:]+\.[^\s@:]+$/.test(email.trim())) return 'email must be an email address'

  // The storage layer names it api_token, the client apiToken: accept both.
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

type Outcome = { json: unknown } | { failure: AttemptFailure }

interface RequestSpec {
  method: 'GET' | 'POST' | 'PUT'
  /** Absolute URL on the configured Zendesk host. */
  url: string
  /** For messages: what the call does, never its query (which holds a requester's address). */
  label: string
  body?: string
  headers?: Record<string, string>
}

export class ZendeskClient {
  readonly #base: string
  readonly #origin: string
  readonly #authorization: string
  readonly #http: ConnectorHttp
  readonly #budgetMs: number
  readonly #maxAttempts: number
  readonly #sleep: (ms: number) => Promise<void>

  constructor(settings: ZendeskSettings, options: ZendeskClientOptions = {}) {
    const invalid = validateZendeskSettings({ ...settings })
    if (invalid !== null) throw new ZendeskError('rejected', `Zendesk settings are invalid: ${invalid}`)
    this.#base = settings.url.trim().replace(/\/+$/, '')
    this.#origin = new URL(this.#base).origin
    // Whether the url may be called is checked on each call (after DNS), so every refusal reads alike.
    const policy = options.policy ?? outboundPolicy()
    const token = settings.apiToken.trim()
    const credentials = Buffer.from(`${settings.email.trim()}/token:${token}`).toString('base64')
    this.#authorization = `Basic ${credentials}`
    this.#http = new ConnectorHttp({
      vendor: 'Zendesk',
      policy,
      // Everything that would reveal the token if it were ever echoed back into a message.
      secrets: [token, this.#authorization],
      timeoutMs: positive(options.timeoutMs, DEFAULT_TIMEOUT_MS),
    })
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

  /**
   * Adds a comment to a ticket: `PUT /api/v2/tickets/{id}.json {"ticket":{"comment":{"body"}}}`, made
   * safe to retry. Zendesk has no idempotency key for updates, so each PUT carries the ticket's
   * `updated_at` as `updated_stamp` with `safe_update`: Zendesk applies it only if the ticket has
   * not changed since (else 409), so two PUTs sent against one stamp cannot both land. When an
   * answer is lost (timeout, dropped connection, 5xx) or Zendesk answers 409, the ticket's newest
   * comments are read before trying again, and the call ends there if this comment has landed.
   */
  async addComment(ticketId: number, body: string): Promise<void> {
    if (!isId(ticketId)) {
      throw new ZendeskError('rejected', `Zendesk ticket id ${String(ticketId)} is not a ticket id`)
    }
    const deadline = performance.now() + this.#budgetMs
    const label = `comment on ticket ${ticketId}`
    let since: number | undefined
    for (let attempt = 1; ; attempt++) {
      // The stamp is read before the comments, so comments missing at (or after) it are missing from it.
      const stamp = await this.#updatedStamp(ticketId, deadline)
      since ??= Date.parse(stamp)
      if (attempt > 1 && (await this.#hasComment(ticketId, body, since, deadline))) return
      const outcome = await this.#attempt(
        {
          method: 'PUT',
          url: `${this.#base}/api/v2/tickets/${ticketId}.json`,
          label,
          body: JSON.stringify({ ticket: { comment: { body }, safe_update: true, updated_stamp: stamp } }),
        },
        deadline,
      )
      if (!('failure' in outcome)) return
      const { failure } = outcome
      // 409: the ticket changed since the stamp, perhaps by this very comment: look, then try again.
      const conflict = failure.status === 409
      await this.#pauseBeforeRetry(
        conflict ? { ...failure, retryable: true, retryAfterMs: 0 } : failure,
        attempt,
        label,
        deadline,
      )
    }
  }

  /** The ticket's `updated_at`, the stamp a safe update is made against. */
  async #updatedStamp(ticketId: number, deadline: number): Promise<string> {
    const answer = await this.#call(
      {
        method: 'GET',
        url: `${this.#base}/api/v2/tickets/${ticketId}.json`,
        label: `reading ticket ${ticketId}`,
      },
      deadline,
    )
    const ticket = isRecord(answer) ? answer.ticket : undefined
    const stamp = isRecord(ticket) ? ticket.updated_at : undefined
    if (typeof stamp !== 'string' || Number.isNaN(Date.parse(stamp))) {
      throw new ZendeskError('bad_response', `Zendesk answered ticket ${ticketId} without updated_at`)
    }
    return stamp
  }

  /** Whether a comment with this body was added to the ticket at or after `since` (ms). */
  async #hasComment(ticketId: number, body: string, since: number, deadline: number): Promise<boolean> {
    const answer = await this.#call(
      {
        method: 'GET',
        url: `${this.#base}/api/v2/tickets/${ticketId}/comments.json?sort_order=desc&per_page=${COMMENTS_PAGE}`,
        label: `reading the comments of ticket ${ticketId}`,
      },
      deadline,
    )
    const comments = isRecord(answer) ? answer.comments : undefined
    if (!Array.isArray(comments)) {
      throw new ZendeskError(
        'bad_response',
        `Zendesk answered the comments of ticket ${ticketId} without a list`,
      )
    }
    const wanted = normalizeComment(body)
    return comments.some((comment) => {
      if (!isRecord(comment) || typeof comment.body !== 'string') return false
      const created = typeof comment.created_at === 'string' ? Date.parse(comment.created_at) : Number.NaN
      // Zendesk stamps to the second: a comment of the stamp's own second may be this one.
      return normalizeComment(comment.body) === wanted && !(created < since)
    })
  }

  /** Runs attempts until one succeeds, one fails for good, the attempts run out or the budget would be overrun. */
  async #call(spec: RequestSpec, deadline: number): Promise<unknown> {
    for (let attempt = 1; ; attempt++) {
      const outcome = await this.#attempt(spec, deadline)
      if (!('failure' in outcome)) return outcome.json
      await this.#pauseBeforeRetry(outcome.failure, attempt, spec.label, deadline)
    }
  }

  /** Throws the failure when it is final (or waiting would overrun the budget); else waits before the next attempt. */
  async #pauseBeforeRetry(
    failure: AttemptFailure,
    attempt: number,
    label: string,
    deadline: number,
  ): Promise<void> {
    const tries = attempt === 1 ? '' : ` (after ${attempt} attempts)`
    const what = `${failure.reason} during ${label}`
    if (!failure.retryable || attempt >= this.#maxAttempts) {
      throw this.#error(failure.kind, `${what}${tries}`, failure.status)
    }
    const left = deadline - performance.now()
    if (failure.retryAfterMs !== undefined && failure.retryAfterMs + MIN_ATTEMPT_MS > left) {
      const seconds = Math.ceil(failure.retryAfterMs / 1000)
      // Waiting would overrun the webhook's own deadline: better a clear failure now than a late one.
      throw this.#error(
        failure.kind,
        `${what}; Zendesk asks to wait ${seconds} s, more than the time left${tries}`,
        failure.status,
      )
    }
    const wait = failure.retryAfterMs ?? backoff(attempt)
    if (wait + MIN_ATTEMPT_MS > left) {
      throw this.#error(failure.kind, `${what}${tries}; out of time`, failure.status)
    }
    if (wait > 0) await this.#sleep(wait)
  }

  async #attempt(spec: RequestSpec, deadline: number): Promise<Outcome> {
    const headers: Record<string, string> = {
      Accept: 'application/json',
      Authorization: this.#authorization,
      'User-Agent': 'optimalcloud-webhooks',
      ...spec.headers,
    }
    if (spec.body !== undefined) headers['Content-Type'] = 'application/json'
    const request: OutboundRequest = { method: spec.method, url: spec.url, headers, deadline }
    if (spec.body !== undefined) request.body = spec.body
    let answer: VendorAnswer
    try {
      answer = await this.#http.send(request)
    } catch (error) {
      if (error instanceof OutboundError) return { failure: outboundFailure(error) }
      throw error
    }
    const { status } = answer
    if (status >= 200 && status < 300) {
      try {
        return { json: this.#http.json(answer) }
      } catch (error) {
        if (error instanceof OutboundError) return { failure: outboundFailure(error) }
        throw error
      }
    }
    // Only the status and Zendesk's error code: its descriptions quote the request back.
    const reason = this.#http.statusReason(answer)
    if (status === 401 || status === 403) return { failure: fail('auth', reason, status, false) }
    const wait = retryAfterMs(answer.headers)
    if (status === 429) return { failure: fail('rate_limited', reason, status, true, wait) }
    if (status >= 500) return { failure: fail('server', reason, status, true, wait) }
    return { failure: fail('rejected', reason, status, false) }
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
    return new ZendeskError(kind, this.#http.redact(message), status)
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

/** A failure before any answer could be used: lost answers are worth another try, refusals are not. */
function outboundFailure(error: OutboundError): AttemptFailure {
  switch (error.kind) {
    case 'timeout':
      return fail('timeout', error.message, undefined, true)
    case 'network':
      return fail('network', error.message, undefined, true)
    case 'not_allowed':
      return fail('not_allowed', error.message, undefined, false)
    default:
      return fail('bad_response', error.message, error.status, false)
  }
}

/** Exponential with jitter, so several instances retrying after one outage do not hit Zendesk in step. */
function backoff(attempt: number): number {
  const ceiling = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** (attempt - 1))
  return Math.round(ceiling / 2 + Math.random() * (ceiling / 2))
}

/** Zendesk keeps a comment's text as sent, give or take line endings and surrounding blanks. */
function normalizeComment(text: string): string {
  return text
    .replace(/\r\n?/g, '\n')
    .split('\n')
    .map((line) => line.trimEnd())
    .join('\n')
    .trim()
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

// A local HTTP server that answers like Zendesk's Support API (users search, tickets, comments, safe updates), with programmable faults.
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http'
import { createServer as createTlsServer } from 'node:https'
import type { AddressInfo } from 'node:net'
import { setTimeout as delay } from 'node:timers/promises'

export interface FakeZendeskUser {
  id: number
  name: string
  email: string
  role?: string
  organization_id?: number | null
  active?: boolean
}

export interface FakeZendeskTicket {
  id: number
  url: string
  subject: string
  description: string
  priority: string | null
  status: string
  requester_id: number
  external_id: string | null
  tags: string[]
  created_at: string
  /** Changes with every update, to the second like Zendesk's: the stamp safe updates are made against. */
  updated_at: string
  /** Every comment in order; the first is the description. Not part of Zendesk's ticket JSON. */
  comments: FakeZendeskComment[]
}

export interface FakeZendeskComment {
  id: number
  body: string
  public: boolean
  created_at: string
}

export interface RecordedRequest {
  method: string
  /** Path and query as received, e.g. /api/v2/users/search.json?query=email%3Ax */
  path: string
  headers: IncomingHttpHeaders
  body: string
}

export type FakeZendeskFault =
  /** 429 with Retry-After (seconds) and the rate-limit headers Zendesk sends. */
  | { kind: 'rate_limited'; retryAfterSeconds?: number }
  /** A 5xx, 500 unless told; Retry-After when given (Zendesk sends one with 503 during maintenance). */
  | { kind: 'server_error'; status?: number; retryAfterSeconds?: number }
  /** Handles the request normally but answers only after delayMs, like a slow Zendesk that did the work. */
  | { kind: 'slow'; delayMs: number }
  /** 401 whatever the credentials. */
  | { kind: 'unauthorized' }
  /** Closes the connection without answering. */
  | { kind: 'drop' }
  /** Any status and JSON body, for the cases above do not cover. */
  | { kind: 'answer'; status: number; body: unknown; headers?: Record<string, string> }

export interface FakeZendeskOptions {
  email?: string
  apiToken?: string
  users?: FakeZendeskUser[]
  /** Id of the first ticket created; ids then increase by one. */
  firstTicketId?: number
  /** Search page size, 100 like Zendesk unless a test wants to see pagination. */
  pageSize?: number
  /** Serve https with this key and certificate (test/helpers/test-tls.ts) instead of plain http. */
  tls?: { key: string; cert: string }
}

export interface FakeZendesk {
  /** Base URL, e.g. http://127.0.0.1:54321 (https with the tls option) */
  url: string
  port: number
  email: string
  apiToken: string
  users: FakeZendeskUser[]
  tickets: Map<number, FakeZendeskTicket>
  requests: RecordedRequest[]
  /** Queues a fault for the next `times` requests (of `method` only, when given), after those already queued. */
  failNext(fault: FakeZendeskFault, times?: number, method?: string): void
  /** TCP connections accepted so far (a refused call must not even connect). */
  connections(): number
  /** Forgets recorded requests and queued faults; keeps users, tickets and idempotency keys. */
  reset(): void
  close(): Promise<void>
}

interface StoredAnswer {
  body: string
  status: number
  payload: unknown
  location: string
}

type Answer = { status: number; body: unknown; headers?: Record<string, string> }

const PRIORITIES = new Set(['urgent', 'high', 'normal', 'low'])

export async function startFakeZendesk(opts: FakeZendeskOptions = {}): Promise<FakeZendesk> {
  const email = opts.email ?? 'agent@example.com'
  const apiToken = opts.apiToken ?? 'fake-zendesk-token-0123456789'
  const expectedAuth = `Basic ${Buffer.from(`${email}/token:${apiToken}`).toString('base64')}`
  const users = opts.users ?? []
  const tickets = new Map<number, FakeZendeskTicket>()
  const requests: RecordedRequest[] = []
  const faults: { fault: FakeZendeskFault; method: string | undefined }[] = []
  let connections = 0
  let nextCommentId = 1
  const idempotency = new Map<string, StoredAnswer>()
  const pageSize = opts.pageSize ?? 100
  let nextTicketId = opts.firstTicketId ?? 35437
  let baseUrl = ''

  const listener = (req: IncomingMessage, res: ServerResponse): void => {
    handle(req, res).catch(() => {
      if (!res.headersSent) send(res, { status: 500, body: { error: 'InternalError' } })
      else res.destroy()
    })
  }
  const server = opts.tls === undefined ? createServer(listener) : createTlsServer(opts.tls, listener)

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readBody(req)
    const method = req.method ?? 'GET'
    const path = req.url ?? '/'
    requests.push({ method, path, headers: req.headers, body })

    const queued = faults.findIndex((f) => f.method === undefined || f.method === method)
    const fault = queued < 0 ? undefined : faults.splice(queued, 1)[0]?.fault
    if (fault?.kind === 'drop') {
      req.socket.destroy()
      return
    }
    if (fault !== undefined && fault.kind !== 'slow') {
      send(res, faultAnswer(fault))
      return
    }
    const answer = route(method, path, req.headers, body)
    if (fault?.kind === 'slow') {
      await delay(fault.delayMs)
      // The client may have given up meanwhile; the work is done either way, as with a slow Zendesk.
      if (res.destroyed || req.socket.destroyed) return
    }
    send(res, answer)
  }

  function route(method: string, path: string, headers: IncomingHttpHeaders, body: string): Answer {
    if (headers.authorization !== expectedAuth) {
      return { status: 401, body: { error: "Couldn't authenticate you" } }
    }
    const url = new URL(path, 'http://fake')
    if (method === 'GET' && url.pathname === '/api/v2/users/search.json') return searchUsers(url)
    if (method === 'POST' && url.pathname === '/api/v2/tickets.json') return createTicket(headers, body)
    const match = /^\/api\/v2\/tickets\/(\d+)\.json$/.exec(url.pathname)
    if (method === 'GET' && match?.[1] !== undefined) return showTicket(Number(match[1]))
    if (method === 'PUT' && match?.[1] !== undefined) return updateTicket(Number(match[1]), body)
    const comments = /^\/api\/v2\/tickets\/(\d+)\/comments\.json$/.exec(url.pathname)
    if (method === 'GET' && comments?.[1] !== undefined) return listComments(Number(comments[1]), url)
    return { status: 404, body: { error: 'InvalidEndpoint', description: 'Not found' } }
  }

  function searchUsers(url: URL): Answer {
    const query = (url.searchParams.get('query') ?? '').trim()
    // Zendesk's search is fuzzy: `email:x` finds every address that contains x, so callers must filter.
    const term = query
      .replace(/^email:/i, '')
      .replace(/^"(.*)"$/, '$1')
      .toLowerCase()
    const matches =
      term === ''
        ? []
        : users.filter((u) => u.email.toLowerCase().includes(term) || u.name.toLowerCase().includes(term))
    const page = Math.max(1, Number(url.searchParams.get('page') ?? '1') || 1)
    const perPage = Math.max(1, Number(url.searchParams.get('per_page') ?? String(pageSize)) || pageSize)
    const slice = matches.slice((page - 1) * perPage, page * perPage)
    const pageUrl = (n: number): string => {
      const next = new URL(`${baseUrl}/api/v2/users/search.json`)
      next.searchParams.set('query', query)
      next.searchParams.set('page', String(n))
      next.searchParams.set('per_page', String(perPage))
      return next.href
    }
    return {
      status: 200,
      body: {
        users: slice.map(userJson),
        next_page: page * perPage < matches.length ? pageUrl(page + 1) : null,
        previous_page: page > 1 ? pageUrl(page - 1) : null,
        count: matches.length,
      },
    }
  }

  function createTicket(headers: IncomingHttpHeaders, body: string): Answer {
    const parsed = parseJson(body)
    const key = headerValue(headers['idempotency-key'])
    if (key !== undefined) {
      const stored = idempotency.get(key)
      if (stored !== undefined) {
        // Zendesk compares the request parameters, not the bytes; comparing the parsed JSON is close enough.
        if (JSON.stringify(parseJson(stored.body)) !== JSON.stringify(parsed)) {
          return {
            status: 400,
            body: {
              error: 'IdempotentRequestError',
              description: "Request parameters don't match the original request for this Idempotency-Key",
            },
          }
        }
        return {
          status: stored.status,
          body: stored.payload,
          headers: { Location: stored.location, 'x-idempotency-lookup': 'hit' },
        }
      }
    }

    const ticket = isRecord(parsed) ? parsed.ticket : undefined
    if (!isRecord(ticket)) return invalid('ticket', 'Ticket: is required')
    const comment = ticket.comment
    const description = isRecord(comment) && typeof comment.body === 'string' ? comment.body : ''
    if (description.trim() === '') return invalid('description', 'Description: cannot be blank')
    const requesterId = ticket.requester_id
    if (typeof requesterId !== 'number' || !users.some((u) => u.id === requesterId)) {
      return invalid('requester', 'Requester: is invalid')
    }
    const priority = ticket.priority
    if (
      priority !== undefined &&
      priority !== null &&
      (typeof priority !== 'string' || !PRIORITIES.has(priority))
    ) {
      return invalid('priority', 'Priority: is invalid')
    }
    const id = nextTicketId++
    const now = stamp()
    const stored: FakeZendeskTicket = {
      id,
      url: `${baseUrl}/api/v2/tickets/${id}.json`,
      subject:
        typeof ticket.subject === 'string' && ticket.subject !== ''
          ? ticket.subject
          : description.slice(0, 80),
      description,
      priority: typeof priority === 'string' ? priority : null,
      status: 'new',
      requester_id: requesterId,
      external_id: typeof ticket.external_id === 'string' ? ticket.external_id : null,
      tags: Array.isArray(ticket.tags) ? ticket.tags.filter((t): t is string => typeof t === 'string') : [],
      created_at: now,
      updated_at: now,
      comments: [
        {
          id: nextCommentId++,
          body: description,
          public: isRecord(comment) ? comment.public !== false : true,
          created_at: now,
        },
      ],
    }
    tickets.set(id, stored)
    const payload = { ticket: ticketJson(stored) }
    const location = stored.url
    if (key !== undefined) idempotency.set(key, { body, status: 201, payload, location })
    const answerHeaders: Record<string, string> = { Location: location }
    if (key !== undefined) answerHeaders['x-idempotency-lookup'] = 'miss'
    return { status: 201, body: payload, headers: answerHeaders }
  }

  function showTicket(id: number): Answer {
    const stored = tickets.get(id)
    if (stored === undefined)
      return { status: 404, body: { error: 'RecordNotFound', description: 'Not found' } }
    return { status: 200, body: { ticket: ticketJson(stored) } }
  }

  /**
   * PUT a ticket. With `safe_update` and `updated_stamp`, Zendesk applies the update only if the
   * ticket's updated_at is still the stamp, else 409 UpdateConflict (its collision protection).
   */
  function updateTicket(id: number, body: string): Answer {
    const stored = tickets.get(id)
    if (stored === undefined) {
      return { status: 404, body: { error: 'RecordNotFound', description: 'Not found' } }
    }
    const parsed = parseJson(body)
    const ticket = isRecord(parsed) ? parsed.ticket : undefined
    const safe = isRecord(ticket) && (ticket.safe_update === true || ticket.safe_update === 'true')
    if (safe && isRecord(ticket) && typeof ticket.updated_stamp === 'string') {
      if (Date.parse(ticket.updated_stamp) !== Date.parse(stored.updated_at)) {
        return {
          status: 409,
          body: {
            error: 'UpdateConflict',
            description:
              'Safe Update prevented the update due to outdated ticket data. Please fetch the latest ticket data and try again.',
          },
        }
      }
    }
    const comment = isRecord(ticket) ? ticket.comment : undefined
    const now = stamp()
    if (isRecord(comment) && typeof comment.body === 'string' && comment.body.trim() !== '') {
      stored.comments.push({
        id: nextCommentId++,
        body: comment.body,
        public: comment.public !== false,
        created_at: now,
      })
    }
    stored.updated_at = now
    return {
      status: 200,
      body: { ticket: ticketJson(stored), audit: { ticket_id: id, created_at: now } },
    }
  }

  /** GET /api/v2/tickets/{id}/comments.json: oldest first unless sort_order=desc, 100 a page. */
  function listComments(id: number, url: URL): Answer {
    const stored = tickets.get(id)
    if (stored === undefined)
      return { status: 404, body: { error: 'RecordNotFound', description: 'Not found' } }
    const ordered =
      url.searchParams.get('sort_order') === 'desc' ? [...stored.comments].reverse() : stored.comments
    const perPage = Math.min(100, Math.max(1, Number(url.searchParams.get('per_page') ?? '100') || 100))
    return {
      status: 200,
      body: {
        comments: ordered.slice(0, perPage).map((c) => ({
          id: c.id,
          type: 'Comment',
          author_id: 1,
          body: c.body,
          plain_body: c.body,
          public: c.public,
          created_at: c.created_at,
        })),
        next_page: null,
        previous_page: null,
        count: stored.comments.length,
      },
    }
  }

  function faultAnswer(fault: Exclude<FakeZendeskFault, { kind: 'slow' } | { kind: 'drop' }>): Answer {
    switch (fault.kind) {
      case 'rate_limited':
        return {
          status: 429,
          body: {
            error: 'APIRateLimitExceeded',
            description: 'Number of allowed API requests per minute exceeded',
          },
          headers: {
            'Retry-After': String(fault.retryAfterSeconds ?? 1),
            'X-Rate-Limit': '700',
            'X-Rate-Limit-Remaining': '0',
          },
        }
      case 'server_error': {
        const headers: Record<string, string> = {}
        if (fault.retryAfterSeconds !== undefined) headers['Retry-After'] = String(fault.retryAfterSeconds)
        // Zendesk's 5xx pages are not always JSON: the client must cope with plain text.
        return { status: fault.status ?? 500, body: 'Internal Server Error', headers }
      }
      case 'unauthorized':
        return { status: 401, body: { error: "Couldn't authenticate you" } }
      case 'answer':
        return fault.headers === undefined
          ? { status: fault.status, body: fault.body }
          : { status: fault.status, body: fault.body, headers: fault.headers }
    }
  }

  server.on('connection', () => {
    connections++
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve())
  })
  const address = server.address() as AddressInfo
  baseUrl = `${opts.tls === undefined ? 'http' : 'https'}://127.0.0.1:${address.port}`

  return {
    url: baseUrl,
    port: address.port,
    email,
    apiToken,
    users,
    tickets,
    requests,
    failNext(fault, times = 1, method) {
      for (let i = 0; i < times; i++) faults.push({ fault, method })
    },
    connections: () => connections,
    reset() {
      requests.length = 0
      faults.length = 0
    },
    close() {
      return new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      })
    },
  }
}

/** Now, to the second, as Zendesk writes its times. */
function stamp(): string {
  return new Date().toISOString().replace(/\.\d{3}Z$/, 'Z')
}

function send(res: ServerResponse, answer: Answer): void {
  if (res.destroyed) return
  const text = typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body)
  const type =
    typeof answer.body === 'string' ? 'text/plain; charset=utf-8' : 'application/json; charset=utf-8'
  res.writeHead(answer.status, { 'Content-Type': type, ...answer.headers })
  res.end(text)
}

function invalid(field: string, description: string): Answer {
  return {
    status: 422,
    body: {
      error: 'RecordInvalid',
      description: 'Record validation errors',
      details: { [field]: [{ description, error: 'InvalidValue' }] },
    },
  }
}

function userJson(u: FakeZendeskUser): Record<string, unknown> {
  return {
    id: u.id,
    name: u.name,
    email: u.email,
    role: u.role ?? 'end-user',
    organization_id: u.organization_id ?? null,
    active: u.active ?? true,
  }
}

function ticketJson(t: FakeZendeskTicket): Record<string, unknown> {
  const { comments: _comments, ...json } = t
  return json
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of req) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)))
  return Buffer.concat(chunks).toString('utf8')
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    return undefined
  }
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

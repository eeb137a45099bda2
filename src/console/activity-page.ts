/** The Activity tab: the delivery log of webhook calls, newest first, and one entry's details. */
import type { FastifyInstance, FastifyReply } from 'fastify'
import { listRefusedCalls, type RefusedCount } from '../auth/refused-calls.js'
import { type DeliveryFilters, pageDeliveries, readDelivery } from '../deliveries/deliveries.js'
import { type DeliveryView, viewDeliveries, viewDelivery } from '../deliveries/delivery-view.js'
import { AppError } from '../errors.js'
import { MAX_LIMIT } from '../lists/paging.js'
import { readTimeRange } from '../lists/time-range.js'
import type { Services } from '../services.js'
import { replayDelivery } from '../webhooks/replay.js'
import { deliveryNote } from './delivery-notes.js'
import { contextOf, sendPage, sessionOf, userError } from './forms.js'
import { badge, html, postButton, when } from './layout.js'
import { consolePageRequest, listQuery, pagerLinks } from './pager.js'
import type { ConsoleSession } from './session.js'

/** A stored body as read through readDelivery (credential-like fields already masked), pretty-printed. */
function prettyJson(value: unknown): string {
  return JSON.stringify(value, null, 2)
}

/**
 * Webhook calls refused for bad credentials are not in the delivery log (anyone can send them, and
 * they would push real failures out of view): their counts per hour and endpoint are shown here.
 */
function refusedCard(refused: RefusedCount[]) {
  const total = refused.reduce((sum, row) => sum + row.count, 0)
  const rows = refused.map(
    (r) => html`<tr><td>${when(r.hour)}</td><td><code>${r.endpoint}</code></td><td>${r.count}</td></tr>`,
  )
  return html`<section class="card" id="refused-calls"><h2>Refused calls (bad credentials), last 24 hours</h2>
<p class="muted">Webhook calls answered 401 because their credentials were missing or wrong. They are counted here, not kept in the delivery log.</p>
${
  total === 0
    ? html`<p>No refused calls.</p>`
    : html`<p><strong>${total}</strong> refused ${total === 1 ? 'call' : 'calls'}.</p>
<table><thead><tr><th>Hour</th><th>Endpoint</th><th>Refused</th></tr></thead><tbody>${rows}</tbody></table>`
}
</section>`
}

function ok(status: number): boolean {
  return status >= 200 && status < 300
}

/** The Activity tab's query: filters and the page, as the filter form and the pager links send them. */
interface ActivityQuery {
  outcome?: string
  endpoint?: string
  destination?: string
  since?: string
  until?: string
  cursor?: string
  /** Older links: `?failed=1` is `?outcome=failed`. */
  failed?: string
}

const ACTIVITY_QUERY = ['outcome', 'endpoint', 'destination', 'since', 'until', 'cursor', 'failed'] as const

const ENDPOINTS = ['servicenow', 'createticket', 'adduser', 'modifyuser', 'deleteuser'] as const

/** The filters as the delivery log takes them; 400 for a value the form never sends. */
function readFilters(query: ActivityQuery): DeliveryFilters {
  const outcome = query.failed === '1' ? 'failed' : emptyAsUndefined(query.outcome)
  if (outcome !== undefined && outcome !== 'succeeded' && outcome !== 'failed')
    throw new AppError('bad_request', { message: 'outcome must be succeeded or failed' })
  const endpoint = emptyAsUndefined(query.endpoint)
  if (endpoint !== undefined && !(ENDPOINTS as readonly string[]).includes(endpoint))
    throw new AppError('bad_request', { message: `endpoint must be one of: ${ENDPOINTS.join(', ')}` })
  return {
    outcome,
    endpoint,
    destinationId: emptyAsUndefined(query.destination),
    range: readTimeRange({ since: emptyAsUndefined(query.since), until: emptyAsUndefined(query.until) }),
  }
}

function emptyAsUndefined(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value
}

/** How a delivery reads at a glance: its status, and "replayed" with a link when a replay fixed it. */
function outcomeCell(d: DeliveryView) {
  if (d.outcome === 'replayed' && d.replayed_by !== null)
    return html`${badge(String(d.status), false)} <a class="badge ok" href="/console/activity/${d.replayed_by}">replayed</a>`
  return badge(String(d.status), ok(d.status))
}

function filterForm(
  query: ActivityQuery,
  filters: DeliveryFilters,
  destinations: Array<{ id: string; name: string }>,
) {
  const option = (value: string, label: string, selected: string | undefined) =>
    html`<option value="${value}"${value === (selected ?? '') ? html` selected` : ''}>${label}</option>`
  return html`<form class="filters" method="get" action="/console/activity" aria-label="Filter deliveries">
<label>Outcome<select name="outcome">${option('', 'Any', filters.outcome)}${option('succeeded', 'Succeeded', filters.outcome)}${option('failed', 'Failed', filters.outcome)}</select></label>
<label>Endpoint<select name="endpoint">${option('', 'Any', filters.endpoint)}${ENDPOINTS.map((e) => option(e, e, filters.endpoint))}</select></label>
<label>Destination<select name="destination">${option('', 'Any', filters.destinationId)}${destinations.map((d) => option(d.id, d.name, filters.destinationId))}</select></label>
<label>Since<input type="date" name="since" value="${emptyAsUndefined(query.since) ?? ''}"></label>
<label>Before<input type="date" name="until" value="${emptyAsUndefined(query.until) ?? ''}"></label>
<input type="submit" class="secondary" value="Filter"> <a href="/console/activity">Clear</a>
</form>`
}

export function registerActivityPages(app: FastifyInstance, services: Services): void {
  app.get('/activity', async (request, reply) => {
    const session = sessionOf(request)
    const db = services.database.db
    const query: ActivityQuery = listQuery(request.query, ACTIVITY_QUERY)
    const filters = readFilters(query)
    const found = await pageDeliveries(db, session.tenant.id, filters, consolePageRequest(query.cursor))
    const [deliveries, refused, destinations] = await Promise.all([
      viewDeliveries(db, session.tenant.id, found.items),
      listRefusedCalls(db, session.tenant.id, 24),
      db
        .selectFrom('destinations')
        .select(['id', 'name'])
        .where('tenant_id', '=', session.tenant.id)
        .orderBy('name')
        .limit(MAX_LIMIT)
        .execute(),
    ])
    const filtered =
      filters.outcome !== undefined ||
      filters.endpoint !== undefined ||
      filters.destinationId !== undefined ||
      filters.range?.since != null ||
      filters.range?.until != null
    const rows = deliveries.map(
      (d) => html`<tr>
<td><a href="/console/activity/${d.id}">${when(d.created_at)}</a></td><td><code>${d.endpoint}</code></td>
<td>${outcomeCell(d)}</td><td>${d.error ?? ''}${deliveryNote(d)}</td>
<td>${d.ticket === null ? '' : html`<a href="/console/support/tickets/${d.ticket}">#${d.ticket}</a>`}${d.user_email ?? ''}${d.destination_name === null ? '' : html` <span class="muted">via ${d.destination_name}</span>`}</td>
<td>${d.caller ?? html`<span class="mono">${d.principal ?? ''}</span>`}</td><td>${d.duration_ms} ms</td></tr>`,
    )
    const params = {
      outcome: filters.outcome,
      endpoint: filters.endpoint,
      destination: filters.destinationId,
      since: emptyAsUndefined(query.since),
      until: emptyAsUndefined(query.until),
    }
    return sendPage(reply, 200, {
      title: 'Activity',
      tab: 'activity',
      context: contextOf(session),
      body: html`<h1>Activity</h1>
<section class="card"><h2>Delivery log</h2>
${filterForm(query, filters, destinations)}
${
  deliveries.length === 0
    ? html`<p class="muted">${filtered ? 'No webhook calls match these filters.' : 'No webhook calls yet.'}</p>`
    : html`<table><thead><tr><th>When</th><th>Endpoint</th><th>Status</th><th>Error</th><th>Ticket or user</th><th>Caller</th><th>Time</th></tr></thead><tbody>${rows}</tbody></table>`
}
${pagerLinks('/console/activity', params, found)}
</section>
${refusedCard(refused)}`,
    })
  })

  app.get<{ Params: { id: string }; Querystring: { replayed?: string } }>(
    '/activity/:id',
    async (request, reply) =>
      deliveryPage(
        services,
        sessionOf(request),
        reply,
        request.params.id,
        200,
        request.query.replayed === undefined ? {} : { notice: 'Replayed: this is the new delivery.' },
      ),
  )

  app.post<{ Params: { id: string } }>('/activity/:id/replay', async (request, reply) => {
    const session = sessionOf(request)
    try {
      const result = await replayDelivery(
        services,
        {
          tenant: session.tenant,
          principal: { kind: 'console_admin', id: session.userId, tenantId: session.tenant.id },
          requestId: request.id,
          startedAt: request.startedAt,
          log: request.log,
        },
        request.params.id,
      )
      return reply.redirect(`/console/activity/${result.delivery.id}?replayed=1`, 303)
    } catch (error) {
      const { status, message } = userError(error)
      return deliveryPage(services, session, reply, request.params.id, status, { error: message })
    }
  })
}

/** One delivery with its details and, when it failed, a Replay button. */
async function deliveryPage(
  services: Services,
  session: ConsoleSession,
  reply: FastifyReply,
  id: string,
  status: number,
  messages: { error?: string; notice?: string } = {},
): Promise<FastifyReply> {
  const found = await readDelivery(services.database.db, session.tenant.id, id)
  if (found === null) {
    return sendPage(reply, 404, {
      title: 'Activity',
      tab: 'activity',
      context: contextOf(session),
      error: 'Delivery not found',
      body: html`<p><a href="/console/activity">← Delivery log</a></p>`,
    })
  }
  const d = {
    ...(await viewDelivery(services.database.db, session.tenant.id, found)),
    request_body: found.request_body,
  }
  const line = (label: string, value: unknown) =>
    value === null || value === undefined || value === ''
      ? ''
      : html`<tr><th>${label}</th><td>${value}</td></tr>`
  return sendPage(reply, status, {
    title: 'Delivery',
    error: messages.error,
    notice: messages.notice,
    tab: 'activity',
    context: contextOf(session),
    body: html`<h1>Delivery <code>${d.id}</code></h1>
<p><a href="/console/activity">← Delivery log</a></p>
${
  ok(d.status) || d.outcome === 'replayed'
    ? ''
    : html`<section class="card"><h2>Replay</h2><p class="muted">Runs the stored body again through the same webhook, for the same destination, as you; the result is a new delivery.</p>${postButton(`/console/activity/${d.id}/replay`, 'Replay', session.csrf, 'primary')}</section>`
}
<section class="card"><table><tbody>
${line('When', when(d.created_at))}
${line('Endpoint', d.endpoint)}
<tr><th>Status</th><td>${outcomeCell(d)}</td></tr>
${line('Error', d.error)}
${line('Reason', d.reason)}
${line('Ticket', d.ticket)}
${line('User', d.user_email ?? d.user_id)}
${line('Destination', d.destination_name ?? d.destination_id)}
${line('Caller', d.caller === null ? d.principal : html`${d.caller} <span class="muted mono">${d.principal}</span>`)}
${line('Request ID', d.request_id)}
${line('Idempotency-Key', d.idempotency_key)}
${line('Replay of', d.replay_of === null ? null : html`<a rel="replay-of" href="/console/activity/${d.replay_of}">${d.replay_of}</a>`)}
${line('Replayed by', d.replayed_by === null ? null : html`<a rel="replayed-by" href="/console/activity/${d.replayed_by}">${d.replayed_by}</a>${d.outcome === 'replayed' ? ' (succeeded)' : ''}`)}
${line('Duration', `${d.duration_ms} ms`)}
</tbody></table></section>
<section class="card"><h2>Request body</h2>${d.body_note === null ? '' : html`<p class="muted" data-body-note>${d.body_note}</p>`}<pre>${d.request_body === null ? '(none)' : prettyJson(d.request_body)}</pre></section>`,
  })
}

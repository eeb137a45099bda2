/** The Activity tab: the delivery log of webhook calls, newest first, and one entry's details. */
import type { FastifyInstance, FastifyReply } from 'fastify'
import { listRefusedCalls, type RefusedCount } from '../auth/refused-calls.js'
import { listDeliveries, readDelivery } from '../deliveries/deliveries.js'
import type { Services } from '../services.js'
import { replayDelivery } from '../webhooks/replay.js'
import { deliveryNote } from './delivery-notes.js'
import { contextOf, sendPage, sessionOf, userError } from './forms.js'
import { badge, html, postButton, when } from './layout.js'
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

export function registerActivityPages(app: FastifyInstance, services: Services): void {
  app.get<{ Querystring: { failed?: string } }>('/activity', async (request, reply) => {
    const session = sessionOf(request)
    const failed = request.query.failed === '1'
    const deliveries = await listDeliveries(services.database.db, session.tenant.id, { failed, limit: 200 })
    const refused = await listRefusedCalls(services.database.db, session.tenant.id, 24)
    const rows = deliveries.map(
      (d) => html`<tr>
<td><a href="/console/activity/${d.id}">${when(d.created_at)}</a></td><td><code>${d.endpoint}</code></td>
<td>${badge(String(d.status), ok(d.status))}</td><td>${d.error ?? ''}${deliveryNote(d)}</td>
<td>${d.ticket === null ? '' : html`<a href="/console/support/tickets/${d.ticket}">#${d.ticket}</a>`}</td>
<td class="mono">${d.principal ?? ''}</td><td>${d.duration_ms} ms</td></tr>`,
    )
    return sendPage(reply, 200, {
      title: 'Activity',
      tab: 'activity',
      context: contextOf(session),
      body: html`<h1>Activity</h1>
<nav class="sub"><a href="/console/activity" class="${failed ? '' : 'active'}">All deliveries</a><a href="/console/activity?failed=1" class="${failed ? 'active' : ''}">Failed only</a></nav>
<section class="card"><h2>Delivery log</h2>
${
  deliveries.length === 0
    ? html`<p class="muted">${failed ? 'No failed webhook calls.' : 'No webhook calls yet.'}</p>`
    : html`<table><thead><tr><th>When</th><th>Endpoint</th><th>Status</th><th>Error</th><th>Ticket</th><th>Caller</th><th>Time</th></tr></thead><tbody>${rows}</tbody></table>`
}
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
  const d = await readDelivery(services.database.db, session.tenant.id, id)
  if (d === null) {
    return sendPage(reply, 404, {
      title: 'Activity',
      tab: 'activity',
      context: contextOf(session),
      error: 'Delivery not found',
      body: html`<p><a href="/console/activity">← Delivery log</a></p>`,
    })
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
  ok(d.status)
    ? ''
    : html`<section class="card"><h2>Replay</h2><p class="muted">Runs the stored body again through the same webhook, for the same destination, as you; the result is a new delivery.</p>${postButton(`/console/activity/${d.id}/replay`, 'Replay', session.csrf, 'primary')}</section>`
}
<section class="card"><table><tbody>
${line('When', when(d.created_at))}
${line('Endpoint', d.endpoint)}
<tr><th>Status</th><td>${badge(String(d.status), ok(d.status))}</td></tr>
${line('Error', d.error)}
${line('Reason', d.reason)}
${line('Ticket', d.ticket)}
${line('User', d.user_id)}
${line('Destination', d.destination_id)}
${line('Caller', d.principal)}
${line('Request ID', d.request_id)}
${line('Idempotency-Key', d.idempotency_key)}
${line('Replay of', d.replay_of)}
${line('Duration', `${d.duration_ms} ms`)}
</tbody></table></section>
<section class="card"><h2>Request body</h2>${d.body_note === null ? '' : html`<p class="muted" data-body-note>${d.body_note}</p>`}<pre>${d.request_body === null ? '(none)' : prettyJson(d.request_body)}</pre></section>`,
  })
}

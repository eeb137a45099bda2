/** The Support tab: tickets (list, one with its comments) and support accounts (requesters). */
import type { FastifyInstance, FastifyReply } from 'fastify'
import { AppError } from '../errors.js'
import type { Services } from '../services.js'
import { addRequester, pageRequesters } from '../support/requesters.js'
import { getTicket, pageTickets } from '../support/tickets.js'
import { MAX_TICKET_NUMBER } from '../value-bounds.js'
import { contextOf, field, sendPage, sessionOf, userError } from './forms.js'
import { csrfField, html, when } from './layout.js'
import { consolePageRequest, listQuery, pagerLinks } from './pager.js'
import type { ConsoleSession } from './session.js'

/** The Support tab's query: the ticket source filter and a cursor for each of its two lists. */
const SUPPORT_QUERY = ['source', 'cursor', 'requesters_cursor'] as const

interface SupportQuery {
  source?: string
  cursor?: string
  requesters_cursor?: string
}

async function supportPage(
  services: Services,
  session: ConsoleSession,
  reply: FastifyReply,
  status: number,
  form: { email: string; name: string },
  messages: { error?: string; notice?: string } = {},
  query: SupportQuery = {},
): Promise<FastifyReply> {
  const db = services.database.db
  const source = query.source === '' ? undefined : query.source
  if (source !== undefined && source !== 'servicenow' && source !== 'generic')
    throw new AppError('bad_request', { message: 'source must be servicenow or generic' })
  const [ticketPage, requesterPage] = await Promise.all([
    pageTickets(db, session.tenant.id, { source }, consolePageRequest(query.cursor)),
    pageRequesters(db, session.tenant.id, consolePageRequest(query.requesters_cursor)),
  ])
  const tickets = ticketPage.items
  const requesters = requesterPage.items
  const params = { source, cursor: query.cursor, requesters_cursor: query.requesters_cursor }
  const ticketRows = tickets.map(
    (
      t,
    ) => html`<tr><td><a href="/console/support/tickets/${t.ticket}">#${t.ticket}</a></td><td>${t.subject}</td>
<td>${t.priority}</td><td>${t.requester_email}</td><td>${t.source}</td><td>${when(t.created_at)}</td></tr>`,
  )
  const requesterRows = requesters.map(
    (r) => html`<tr><td>${r.email}</td><td>${r.name ?? ''}</td><td>${when(r.created_at)}</td></tr>`,
  )
  return sendPage(reply, status, {
    title: 'Support',
    tab: 'support',
    context: contextOf(session),
    error: messages.error,
    notice: messages.notice,
    body: html`<h1>Support</h1>
<nav class="sub"><a class="active" href="/console/support">Tickets and support accounts</a><a href="/console/support/settings">Support system</a></nav>
<section class="card"><h2>Tickets</h2>
<nav class="sub" aria-label="Ticket source"><a href="/console/support" class="${source === undefined ? 'active' : ''}">All</a><a href="/console/support?source=servicenow" class="${source === 'servicenow' ? 'active' : ''}">ServiceNow</a><a href="/console/support?source=generic" class="${source === 'generic' ? 'active' : ''}">Generic</a></nav>
${
  tickets.length === 0
    ? html`<p class="muted">${source === undefined ? 'No tickets yet. Helpdesks open them through the TICKETS webhook.' : 'No tickets from this source.'}</p>`
    : html`<table><thead><tr><th>Ticket</th><th>Subject</th><th>Priority</th><th>Requester</th><th>Source</th><th>Created</th></tr></thead><tbody>${ticketRows}</tbody></table>`
}
${pagerLinks('/console/support', params, ticketPage)}
</section>
<section class="card"><h2>Support accounts</h2>
<p class="muted">Tickets may only be opened for these requesters.</p>
${
  requesters.length === 0
    ? html`<p class="muted">No support accounts yet.</p>`
    : html`<table><thead><tr><th>Email</th><th>Name</th><th>Added</th></tr></thead><tbody>${requesterRows}</tbody></table>`
}
${pagerLinks('/console/support', params, requesterPage, 'requesters_cursor')}
<h2>Add a support account</h2>
<form class="stack" method="post" action="/console/support/requesters">
${csrfField(session.csrf)}
<label for="req-email">Email</label><input id="req-email" type="email" name="email" value="${form.email}" required>
<label for="req-name">Name</label><input id="req-name" type="text" name="name" value="${form.name}">
<div class="actions"><button type="submit">Add support account</button></div>
</form></section>`,
  })
}

export function registerSupportPages(app: FastifyInstance, services: Services): void {
  const empty = { email: '', name: '' }
  app.get('/support', async (request, reply) =>
    supportPage(services, sessionOf(request), reply, 200, empty, {}, listQuery(request.query, SUPPORT_QUERY)),
  )

  app.get<{ Params: { number: string } }>('/support/tickets/:number', async (request, reply) => {
    const session = sessionOf(request)
    const number = request.params.number
    if (!/^[1-9]\d{0,15}$/.test(number)) {
      return supportPage(services, session, reply, 404, empty, { error: `Ticket ${number} not found` })
    }
    if (Number(number) > MAX_TICKET_NUMBER) {
      return supportPage(services, session, reply, 400, empty, {
        error: `Ticket numbers go up to ${MAX_TICKET_NUMBER}`,
      })
    }
    const ticket = await getTicket(services.database.db, session.tenant.id, Number(number))
    const comments = (ticket.comments ?? []).map(
      (c, i) =>
        html`<section class="card"><h2>Comment ${i + 1} <span class="muted">${when(c.created_at)}</span></h2><pre>${c.body}</pre></section>`,
    )
    return sendPage(reply, 200, {
      title: `Ticket ${ticket.ticket}`,
      tab: 'support',
      context: contextOf(session),
      body: html`<h1>Ticket #${ticket.ticket}: ${ticket.subject}</h1>
<p><a href="/console/support">← All tickets</a></p>
<section class="card"><table><tbody>
<tr><th>Priority</th><td>${ticket.priority}</td></tr>
<tr><th>Requester</th><td>${ticket.requester_email}</td></tr>
<tr><th>Source</th><td>${ticket.source}</td></tr>
<tr><th>Support system</th><td>${ticket.backend}${ticket.external_id === null ? '' : html` (<code>${ticket.external_id}</code>)`}</td></tr>
<tr><th>Created</th><td>${when(ticket.created_at)}</td></tr>
<tr><th>Updated</th><td>${when(ticket.updated_at)}</td></tr>
</tbody></table></section>
${comments.length === 0 ? html`<p class="muted">No comments.</p>` : comments}`,
    })
  })

  app.post('/support/requesters', async (request, reply) => {
    const session = sessionOf(request)
    const form = { email: field(request.body, 'email'), name: field(request.body, 'name') }
    try {
      const added = await addRequester(services.database, session.tenant.id, form.email, form.name || null)
      request.auditTarget = added.email
      return supportPage(services, session, reply, 200, empty, {
        notice: `Support account ${added.email} saved.`,
      })
    } catch (error) {
      const { status, message } = userError(error)
      return supportPage(services, session, reply, status, form, { error: message })
    }
  })
}

/** Identity Management → Held terminations: what the mass-termination safeguard kept back, approved or rejected per destination. */
import type { FastifyInstance, FastifyReply } from 'fastify'
import { decideHeldChanges, listHeldChanges, summarizeHeldChanges } from '../directory/held-changes.js'
import { readPageRequest } from '../lists/paging.js'
import type { Services } from '../services.js'
import { consoleActor, contextOf, sendPage, sessionOf, userError } from './forms.js'
import { heldNotice, identityNav } from './identity-nav.js'
import { html, postButton, when } from './layout.js'
import { pagerLinks } from './pager.js'
import type { ConsoleSession } from './session.js'

async function holdsPage(
  services: Services,
  session: ConsoleSession,
  reply: FastifyReply,
  status: number,
  query: { cursor?: string },
  messages: { error?: string; notice?: string } = {},
): Promise<FastifyReply> {
  const { db } = services.database
  const summaries = await summarizeHeldChanges(db, session.tenant.id)
  const page = await listHeldChanges(
    db,
    session.tenant.id,
    readPageRequest({ limit: 100, cursor: query.cursor }),
  )
  const decisions = summaries.map(
    (
      s,
    ) => html`<tr><td>${s.destination_name}<br><code>${s.plugin_id}</code></td><td>${s.held}</td><td>${when(s.oldest)}</td>
<td>${postButton(`/console/holds/${s.plugin_id}/approve`, `Approve ${s.held}`, session.csrf)} ${postButton(`/console/holds/${s.plugin_id}/reject`, `Reject ${s.held}`, session.csrf, 'danger')}</td></tr>`,
  )
  const rows = page.items.map(
    (h) => html`<tr><td>${when(h.created_at)}</td><td>${h.destination_name}</td><td>${h.employee_id}</td>
<td><a href="/console/users/${h.user_id}">${h.email ?? h.user_id}</a></td><td class="muted">${h.reason}</td></tr>`,
  )
  const pager = pagerLinks('/console/holds', {}, page)
  return sendPage(reply, status, {
    title: 'Held terminations',
    tab: 'users',
    context: contextOf(session),
    error: messages.error,
    notice: messages.notice,
    body: html`<h1>Identity Management</h1>${identityNav('holds')}
${heldNotice(summaries)}
<section class="card"><h2>Held terminations by destination</h2>
<p class="muted">A destination terminates at most <code>termination_limit</code> users per rolling hour (20 unless set; 0 turns the safeguard off). Further terminations, and every one while some are held, change nothing until you decide. Approve applies them all, oldest first; Reject drops them all and changes no user.</p>
${
  summaries.length === 0
    ? html`<p class="muted">No terminations are held.</p>`
    : html`<table id="held-destinations"><thead><tr><th>Destination</th><th>Held</th><th>Oldest</th><th></th></tr></thead><tbody>${decisions}</tbody></table>`
}
</section>
${
  page.items.length === 0
    ? ''
    : html`<section class="card"><h2>Each held termination</h2><table id="held-changes"><thead><tr><th>Held at</th><th>Destination</th><th>Employee ID</th><th>User</th><th>Why</th></tr></thead><tbody>${rows}</tbody></table>${pager}</section>`
}`,
  })
}

export function registerHoldPages(app: FastifyInstance, services: Services): void {
  app.get<{ Querystring: { cursor?: string } }>('/holds', async (request, reply) =>
    holdsPage(services, sessionOf(request), reply, 200, request.query),
  )
  for (const decision of ['approve', 'reject'] as const) {
    app.post<{ Params: { pluginId: string } }>(`/holds/:pluginId/${decision}`, async (request, reply) => {
      const session = sessionOf(request)
      try {
        const result = await decideHeldChanges(
          services,
          session.tenant.id,
          request.params.pluginId,
          decision,
          consoleActor(session).actor,
        )
        const notice =
          'applied' in result
            ? `${result.applied} held termination${result.applied === 1 ? '' : 's'} applied.`
            : `${result.rejected} held termination${result.rejected === 1 ? '' : 's'} rejected; no user changed.`
        return holdsPage(services, session, reply, 200, {}, { notice })
      } catch (error) {
        const { status, message } = userError(error)
        return holdsPage(services, session, reply, status, {}, { error: message })
      }
    })
  }
}

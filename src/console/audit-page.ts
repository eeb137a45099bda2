/** Administration → Audit log: what every administrator changed, and every console sign-in, newest first. Read only. */
import type { FastifyInstance } from 'fastify'
import { listAudit } from '../audit/audit-log.js'
import { readPageRequest } from '../lists/paging.js'
import type { Services } from '../services.js'
import { administrationNav } from './administration-nav.js'
import { contextOf, sendPage, sessionOf } from './forms.js'
import { html, when } from './layout.js'
import { pagerLinks } from './pager.js'

const BASE = '/console/administration/audit'

export function registerAuditPage(app: FastifyInstance, services: Services): void {
  app.get<{ Querystring: { cursor?: string } }>('/administration/audit', async (request, reply) => {
    const session = sessionOf(request)
    const page = await listAudit(
      services.database.db,
      session.tenant.id,
      readPageRequest({ limit: 100, cursor: request.query.cursor }),
    )
    const rows = page.items.map(
      (
        entry,
      ) => html`<tr><td>${when(entry.created_at)}</td><td>${entry.actor_name ?? ''}<br><span class="mono muted">${entry.actor}</span></td><td>${entry.action}</td>
<td class="mono">${entry.target ?? ''}</td><td class="mono">${entry.details === null ? '' : JSON.stringify(entry.details)}</td>
<td class="mono">${entry.client_address ?? ''}</td><td class="mono">${entry.request_id ?? ''}</td></tr>`,
    )
    const pager = pagerLinks(BASE, {}, page)
    return sendPage(reply, 200, {
      title: 'Audit log',
      tab: 'administration',
      context: contextOf(session),
      body: html`<h1>Administration</h1>${administrationNav('audit')}
<section class="card"><h2>Audit log</h2>
<p class="muted">Every change an administrator made (API keys, users, destinations and their settings, support settings, replays, held terminations) through the console, the management API or the CLI, and every sign-in and failed sign-in. Secret values are never recorded. Entries cannot be changed; they are deleted once older than the retention window (OPTIMALCLOUD_AUDIT_RETENTION_DAYS, 365 days by default).</p>
${
  page.items.length === 0
    ? html`<p class="muted">No entries yet.</p>`
    : html`<table id="audit-log"><thead><tr><th>When</th><th>Actor</th><th>Action</th><th>Target</th><th>Details</th><th>Client</th><th>Request ID</th></tr></thead><tbody>${rows}</tbody></table>${pager}`
}</section>`,
    })
  })
}

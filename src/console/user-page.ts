/** Identity Management → one user: details, and the history of every change (when, who, before → after). */
import type { FastifyInstance } from 'fastify'
import { describeChanges } from '../directory/user-changes.js'
import { listUserHistory } from '../directory/user-history.js'
import { findUserById } from '../directory/users.js'
import { AppError } from '../errors.js'
import { readPageRequest } from '../lists/paging.js'
import type { Services } from '../services.js'
import { contextOf, sendPage, sessionOf } from './forms.js'
import { identityNav } from './identity-nav.js'
import { badge, html, type SafeHtml, when } from './layout.js'
import { pagerLinks } from './pager.js'

/** An actor as a reader wants it: a destination links to its page, a delivery to its log entry. */
function actorCell(actor: string, name: string | null, deliveryId: string | null): SafeHtml {
  const [kind, id = ''] = actor.split(':', 2)
  const label = name === null ? html`<code>${id}</code>` : html`${name}`
  const who =
    kind === 'destination'
      ? html`HR destination <a href="/console/administration/provisioning/${id}">${label}</a>`
      : kind === 'api_key'
        ? html`API key ${label}`
        : kind === 'console_admin'
          ? html`administrator <a href="/console/users/${id}">${label}</a>`
          : html`${actor}`
  return deliveryId === null
    ? who
    : html`${who} (delivery <a href="/console/activity/${deliveryId}"><code>${deliveryId}</code></a>)`
}

export function registerUserPage(app: FastifyInstance, services: Services): void {
  app.get<{ Params: { id: string }; Querystring: { cursor?: string } }>(
    '/users/:id',
    async (request, reply) => {
      const session = sessionOf(request)
      const { db } = services.database
      const user = await findUserById(db, session.tenant.id, request.params.id)
      if (user === null) throw new AppError('not_found', { message: 'User not found' })
      const page = await listUserHistory(
        db,
        session.tenant.id,
        user.id,
        readPageRequest({ limit: 100, cursor: request.query.cursor }),
      )
      const details: Array<[string, unknown]> = [
        ['ID', html`<code>${user.id}</code>`],
        ['Login ID', user.login_id],
        ['Email', user.email],
        ['Name', user.display_name],
        ['Status', badge(user.status, user.status === 'active')],
        ['Mobile', user.mobile ?? ''],
        ['Employee ID', user.employee_id ?? ''],
        [
          'Made by',
          user.destination_id === null
            ? 'hand'
            : html`HR destination <a href="/console/administration/provisioning/${user.destination_id}"><code>${user.destination_id}</code></a>`,
        ],
        ['Kind', user.service_account ? 'service account' : user.admin ? 'administrator' : 'user'],
        ['Created', when(user.created_at)],
        ['Updated', when(user.updated_at)],
      ]
      const rows = page.items.map(
        (
          entry,
        ) => html`<tr><td>${when(entry.created_at)}</td><td>${entry.action}</td><td>${actorCell(entry.actor, entry.actor_name, entry.delivery_id)}</td>
<td>${Object.keys(entry.changes).length === 0 ? html`<span class="muted">no field shown</span>` : describeChanges(entry.changes)}</td></tr>`,
      )
      const base = `/console/users/${user.id}`
      const pager = pagerLinks(base, {}, page)
      return sendPage(reply, 200, {
        title: user.email,
        tab: 'users',
        context: contextOf(session),
        body: html`<h1>Identity Management</h1>${identityNav('users')}
<section class="card"><h2>${user.email}</h2><table id="user-details"><tbody>${details.map(
          ([label, value]) => html`<tr><th>${label}</th><td>${value}</td></tr>`,
        )}</tbody></table></section>
<section class="card"><h2>History</h2>
<p class="muted">Every change of this user, oldest first: when, who (an HR destination and its delivery, an administrator, an API key or the CLI) and each field before → after.</p>
${
  page.items.length === 0
    ? html`<p class="muted">No recorded changes.</p>`
    : html`<table id="user-history"><thead><tr><th>When</th><th>Change</th><th>By</th><th>Before → after</th></tr></thead><tbody>${rows}</tbody></table>${pager}`
}</section>`,
      })
    },
  )
}

/** The Administration tab's API Key Manager (the Provisioning Manager is in provisioning-page.ts). */
import type { FastifyInstance, FastifyReply } from 'fastify'
import { createApiKey, pageApiKeys, parseDuration, revokeApiKey } from '../auth/api-keys.js'
import type { Services } from '../services.js'
import { administrationNav } from './administration-nav.js'
import { checked, contextOf, field, sendPage, sessionOf, userError } from './forms.js'
import { badge, csrfField, html, postButton, type SafeHtml, when } from './layout.js'
import { consolePageRequest, listQuery, pagerLinks } from './pager.js'
import type { ConsoleSession } from './session.js'

interface KeyForm {
  name: string
  management: boolean
  expiresIn: string
}

async function apiKeysPage(
  services: Services,
  session: ConsoleSession,
  reply: FastifyReply,
  status: number,
  form: KeyForm,
  messages: { error?: string; notice?: string; created?: SafeHtml } = {},
  cursor?: string,
): Promise<FastifyReply> {
  const found = await pageApiKeys(services.database.db, session.tenant.id, consolePageRequest(cursor))
  const keys = found.items
  const rows = keys.map(
    (k) => html`<tr>
<td>${k.name}</td><td><code>${k.prefix}…</code></td><td>${k.management ? 'yes' : 'no'}</td>
<td>${when(k.created_at)}</td><td>${k.expires_at === null ? 'never' : when(k.expires_at)}</td>
<td>${k.revoked_at === null ? badge('active', true) : badge(`revoked ${when(k.revoked_at)}`, false)}</td>
<td>${k.revoked_at === null ? postButton(`/console/administration/api-keys/${k.id}/revoke`, 'Revoke', session.csrf, 'danger') : html`<a href="/console/administration/api-keys/${k.id}/delete">Delete</a>`}</td>
</tr>`,
  )
  return sendPage(reply, status, {
    title: 'API Key Manager',
    tab: 'administration',
    context: contextOf(session),
    error: messages.error,
    notice: messages.notice,
    body: html`<h1>Administration</h1>${administrationNav('keys')}
${messages.created ?? ''}
<section class="card"><h2>API keys</h2>
${
  keys.length === 0
    ? html`<p class="muted">No API keys yet.</p>`
    : html`<table><thead><tr><th>Name</th><th>Prefix</th><th>Management API</th><th>Created</th><th>Expires</th><th>Status</th><th></th></tr></thead><tbody>${rows}</tbody></table>`
}
${pagerLinks('/console/administration/api-keys', {}, found)}
</section>
<section class="card"><h2>Create an API key</h2>
<p class="muted">Webhooks accept keys made with the Management API option. The key is shown once.</p>
<form class="stack" method="post" action="/console/administration/api-keys">
${csrfField(session.csrf)}
<label for="key-name">Name</label><input id="key-name" type="text" name="name" value="${form.name}" placeholder="servicenow" required>
<label for="key-management">Management API</label><span><input id="key-management" type="checkbox" name="management" value="1" ${form.management ? 'checked' : ''}></span>
<label for="key-expires">Expires in</label><input id="key-expires" type="text" name="expires_in" value="${form.expiresIn}" placeholder="90d (empty: never)">
<div class="actions"><button type="submit">Create API key</button></div>
</form></section>`,
  })
}

export function registerAdministrationPages(app: FastifyInstance, services: Services): void {
  const emptyKey: KeyForm = { name: '', management: true, expiresIn: '' }
  app.get('/administration', async (_request, reply) =>
    reply.redirect('/console/administration/api-keys', 303),
  )
  app.get('/administration/api-keys', async (request, reply) =>
    apiKeysPage(
      services,
      sessionOf(request),
      reply,
      200,
      emptyKey,
      {},
      listQuery(request.query, ['cursor']).cursor,
    ),
  )

  app.post('/administration/api-keys', async (request, reply) => {
    const session = sessionOf(request)
    const form: KeyForm = {
      name: field(request.body, 'name'),
      management: checked(request.body, 'management'),
      expiresIn: field(request.body, 'expires_in').trim(),
    }
    try {
      const created = await createApiKey(services.database, session.tenant.id, {
        name: form.name,
        management: form.management,
        expiresInMs: form.expiresIn === '' ? null : parseDuration(form.expiresIn),
      })
      request.auditTarget = created.id
      const shown = html`<section class="card" id="new-key"><h2>New API key: ${created.name}</h2>
<p>Copy this key now. It is shown once and cannot be shown again.</p>
<div class="secret"><span id="new-api-key" data-secret="api-key">${created.key}</span><button type="button" class="secondary copy" data-copy="new-api-key">Copy</button></div></section>`
      return apiKeysPage(services, session, reply, 200, emptyKey, {
        notice: `API key ${created.name} created.`,
        created: shown,
      })
    } catch (error) {
      const { status, message } = userError(error)
      return apiKeysPage(services, session, reply, status, form, { error: message })
    }
  })

  app.post<{ Params: { id: string } }>('/administration/api-keys/:id/revoke', async (request, reply) => {
    const session = sessionOf(request)
    try {
      const revoked = await revokeApiKey(services.database, session.tenant.id, request.params.id)
      // This instance stops accepting the key at once; others within the re-check time.
      services.authenticator.forget()
      return apiKeysPage(services, session, reply, 200, emptyKey, {
        notice: `API key ${revoked.name} revoked.`,
      })
    } catch (error) {
      const { status, message } = userError(error)
      return apiKeysPage(services, session, reply, status, emptyKey, { error: message })
    }
  })
}

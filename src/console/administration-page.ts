/** The Administration tab: the API Key Manager and the Provisioning Manager (with each destination's User Provisioning URLs). */
import type { FastifyInstance, FastifyReply } from 'fastify'
import { createApiKey, listApiKeys, parseDuration, revokeApiKey } from '../auth/api-keys.js'
import {
  createDestination,
  DESTINATION_TYPES,
  type DestinationView,
  getDestination,
  listDestinations,
  updateDestination,
} from '../directory/destinations.js'
import type { Services } from '../services.js'
import { checked, contextOf, field, sendPage, sessionOf, userError } from './forms.js'
import { badge, csrfField, html, postButton, type SafeHtml, when } from './layout.js'
import type { ConsoleSession } from './session.js'

const PAYLOCITY_FIELDS = ['client_id', 'client_secret', 'token_url', 'api_base_url'] as const

function subNav(active: 'keys' | 'provisioning'): SafeHtml {
  return html`<nav class="sub"><a href="/console/administration/api-keys" class="${active === 'keys' ? 'active' : ''}">API Key Manager</a><a href="/console/administration/provisioning" class="${active === 'provisioning' ? 'active' : ''}">Provisioning Manager</a></nav>`
}

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
): Promise<FastifyReply> {
  const keys = await listApiKeys(services.database, session.tenant.id)
  const rows = keys.map(
    (k) => html`<tr>
<td>${k.name}</td><td><code>${k.prefix}…</code></td><td>${k.management ? 'yes' : 'no'}</td>
<td>${when(k.created_at)}</td><td>${k.expires_at === null ? 'never' : when(k.expires_at)}</td>
<td>${k.revoked_at === null ? badge('active', true) : badge(`revoked ${when(k.revoked_at)}`, false)}</td>
<td>${k.revoked_at === null ? postButton(`/console/administration/api-keys/${k.id}/revoke`, 'Revoke', session.csrf, 'danger') : ''}</td>
</tr>`,
  )
  return sendPage(reply, status, {
    title: 'API Key Manager',
    tab: 'administration',
    context: contextOf(session),
    error: messages.error,
    notice: messages.notice,
    body: html`<h1>Administration</h1>${subNav('keys')}
${messages.created ?? ''}
<section class="card"><h2>API keys</h2>
${
  keys.length === 0
    ? html`<p class="muted">No API keys yet.</p>`
    : html`<table><thead><tr><th>Name</th><th>Prefix</th><th>Management API</th><th>Created</th><th>Expires</th><th>Status</th><th></th></tr></thead><tbody>${rows}</tbody></table>`
}
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

interface DestinationForm {
  type: string
  name: string
  loginId: string
  clientId: string
  tokenUrl: string
  apiBaseUrl: string
}

const EMPTY_DESTINATION: DestinationForm = {
  type: 'generic-hr',
  name: '',
  loginId: '',
  clientId: '',
  tokenUrl: '',
  apiBaseUrl: '',
}

async function provisioningPage(
  services: Services,
  session: ConsoleSession,
  reply: FastifyReply,
  status: number,
  form: DestinationForm,
  error?: string,
): Promise<FastifyReply> {
  const destinations = await listDestinations(services, session.tenant)
  const rows = destinations.map(
    (d) => html`<tr>
<td><a href="/console/administration/provisioning/${d.plugin_id}">${d.name}</a></td><td>${d.type}</td>
<td>${d.enabled ? badge('enabled', true) : badge('disabled', false)}</td><td>${when(d.created_at)}</td>
</tr>`,
  )
  return sendPage(reply, status, {
    title: 'Provisioning Manager',
    tab: 'administration',
    context: contextOf(session),
    error,
    body: html`<h1>Administration</h1>${subNav('provisioning')}
<section class="card"><h2>Provisioning destinations</h2>
${
  destinations.length === 0
    ? html`<p class="muted">No destinations yet.</p>`
    : html`<table><thead><tr><th>Name</th><th>Type</th><th>Status</th><th>Created</th></tr></thead><tbody>${rows}</tbody></table>`
}
</section>
<section class="card"><h2>Create a destination</h2>
<p class="muted">An HR system sends users to the three URLs shown on the destination's User Provisioning tab.</p>
<form class="stack" method="post" action="/console/administration/provisioning">
${csrfField(session.csrf)}
<label for="dest-type">Type</label><select id="dest-type" name="type">${DESTINATION_TYPES.map(
      (t) =>
        html`<option value="${t}" ${form.type === t ? 'selected' : ''}>${t === 'generic-hr' ? 'Generic HR' : 'Paylocity'}</option>`,
    )}</select>
<label for="dest-name">Name</label><input id="dest-name" type="text" name="name" value="${form.name}" required>
<label for="dest-login">Login ID from</label><select id="dest-login" name="login_id"><option value="">default</option>${[
      'email',
      'employee_id',
    ].map((v) => html`<option value="${v}" ${form.loginId === v ? 'selected' : ''}>${v}</option>`)}</select>
<span class="muted">Paylocity only:</span><span class="muted">the Paylocity API credentials (optional)</span>
<label for="dest-client-id">client_id</label><input id="dest-client-id" type="text" name="client_id" value="${form.clientId}">
<label for="dest-client-secret">client_secret</label><input id="dest-client-secret" type="password" name="client_secret" autocomplete="off">
<label for="dest-token-url">token_url</label><input id="dest-token-url" type="text" name="token_url" value="${form.tokenUrl}">
<label for="dest-api-base-url">api_base_url</label><input id="dest-api-base-url" type="text" name="api_base_url" value="${form.apiBaseUrl}">
<div class="actions"><button type="submit">Create destination</button></div>
</form></section>`,
  })
}

function destinationPage(
  session: ConsoleSession,
  reply: FastifyReply,
  d: DestinationView,
  notice?: string,
): FastifyReply {
  const base = `/console/administration/provisioning/${d.plugin_id}`
  const settings = Object.entries(d.settings).map(
    ([key, value]) => html`<tr><th>${key}</th><td><code>${value}</code></td></tr>`,
  )
  return sendPage(reply, 200, {
    title: d.name,
    tab: 'administration',
    context: contextOf(session),
    notice,
    body: html`<h1>Administration</h1>${subNav('provisioning')}
<section class="card"><h2>${d.name}</h2>
<table><tbody>
<tr><th>Type</th><td>${d.type}</td></tr>
<tr><th>plugin_id</th><td><code>${d.plugin_id}</code></td></tr>
<tr><th>Status</th><td>${d.enabled ? badge('enabled', true) : badge('disabled', false)} ${
      d.enabled
        ? postButton(`${base}/disable`, 'Disable', session.csrf, 'danger')
        : postButton(`${base}/enable`, 'Enable', session.csrf)
    }</td></tr>
${settings}
</tbody></table></section>
<section class="card" id="user-provisioning"><h2>User Provisioning</h2>
<p class="muted">Give these HR Webhook URLs to the HR system, with an API key (Management API) or a service account.</p>
<table><tbody>
<tr><th>Add user</th><td><code data-url="adduser">${d.urls.adduser}</code></td></tr>
<tr><th>Modify user</th><td><code data-url="modifyuser">${d.urls.modifyuser}</code></td></tr>
<tr><th>Delete user</th><td><code data-url="deleteuser">${d.urls.deleteuser}</code></td></tr>
</tbody></table></section>`,
  })
}

export function registerAdministrationPages(app: FastifyInstance, services: Services): void {
  const emptyKey: KeyForm = { name: '', management: true, expiresIn: '' }
  app.get('/administration', async (_request, reply) =>
    reply.redirect('/console/administration/api-keys', 303),
  )
  app.get('/administration/api-keys', async (request, reply) =>
    apiKeysPage(services, sessionOf(request), reply, 200, emptyKey),
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
      const shown = html`<section class="card" id="new-key"><h2>New API key: ${created.name}</h2>
<p>Copy this key now. It is shown once and cannot be shown again.</p>
<div class="secret" data-secret="api-key">${created.key}</div></section>`
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

  app.get('/administration/provisioning', async (request, reply) =>
    provisioningPage(services, sessionOf(request), reply, 200, EMPTY_DESTINATION),
  )

  app.post('/administration/provisioning', async (request, reply) => {
    const session = sessionOf(request)
    const body = request.body
    const form: DestinationForm = {
      type: field(body, 'type'),
      name: field(body, 'name'),
      loginId: field(body, 'login_id'),
      clientId: field(body, 'client_id'),
      tokenUrl: field(body, 'token_url'),
      apiBaseUrl: field(body, 'api_base_url'),
    }
    // Only fields that were filled in: an empty box means "not set", and the domain rejects a
    // Paylocity setting given to a Generic HR destination rather than dropping it silently.
    const settings: Record<string, string> = {}
    for (const key of ['login_id', ...PAYLOCITY_FIELDS]) {
      const value = field(body, key).trim()
      if (value !== '') settings[key] = value
    }
    try {
      const created = await createDestination(services, session.tenant, {
        type: form.type,
        name: form.name,
        settings,
      })
      return reply.redirect(`/console/administration/provisioning/${created.plugin_id}?created=1`, 303)
    } catch (error) {
      const { status, message } = userError(error)
      return provisioningPage(services, session, reply, status, form, message)
    }
  })

  app.get<{ Params: { pluginId: string }; Querystring: { created?: string } }>(
    '/administration/provisioning/:pluginId',
    async (request, reply) => {
      const session = sessionOf(request)
      const destination = await getDestination(services, session.tenant, request.params.pluginId)
      return destinationPage(
        session,
        reply,
        destination,
        request.query.created === undefined ? undefined : 'Destination created.',
      )
    },
  )

  for (const [action, enabled] of [
    ['enable', true],
    ['disable', false],
  ] as const) {
    app.post<{ Params: { pluginId: string } }>(
      `/administration/provisioning/:pluginId/${action}`,
      async (request, reply) => {
        const session = sessionOf(request)
        const updated = await updateDestination(services, session.tenant, request.params.pluginId, {
          enabled,
        })
        return destinationPage(
          session,
          reply,
          updated,
          enabled ? 'Destination enabled.' : 'Destination disabled: its URLs answer 404.',
        )
      },
    )
  }
}

/**
 * Support → Support system: the built-in support system or Zendesk (url, email, API token). The token is a
 * secret: written here, never shown back (the box stays empty; left empty, the stored token is kept).
 */
import type { FastifyInstance, FastifyReply } from 'fastify'
import type { Services } from '../services.js'
import { configureSupport, type SupportView, supportView } from '../support/support-settings.js'
import { requireTenant } from '../tenancy/tenants.js'
import { contextOf, field, sendPage, sessionOf, userError } from './forms.js'
import { csrfField, html } from './layout.js'
import type { ConsoleSession } from './session.js'

interface SupportForm {
  backend: string
  url: string
  email: string
}

function formOf(view: SupportView): SupportForm {
  return view.backend === 'zendesk'
    ? { backend: 'zendesk', url: view.url, email: view.email }
    : { backend: 'builtin', url: '', email: '' }
}

function settingsPage(
  session: ConsoleSession,
  reply: FastifyReply,
  status: number,
  current: SupportView,
  form: SupportForm,
  messages: { error?: string; notice?: string } = {},
): FastifyReply {
  const tokenSet = current.backend === 'zendesk'
  return sendPage(reply, status, {
    title: 'Support system',
    tab: 'support',
    context: contextOf(session),
    error: messages.error,
    notice: messages.notice,
    body: html`<h1>Support</h1>
<nav class="sub"><a href="/console/support">Tickets and support accounts</a><a class="active" href="/console/support/settings">Support system</a></nav>
<section class="card"><h2>Support system</h2>
<p>Tickets go to <strong data-support-backend="${current.backend}">${current.backend === 'zendesk' ? 'Zendesk' : 'the built-in support system'}</strong>.</p>
<p class="muted">With Zendesk, every ticket is created in your Zendesk account and the helpdesk gets the Zendesk ticket id; the
requesters must be Zendesk users. Going back to the built-in system forgets the Zendesk settings.</p>
<form class="stack" method="post" action="/console/support/settings">
${csrfField(session.csrf)}
<label for="support-backend">System</label>
<select id="support-backend" name="backend">
<option value="builtin"${form.backend === 'builtin' ? ' selected' : ''}>Built-in</option>
<option value="zendesk"${form.backend === 'zendesk' ? ' selected' : ''}>Zendesk</option>
</select>
<label for="support-url">Zendesk URL</label><input id="support-url" type="text" name="url" value="${form.url}" placeholder="https://yourcompany.zendesk.com">
<label for="support-email">Agent email</label><input id="support-email" type="email" name="email" value="${form.email}">
<label for="support-token">API token</label><input id="support-token" type="password" name="api_token" autocomplete="off" placeholder="${tokenSet ? 'set (leave empty to keep it)' : 'the Zendesk API token'}">
<div class="actions"><button type="submit">Save support system</button></div>
</form></section>`,
  })
}

export function registerSupportSettingsPages(app: FastifyInstance, services: Services): void {
  // The tenant is read again: the session's copy may be older than the last save.
  const current = async (session: ConsoleSession) =>
    supportView(await requireTenant(services.database, session.tenant.name))

  app.get('/support/settings', async (request, reply) => {
    const session = sessionOf(request)
    const view = await current(session)
    return settingsPage(session, reply, 200, view, formOf(view))
  })

  app.post('/support/settings', async (request, reply) => {
    const session = sessionOf(request)
    const form = {
      backend: field(request.body, 'backend'),
      url: field(request.body, 'url').trim(),
      email: field(request.body, 'email').trim(),
    }
    const token = field(request.body, 'api_token')
    const settings: Record<string, string> =
      form.backend === 'zendesk'
        ? { url: form.url, email: form.email, ...(token === '' ? {} : { api_token: token }) }
        : {}
    try {
      const tenant = await requireTenant(services.database, session.tenant.name)
      const saved = await configureSupport(services, tenant, form.backend, settings)
      return settingsPage(session, reply, 200, saved, formOf(saved), {
        notice:
          saved.backend === 'zendesk'
            ? 'Tickets now go to Zendesk.'
            : 'Tickets now stay in the built-in support system.',
      })
    } catch (error) {
      const { status, message } = userError(error)
      return settingsPage(session, reply, status, await current(session), form, { error: message })
    }
  })
}

/** The Provisioning Manager: destinations of every HR vendor, their forms (read from the vendor registry) and User Provisioning URLs. */
import type { FastifyInstance, FastifyReply } from 'fastify'
import {
  createDestination,
  type DestinationView,
  getDestination,
  pageDestinations,
  updateDestination,
} from '../directory/destinations.js'
import { summarizeHeldChanges } from '../directory/held-changes.js'
import { AppError } from '../errors.js'
import {
  HR_VENDORS,
  type HrVendor,
  hrVendor,
  isDestinationType,
  type SettingSpec,
  settingsOf,
} from '../hr-vendors/index.js'
import type { Services } from '../services.js'
import { administrationNav } from './administration-nav.js'
import { checked, contextOf, field, sendPage, sessionOf, userError } from './forms.js'
import { heldNotice } from './identity-nav.js'
import { badge, copyable, csrfField, html, postButton, type SafeHtml, when } from './layout.js'
import { consolePageRequest, listQuery, pagerLinks } from './pager.js'
import type { ConsoleSession } from './session.js'

const BASE = '/console/administration/provisioning'

/** What the administrator typed, shown again when the form is refused (secrets never are). */
interface DestinationForm {
  name: string
  settings: Record<string, string>
}

const EMPTY: DestinationForm = { name: '', settings: {} }

async function listPage(
  services: Services,
  session: ConsoleSession,
  reply: FastifyReply,
  status = 200,
  error?: string,
  cursor?: string,
): Promise<FastifyReply> {
  const found = await pageDestinations(services, session.tenant, consolePageRequest(cursor))
  const destinations = found.items
  const held = await summarizeHeldChanges(services.database.db, session.tenant.id)
  const rows = destinations.map(
    (d) => html`<tr>
<td><a href="${BASE}/${d.plugin_id}">${d.name}</a>${d.settings.mode === 'dry-run' ? html` <span class="badge">dry run</span>` : ''}</td><td>${hrVendor(d.type).label}</td>
<td>${d.enabled ? badge('enabled', true) : badge('disabled', false)}</td><td>${when(d.created_at)}</td>
</tr>`,
  )
  const vendors = Object.values(HR_VENDORS).map(
    (vendor) =>
      html`<li><a href="${BASE}/new?type=${vendor.type}" data-new-destination="${vendor.type}">${vendor.label}</a> <span class="muted">${vendor.description}</span></li>`,
  )
  return sendPage(reply, status, {
    title: 'Provisioning Manager',
    tab: 'administration',
    context: contextOf(session),
    error,
    body: html`<h1>Administration</h1>${administrationNav('provisioning')}
${heldNotice(held)}
<section class="card"><h2>Provisioning destinations</h2>
${
  destinations.length === 0
    ? html`<p class="muted">No destinations yet.</p>`
    : html`<table><thead><tr><th>Name</th><th>Type</th><th>Status</th><th>Created</th></tr></thead><tbody>${rows}</tbody></table>`
}
${pagerLinks(BASE, {}, found)}
</section>
<section class="card"><h2>Add a destination</h2>
<p class="muted">An HR system sends users to the URLs shown on the destination's User Provisioning tab. Pick the HR system:</p>
<ul>${vendors}</ul></section>`,
  })
}

/** One input for a setting; a secret is never shown back (on edit, empty keeps the stored one). */
function settingInput(spec: SettingSpec, value: string, editing: boolean, isSet: boolean): SafeHtml {
  const id = `dest-setting-${spec.key}`
  const label = html`<label for="${id}">${spec.key}</label>`
  if (spec.choices !== undefined) {
    const options = spec.choices.map(
      (choice) => html`<option value="${choice}" ${value === choice ? 'selected' : ''}>${choice}</option>`,
    )
    return html`${label}<select id="${id}" name="${spec.key}"><option value="">default${spec.default === undefined ? '' : ` (${spec.default})`}</option>${options}</select>`
  }
  if (spec.secret === true) {
    const placeholder = editing && isSet ? 'set; leave empty to keep it' : spec.description
    const clear =
      editing && isSet
        ? html`<span></span><label class="muted"><input type="checkbox" name="clear_${spec.key}" value="1"> remove ${spec.key}</label>`
        : ''
    return html`${label}<input id="${id}" type="password" name="${spec.key}" autocomplete="off" placeholder="${placeholder}">${clear}`
  }
  return html`${label}<input id="${id}" type="text" name="${spec.key}" value="${value}" placeholder="${spec.default ?? spec.description}">`
}

function destinationForm(
  session: ConsoleSession,
  vendor: HrVendor,
  form: DestinationForm,
  target: { action: string; submit: string; editing?: DestinationView },
): SafeHtml {
  const editing = target.editing
  const inputs = settingsOf(vendor).map((spec) =>
    settingInput(
      spec,
      form.settings[spec.key] ?? '',
      editing !== undefined,
      editing?.settings[spec.key] !== undefined,
    ),
  )
  return html`<form class="stack" method="post" action="${target.action}">
${csrfField(session.csrf)}
${editing === undefined ? html`<input type="hidden" name="type" value="${vendor.type}">` : ''}
<label for="dest-name">Name</label><input id="dest-name" type="text" name="name" value="${form.name}" required>
${inputs}
<div class="actions"><button type="submit">${target.submit}</button></div>
</form>`
}

function newPage(
  session: ConsoleSession,
  reply: FastifyReply,
  vendor: HrVendor,
  form: DestinationForm,
  status = 200,
  error?: string,
): FastifyReply {
  return sendPage(reply, status, {
    title: `New ${vendor.label} destination`,
    tab: 'administration',
    context: contextOf(session),
    error,
    body: html`<h1>Administration</h1>${administrationNav('provisioning')}
<section class="card"><h2>New ${vendor.label} destination</h2>
<p class="muted">${vendor.description}. Settings left empty are not set.</p>
${destinationForm(session, vendor, form, { action: BASE, submit: 'Create destination' })}
</section>`,
  })
}

function detailPage(
  session: ConsoleSession,
  reply: FastifyReply,
  d: DestinationView,
  notice?: string,
): FastifyReply {
  const vendor = hrVendor(d.type)
  const base = `${BASE}/${d.plugin_id}`
  const settings = Object.entries(d.settings).map(
    ([key, value]) => html`<tr><th>${key}</th><td><code>${value}</code></td></tr>`,
  )
  const shown = vendor.endpoints.map(
    (endpoint) =>
      html`<tr><th>${ENDPOINT_LABELS[endpoint]}</th><td>${copyable(`url-${endpoint}`, d.urls[endpoint] ?? '', { 'data-url': endpoint })}</td></tr>`,
  )
  const how =
    vendor.authentication.kind === 'signature'
      ? `Give this URL to ${vendor.label} and paste the webhook's private key into the destination's ${vendor.authentication.secretSetting} setting: each call is signed with it.`
      : 'Give these HR Webhook URLs to the HR system, with an API key (Management API) or a service account.'
  return sendPage(reply, 200, {
    title: d.name,
    tab: 'administration',
    context: contextOf(session),
    notice,
    body: html`<h1>Administration</h1>${administrationNav('provisioning')}
<section class="card"><h2>${d.name}</h2>
<table><tbody>
<tr><th>Type</th><td>${vendor.label}</td></tr>
<tr><th>plugin_id</th><td><code>${d.plugin_id}</code></td></tr>
<tr><th>Status</th><td>${d.enabled ? badge('enabled', true) : badge('disabled', false)} ${
      d.enabled
        ? postButton(`${base}/disable`, 'Disable', session.csrf, 'danger')
        : html`${postButton(`${base}/enable`, 'Enable', session.csrf)} <a href="${base}/delete">Delete</a>`
    }</td></tr>
${settings}
</tbody></table>
<p><a href="${base}/edit">Edit name and settings</a></p></section>
<section class="card" id="user-provisioning"><h2>User Provisioning</h2>
<p class="muted">${how}</p>
<table><tbody>${shown}</tbody></table></section>`,
  })
}

const ENDPOINT_LABELS = {
  adduser: 'Add user',
  modifyuser: 'Modify user',
  deleteuser: 'Delete user',
  events: 'Events',
} as const

function editPage(
  session: ConsoleSession,
  reply: FastifyReply,
  d: DestinationView,
  form: DestinationForm,
  status = 200,
  error?: string,
): FastifyReply {
  const vendor = hrVendor(d.type)
  return sendPage(reply, status, {
    title: `Edit ${d.name}`,
    tab: 'administration',
    context: contextOf(session),
    error,
    body: html`<h1>Administration</h1>${administrationNav('provisioning')}
<section class="card"><h2>Edit ${d.name}</h2>
<p class="muted">${vendor.label}. An emptied setting is removed; a secret left empty keeps its stored value.</p>
${destinationForm(session, vendor, form, { action: `${BASE}/${d.plugin_id}`, submit: 'Save', editing: d })}
<p><a href="${BASE}/${d.plugin_id}">Back to ${d.name}</a></p>
</section>`,
  })
}

/** The form's settings for `vendor`: filled ones only on creation, every one (emptied = removed) on edit. */
function settingsFromForm(body: unknown, vendor: HrVendor, editing: boolean): Record<string, string | null> {
  const settings: Record<string, string | null> = {}
  for (const spec of settingsOf(vendor)) {
    const value = field(body, spec.key)
    if (spec.secret === true) {
      // Kept exactly as typed (a secret may end in spaces or '='); empty keeps the stored one.
      if (editing && checked(body, `clear_${spec.key}`)) settings[spec.key] = null
      else if (value !== '') settings[spec.key] = value
    } else if (value.trim() !== '') settings[spec.key] = value.trim()
    else if (editing) settings[spec.key] = null
  }
  return settings
}

/** A setting another vendor takes but this one does not: refused, not silently dropped. */
function foreignSetting(body: unknown, vendor: HrVendor): string | undefined {
  const own = new Set(settingsOf(vendor).map((spec) => spec.key))
  const others = Object.values(HR_VENDORS).flatMap((other) => other.settings.map((spec) => spec.key))
  return others.find((key) => !own.has(key) && field(body, key).trim() !== '')
}

/** What to show again after a refusal: the typed values, never a secret. */
function formShown(body: unknown, vendor: HrVendor): DestinationForm {
  const settings: Record<string, string> = {}
  for (const spec of settingsOf(vendor)) if (spec.secret !== true) settings[spec.key] = field(body, spec.key)
  return { name: field(body, 'name'), settings }
}

export function registerProvisioningPages(app: FastifyInstance, services: Services): void {
  app.get('/administration/provisioning', async (request, reply) =>
    listPage(
      services,
      sessionOf(request),
      reply,
      200,
      undefined,
      listQuery(request.query, ['cursor']).cursor,
    ),
  )

  app.get<{ Querystring: { type?: string } }>('/administration/provisioning/new', async (request, reply) => {
    const session = sessionOf(request)
    const { type } = request.query
    if (!isDestinationType(type)) return listPage(services, session, reply, 400, hrVendorError(type))
    return newPage(session, reply, HR_VENDORS[type], EMPTY)
  })

  app.post('/administration/provisioning', async (request, reply) => {
    const session = sessionOf(request)
    const body = request.body
    const type = field(body, 'type')
    if (!isDestinationType(type)) return listPage(services, session, reply, 400, hrVendorError(type))
    const vendor = HR_VENDORS[type]
    try {
      const foreign = foreignSetting(body, vendor)
      if (foreign !== undefined)
        throw new AppError('bad_request', {
          message: `Unknown setting "${foreign}" for a ${vendor.type} destination`,
        })
      const created = await createDestination(services, session.tenant, {
        type,
        name: field(body, 'name'),
        settings: settingsFromForm(body, vendor, false),
      })
      return reply.redirect(`${BASE}/${created.plugin_id}?created=1`, 303)
    } catch (error) {
      const { status, message } = userError(error)
      return newPage(session, reply, vendor, formShown(body, vendor), status, message)
    }
  })

  app.get<{ Params: { pluginId: string }; Querystring: { created?: string; saved?: string } }>(
    '/administration/provisioning/:pluginId',
    async (request, reply) => {
      const session = sessionOf(request)
      const destination = await getDestination(services, session.tenant, request.params.pluginId)
      const notice =
        request.query.created !== undefined
          ? 'Destination created.'
          : request.query.saved !== undefined
            ? 'Destination saved.'
            : undefined
      return detailPage(session, reply, destination, notice)
    },
  )

  app.get<{ Params: { pluginId: string } }>(
    '/administration/provisioning/:pluginId/edit',
    async (request, reply) => {
      const session = sessionOf(request)
      const destination = await getDestination(services, session.tenant, request.params.pluginId)
      const vendor = hrVendor(destination.type)
      const settings: Record<string, string> = {}
      for (const spec of settingsOf(vendor))
        if (spec.secret !== true) settings[spec.key] = destination.settings[spec.key] ?? ''
      // login_id always reads back (its default is shown as set); an unset choice shows as "default".
      return editPage(session, reply, destination, { name: destination.name, settings })
    },
  )

  app.post<{ Params: { pluginId: string } }>(
    '/administration/provisioning/:pluginId',
    async (request, reply) => {
      const session = sessionOf(request)
      const destination = await getDestination(services, session.tenant, request.params.pluginId)
      const vendor = hrVendor(destination.type)
      const body = request.body
      try {
        await updateDestination(services, session.tenant, destination.plugin_id, {
          name: field(body, 'name'),
          settings: settingsFromForm(body, vendor, true),
        })
        return reply.redirect(`${BASE}/${destination.plugin_id}?saved=1`, 303)
      } catch (error) {
        const { status, message } = userError(error)
        return editPage(session, reply, destination, formShown(body, vendor), status, message)
      }
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
        return detailPage(
          session,
          reply,
          updated,
          enabled ? 'Destination enabled.' : 'Destination disabled: its URLs answer 404.',
        )
      },
    )
  }
}

function hrVendorError(type: string | undefined): string {
  return `${type === undefined || type === '' ? 'A type' : `Type ${type}`} is not known: pick one of ${Object.values(
    HR_VENDORS,
  )
    .map((vendor) => vendor.label)
    .join(', ')}`
}

/** The Identity Management tab: the User Manager (users and service accounts; create, disable, enable). */
import type { FastifyInstance, FastifyReply } from 'fastify'
import { summarizeHeldChanges } from '../directory/held-changes.js'
import { changeUserStatus } from '../directory/user-status.js'
import { createUser, pageUsers, type UserFilters, type UserStatus } from '../directory/users.js'
import { AppError } from '../errors.js'
import { MAX_LIMIT } from '../lists/paging.js'
import type { Services } from '../services.js'
import { checked, consoleActor, contextOf, field, sendPage, sessionOf, userError } from './forms.js'
import { heldNotice, identityNav } from './identity-nav.js'
import { badge, csrfField, html, postButton, when, wrappable } from './layout.js'
import { consolePageRequest, listQuery, pagerLinks } from './pager.js'
import type { ConsoleSession } from './session.js'

/** The User Manager's query: filters and the page, as its filter form and pager links send them. */
interface UsersQuery {
  q?: string
  status?: string
  destination?: string
  cursor?: string
}

const USERS_QUERY = ['q', 'status', 'destination', 'cursor'] as const

const STATUSES: readonly UserStatus[] = ['active', 'terminated', 'disabled']

/** 400 for a value the form never sends; empty fields are no filter. */
function readUserFilters(query: UsersQuery): UserFilters {
  const status = query.status === '' ? undefined : query.status
  if (status !== undefined && !(STATUSES as readonly string[]).includes(status))
    throw new AppError('bad_request', { message: 'status must be active, terminated or disabled' })
  const search = query.q?.trim() ?? ''
  if (search.length > 200)
    throw new AppError('bad_request', { message: 'search must be at most 200 characters' })
  return {
    status: status as UserStatus | undefined,
    destinationId: query.destination === '' ? undefined : query.destination,
    search: search === '' ? undefined : search,
  }
}

interface UserForm {
  email: string
  firstName: string
  lastName: string
  serviceAccount: boolean
  admin: boolean
}

const EMPTY: UserForm = { email: '', firstName: '', lastName: '', serviceAccount: false, admin: false }

async function usersPage(
  services: Services,
  session: ConsoleSession,
  reply: FastifyReply,
  status: number,
  form: UserForm,
  messages: { error?: string; notice?: string } = {},
  query: UsersQuery = {},
): Promise<FastifyReply> {
  const filters = readUserFilters(query)
  const found = await pageUsers(
    services.database.db,
    session.tenant.id,
    filters,
    consolePageRequest(query.cursor),
  )
  const users = found.items
  const destinations = await services.database.db
    .selectFrom('destinations')
    .select(['id', 'name'])
    .where('tenant_id', '=', session.tenant.id)
    .orderBy('name')
    .limit(MAX_LIMIT)
    .execute()
  const filtered =
    filters.status !== undefined || filters.destinationId !== undefined || filters.search !== undefined
  // The filter form submits with an input, not a button: the page's one `button[type=submit]` under
  // `form[action="/console/users"]` stays the Create user button.
  const option = (value: string, label: string, selected: string | undefined) =>
    html`<option value="${value}"${value === (selected ?? '') ? html` selected` : ''}>${label}</option>`
  const held = await summarizeHeldChanges(services.database.db, session.tenant.id)
  const rows = users.map(
    (u) => html`<tr>
<td><a href="/console/users/${u.id}">${wrappable(u.login_id)}</a></td><td>${wrappable(u.email)}</td><td>${wrappable(u.display_name)}</td>
<td>${badge(u.status, u.status === 'active')}</td><td>${u.employee_id ?? ''}</td>
<td>${u.service_account ? 'yes' : ''}${u.admin ? html` <span class="badge">admin</span>` : ''}</td><td>${when(u.created_at)}</td>
<td>${
      u.id === session.userId
        ? html`<span class="muted">you</span>`
        : u.status === 'terminated'
          ? html`<span class="muted" title="Only its HR system brings it back">by its HR system</span>`
          : u.status === 'active'
            ? postButton(`/console/users/${u.id}/disable`, 'Disable', session.csrf, 'danger')
            : u.service_account && !u.admin
              ? html`${postButton(`/console/users/${u.id}/enable`, 'Enable', session.csrf)} <a href="/console/users/${u.id}/delete">Delete</a>`
              : postButton(`/console/users/${u.id}/enable`, 'Enable', session.csrf)
    }${
      (u.service_account || u.admin) && u.status !== 'terminated'
        ? html` <a href="/console/users/${u.id}/password" data-reset-password="${u.email}">Reset password</a>`
        : ''
    }</td>
</tr>`,
  )
  return sendPage(reply, status, {
    title: 'User Manager',
    tab: 'users',
    context: contextOf(session),
    error: messages.error,
    notice: messages.notice,
    body: html`<h1>Identity Management</h1>${identityNav('users')}
${heldNotice(held)}
<section class="card"><h2>Users</h2>
<form class="filters" method="get" action="/console/users" aria-label="Filter users">
<label>Search<input type="search" name="q" value="${filters.search ?? ''}" placeholder="email or name" maxlength="200"></label>
<label>Status<select name="status">${option('', 'Any', filters.status)}${STATUSES.map((status) => option(status, status, filters.status))}</select></label>
<label>Destination<select name="destination">${option('', 'Any', filters.destinationId)}${destinations.map((d) => option(d.id, d.name, filters.destinationId))}</select></label>
<input type="submit" class="secondary" value="Filter"> <a href="/console/users">Clear</a>
</form>
${
  users.length === 0
    ? html`<p class="muted">${filtered ? 'No users match these filters.' : 'No users yet.'}</p>`
    : html`<table><thead><tr><th>Login ID</th><th>Email</th><th>Name</th><th>Status</th><th>Employee ID</th><th>Service account</th><th>Created</th><th></th></tr></thead><tbody>${rows}</tbody></table>`
}
${pagerLinks('/console/users', { q: filters.search, status: filters.status, destination: filters.destinationId }, found)}
</section>
<section class="card"><h2>Create a new user</h2>
<p class="muted">A Service Account signs in to the webhooks with its email and password (HTTP Basic); an Administrator signs in to this console.</p>
<form class="stack" method="post" action="/console/users">
${csrfField(session.csrf)}
<label for="user-email">Email (login ID)</label><input id="user-email" type="email" name="email" value="${form.email}" required>
<label for="user-first">First name</label><input id="user-first" type="text" name="first_name" value="${form.firstName}">
<label for="user-last">Last name</label><input id="user-last" type="text" name="last_name" value="${form.lastName}">
<label for="user-service">Service Account</label><span><input id="user-service" type="checkbox" name="service_account" value="1" ${form.serviceAccount ? 'checked' : ''}></span>
<label for="user-admin">Administrator</label><span><input id="user-admin" type="checkbox" name="admin" value="1" ${form.admin ? 'checked' : ''}> <span class="muted">signs in to this console</span></span>
<label for="user-password">Password</label><input id="user-password" type="password" name="password" autocomplete="new-password" placeholder="service accounts and administrators: at least 8 characters">
<div class="actions"><button type="submit">Create user</button></div>
</form></section>`,
  })
}

export function registerUserPages(app: FastifyInstance, services: Services): void {
  app.get('/users', async (request, reply) =>
    usersPage(services, sessionOf(request), reply, 200, EMPTY, {}, listQuery(request.query, USERS_QUERY)),
  )

  app.post('/users', async (request, reply) => {
    const session = sessionOf(request)
    const body = request.body
    const form: UserForm = {
      email: field(body, 'email'),
      firstName: field(body, 'first_name'),
      lastName: field(body, 'last_name'),
      serviceAccount: checked(body, 'service_account'),
      admin: checked(body, 'admin'),
    }
    const password = field(body, 'password')
    const signsIn = form.serviceAccount || form.admin
    if (password !== '' && !signsIn) {
      // Only accounts that sign in have a password; storing one for nobody would mislead.
      return usersPage(services, session, reply, 400, form, {
        error:
          'A password is only for a Service Account or an Administrator: tick one of them or leave the password empty.',
      })
    }
    try {
      const created = await createUser(services.database, session.tenant.id, {
        email: form.email,
        firstName: form.firstName,
        lastName: form.lastName,
        serviceAccount: form.serviceAccount,
        admin: form.admin,
        ...(signsIn ? { password } : {}),
        by: consoleActor(session),
      })
      request.auditTarget = created.id
      const kind = created.service_account ? 'Service account' : created.admin ? 'Administrator' : 'User'
      return usersPage(services, session, reply, 200, EMPTY, {
        notice: `${kind} ${created.email} created.`,
      })
    } catch (error) {
      const { status, message } = userError(error)
      return usersPage(services, session, reply, status, form, { error: message })
    }
  })

  for (const action of ['disable', 'enable'] as const) {
    app.post<{ Params: { id: string } }>(`/users/:id/${action}`, async (request, reply) => {
      const session = sessionOf(request)
      if (request.params.id === session.userId) {
        return usersPage(services, session, reply, 400, EMPTY, {
          error: 'You cannot change the status of your own account.',
        })
      }
      try {
        const user = await changeUserStatus(
          services,
          session.tenant.id,
          request.params.id,
          action,
          consoleActor(session),
        )
        return usersPage(services, session, reply, 200, EMPTY, {
          notice: `${user.email} ${action === 'disable' ? 'disabled' : 'enabled'}.`,
        })
      } catch (error) {
        const { status: code, message } = userError(error)
        return usersPage(services, session, reply, code, EMPTY, { error: message })
      }
    })
  }
}

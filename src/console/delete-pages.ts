/**
 * Deleting in the console, always through a confirmation page (GET …/delete shows what goes and what stays; only
 * its form's POST deletes): a revoked API key, a disabled destination without users, a disabled service account.
 * What may be deleted is decided in src/directory/deletions.ts; a refusal is shown on the confirmation page.
 */
import type { FastifyInstance, FastifyReply } from 'fastify'
import { listApiKeys } from '../auth/api-keys.js'
import { deleteDestination, deleteRevokedApiKey, deleteServiceAccount } from '../directory/deletions.js'
import { getDestination } from '../directory/destinations.js'
import { findUserById } from '../directory/users.js'
import { AppError } from '../errors.js'
import type { Services } from '../services.js'
import { contextOf, sendPage, sessionOf, userError } from './forms.js'
import { csrfField, html, type Tab } from './layout.js'
import type { ConsoleSession } from './session.js'

interface Deletable {
  tab: Tab
  /** e.g. `API key servicenow` */
  what: string
  /** What deleting it changes, and what stays. */
  consequence: string
  action: string
  back: string
}

function confirmPage(
  session: ConsoleSession,
  reply: FastifyReply,
  status: number,
  item: Deletable,
  error?: string,
): FastifyReply {
  return sendPage(reply, status, {
    title: `Delete ${item.what}`,
    tab: item.tab,
    context: contextOf(session),
    error,
    body: html`<h1>Delete ${item.what}?</h1>
<section class="card"><p>${item.consequence}</p><p><strong>This cannot be undone.</strong></p>
<form method="post" action="${item.action}">${csrfField(session.csrf)}
<button type="submit" class="danger">Delete</button> <a href="${item.back}">Cancel</a></form></section>`,
  })
}

function donePage(session: ConsoleSession, reply: FastifyReply, item: Deletable): FastifyReply {
  return sendPage(reply, 200, {
    title: `Deleted ${item.what}`,
    tab: item.tab,
    context: contextOf(session),
    notice: `Deleted ${item.what}.`,
    body: html`<p><a href="${item.back}">Back</a></p>`,
  })
}

/** GET shows the confirmation, POST deletes; `find` throws 404 for what the tenant does not have. */
function deletion(
  app: FastifyInstance,
  path: string,
  find: (session: ConsoleSession, id: string) => Promise<Deletable>,
  remove: (session: ConsoleSession, id: string) => Promise<unknown>,
): void {
  app.get<{ Params: { id: string } }>(path, async (request, reply) => {
    const session = sessionOf(request)
    return confirmPage(session, reply, 200, await find(session, request.params.id))
  })
  app.post<{ Params: { id: string } }>(path, async (request, reply) => {
    const session = sessionOf(request)
    const item = await find(session, request.params.id)
    try {
      await remove(session, request.params.id)
      return donePage(session, reply, item)
    } catch (error) {
      const { status, message } = userError(error)
      return confirmPage(session, reply, status, item, message)
    }
  })
}

export function registerDeletePages(app: FastifyInstance, services: Services): void {
  deletion(
    app,
    '/administration/api-keys/:id/delete',
    async (session, id) => {
      const key = (await listApiKeys(services.database, session.tenant.id)).find((k) => k.id === id)
      if (key === undefined) throw new AppError('not_found', { message: 'API key not found' })
      return {
        tab: 'administration',
        what: `API key ${key.name}`,
        consequence:
          'The key is removed from the list for good (a key is deleted once it is revoked). The delivery log keeps the calls it made.',
        action: `/console/administration/api-keys/${key.id}/delete`,
        back: '/console/administration/api-keys',
      }
    },
    (session, id) => deleteRevokedApiKey(services, session.tenant.id, id),
  )

  deletion(
    app,
    '/administration/provisioning/:id/delete',
    async (session, id) => {
      const destination = await getDestination(services, session.tenant, id)
      return {
        tab: 'administration',
        what: `destination ${destination.name}`,
        consequence:
          'The destination and its URLs are removed for good (a destination is deleted once it is disabled, and only when no user is linked to it). The delivery log keeps its calls.',
        action: `/console/administration/provisioning/${destination.plugin_id}/delete`,
        back: `/console/administration/provisioning/${destination.plugin_id}`,
      }
    },
    (session, id) => deleteDestination(services, session.tenant, id),
  )

  deletion(
    app,
    '/users/:id/delete',
    async (session, id) => {
      const user = await findUserById(services.database.db, session.tenant.id, id)
      if (user === null) throw new AppError('not_found', { message: 'User not found' })
      return {
        tab: 'users',
        what: `service account ${user.email}`,
        consequence:
          'The account is removed for good (a service account is deleted once it is disabled). The delivery log keeps the calls it made.',
        action: `/console/users/${user.id}/delete`,
        back: '/console/users',
      }
    },
    (session, id) => deleteServiceAccount(services, session.tenant.id, id),
  )
}

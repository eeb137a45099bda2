/** Identity Management → a service account's or administrator's **Reset password** page. */
import type { FastifyInstance, FastifyReply } from 'fastify'
import { resetPassword } from '../directory/password-reset.js'
import { findUserById, type UserDetails } from '../directory/users.js'
import { AppError } from '../errors.js'
import type { Services } from '../services.js'
import { consoleActor, contextOf, field, sendPage, sessionOf, userError } from './forms.js'
import { csrfField, html } from './layout.js'
import type { ConsoleSession } from './session.js'

function passwordPage(
  session: ConsoleSession,
  reply: FastifyReply,
  status: number,
  user: UserDetails,
  messages: { error?: string; notice?: string } = {},
): FastifyReply {
  const kind = user.service_account ? 'service account' : 'administrator'
  return sendPage(reply, status, {
    title: 'Reset password',
    tab: 'users',
    context: contextOf(session),
    error: messages.error,
    notice: messages.notice,
    body: html`<h1>Identity Management</h1>
<nav class="sub"><a href="/console/users">User Manager</a></nav>
<section class="card"><h2>Reset the password of ${kind} <code>${user.email}</code></h2>
<p class="muted">The old password stops working at once on this instance and within seconds on the others: update the
system that signs in with it (${user.service_account ? 'the helpdesk or HR system’s Basic authentication' : 'tell the administrator'}).</p>
<form class="stack" method="post" action="/console/users/${user.id}/password">
${csrfField(session.csrf)}
<label for="new-password">New password</label><input id="new-password" type="password" name="password" autocomplete="new-password" minlength="8" required>
<label for="new-password-again">Again</label><input id="new-password-again" type="password" name="password_again" autocomplete="new-password" minlength="8" required>
<div class="actions"><button type="submit">Set the new password</button> <a href="/console/users">Cancel</a></div>
</form></section>`,
  })
}

export function registerPasswordPages(app: FastifyInstance, services: Services): void {
  /** The tenant's user with a password, or a 404 / 400 the console shows. */
  async function userWithPassword(session: ConsoleSession, id: string): Promise<UserDetails> {
    const user = await findUserById(services.database.db, session.tenant.id, id)
    if (user === null) throw new AppError('not_found', { message: 'User not found' })
    if (!user.service_account && !user.admin) {
      throw new AppError('bad_request', {
        message: 'Only service accounts and administrators have a password',
      })
    }
    return user
  }

  app.get<{ Params: { id: string } }>('/users/:id/password', async (request, reply) => {
    const session = sessionOf(request)
    return passwordPage(session, reply, 200, await userWithPassword(session, request.params.id))
  })

  app.post<{ Params: { id: string } }>('/users/:id/password', async (request, reply) => {
    const session = sessionOf(request)
    const user = await userWithPassword(session, request.params.id)
    const password = field(request.body, 'password')
    if (password !== field(request.body, 'password_again')) {
      return passwordPage(session, reply, 400, user, { error: 'The two passwords differ' })
    }
    try {
      await resetPassword(services, session.tenant.id, user.id, password, consoleActor(session))
      return passwordPage(session, reply, 200, user, { notice: `New password set for ${user.email}.` })
    } catch (error) {
      const { status, message } = userError(error)
      return passwordPage(session, reply, status, user, { error: message })
    }
  })
}

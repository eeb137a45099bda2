/** What every console page shares: reading form fields, the signed-in context, sending a page. */
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { ChangeActor } from '../directory/user-history.js'
import { AppError } from '../errors.js'
import { layout, type PageContext, type PageOptions } from './layout.js'
import type { ConsoleSession } from './session.js'

/** The value of a form field as a string ('' when absent; the first one when repeated). */
export function field(body: unknown, name: string): string {
  if (typeof body !== 'object' || body === null) return ''
  const value = (body as Record<string, unknown>)[name]
  const first = Array.isArray(value) ? value[0] : value
  return typeof first === 'string' ? first : ''
}

/** A checkbox is on when the browser sent it at all. */
export function checked(body: unknown, name: string): boolean {
  return field(body, name) !== ''
}

/** The signed-in session; the session hook guarantees it on every route behind it. */
export function sessionOf(request: FastifyRequest): ConsoleSession {
  const session = request.consoleSession
  if (session === null) throw new AppError('forbidden')
  return session
}

/** Who a change made in the console is recorded as: the signed-in administrator. */
export function consoleActor(session: ConsoleSession): ChangeActor {
  return { actor: `console_admin:${session.userId}` }
}

export function contextOf(session: ConsoleSession): PageContext {
  return { tenantName: session.tenant.name, adminEmail: session.email, csrf: session.csrf }
}

/** Sends a whole HTML page with a status. */
export function sendPage(reply: FastifyReply, status: number, options: PageOptions): FastifyReply {
  return reply.code(status).type('text/html; charset=utf-8').send(layout(options))
}

/** The message and status to show for an error thrown by a domain function; others are re-thrown. */
export function userError(error: unknown): { status: number; message: string } {
  if (error instanceof AppError && error.status < 500) return { status: error.status, message: error.message }
  throw error
}

/** The web console for tenant administrators: one encapsulated Fastify plugin mounted at /console. */

import cookie from '@fastify/cookie'
import formbody from '@fastify/formbody'
import type { FastifyInstance, FastifyReply } from 'fastify'
import { auditChanges } from '../audit/audit-hook.js'
import { toAppError } from '../http/error-handler.js'
import { isSameOrigin } from '../http/same-origin.js'
import type { Services } from '../services.js'
import { tenantOfHost } from '../tenancy/host.js'
import type { Tenant } from '../tenancy/tenants.js'
import { registerActivityPages } from './activity-page.js'
import { registerAdministrationPages } from './administration-page.js'
import { CONSOLE_NAMING } from './audit-naming.js'
import { registerAuditPage } from './audit-page.js'
import { registerDeletePages } from './delete-pages.js'
import { field, sendPage } from './forms.js'
import { registerHoldPages } from './holds-page.js'
import { COPY_SCRIPT_CSP, html } from './layout.js'
import { registerLoginRoutes } from './login-page.js'
import { registerPasswordPages } from './password-page.js'
import { registerProvisioningPages } from './provisioning-page.js'
import { type ConsoleSession, csrfMatches, findSession, SESSION_COOKIE } from './session.js'
import { registerSupportPages } from './support-page.js'
import { registerSupportSettingsPages } from './support-settings-page.js'
import { registerUserPage } from './user-page.js'
import { registerUserPages } from './users-page.js'

declare module 'fastify' {
  interface FastifyRequest {
    /** The tenant of the Host, or null when unknown (the console then behaves as signed out). */
    consoleTenant: Tenant | null
    consoleSession: ConsoleSession | null
  }
}

/** Form posts are small; a larger body is refused before it is parsed. */
const FORM_BODY_LIMIT = 64 * 1024

/** Pages are for the browser that asked: no framing, no caching, nothing loaded from elsewhere. */
const SECURITY_HEADERS = {
  'content-security-policy': `default-src 'none'; script-src ${COPY_SCRIPT_CSP}; style-src 'unsafe-inline'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'`,
  'x-frame-options': 'DENY',
  'x-content-type-options': 'nosniff',
  // Not `no-referrer`: with it browsers send `Origin: null` on form posts, and the Origin check needs the origin.
  'referrer-policy': 'same-origin',
  'cache-control': 'no-store',
}

/** A POST from a page of another origin (when the browser says so) is refused. */
function forbidden(reply: FastifyReply, message: string): FastifyReply {
  return sendPage(reply, 403, {
    title: 'Forbidden',
    error: message,
    body: html`<p><a href="/console/administration">Back to the console</a></p>`,
  })
}

/**
 * Registers cookies and form bodies inside this plugin only: the webhooks keep reading every body
 * as JSON. Every page but sign-in needs a session of this tenant; every POST but sign-in needs the
 * session's CSRF token; every POST with an Origin header must come from the console's own origin.
 *
 * @example await app.register(consolePlugin(services), { prefix: '/console' })
 */
export function consolePlugin(services: Services) {
  return async function consoleRoutes(app: FastifyInstance): Promise<void> {
    await app.register(cookie)
    await app.register(formbody, { bodyLimit: FORM_BODY_LIMIT })
    app.decorateRequest('consoleTenant', null)
    app.decorateRequest('consoleSession', null)

    app.addHook('onSend', async (_request, reply, payload) => {
      reply.headers(SECURITY_HEADERS)
      return payload
    })
    app.addHook('onSend', auditChanges(services, CONSOLE_NAMING))

    app.addHook('onRequest', async (request) => {
      const tenant = await tenantOfHost(services, request.headers.host)
      request.consoleTenant = tenant
      if (tenant !== null) {
        request.consoleSession = await findSession(services.database, tenant, request.cookies[SESSION_COOKIE])
      }
    })

    app.addHook('preHandler', async (request, reply) => {
      const path = request.routeOptions.url ?? ''
      if (path === '/console/login') {
        if (request.method === 'POST' && !isSameOrigin(request))
          return forbidden(reply, 'This form was sent from another site.')
        return
      }
      if (request.consoleSession === null) return reply.redirect('/console/login', 303)
      if (request.method !== 'POST') return
      if (!isSameOrigin(request)) return forbidden(reply, 'This form was sent from another site.')
      if (!csrfMatches(request.consoleSession, field(request.body, '_csrf')))
        return forbidden(reply, 'This form has expired. Reload the page and try again.')
    })

    app.setErrorHandler(async (error, request, reply) => {
      const appError = toAppError(error)
      if (appError.status >= 500) request.log.error({ err: error }, 'console request failed')
      return sendPage(reply, appError.status, {
        title: 'Error',
        error: appError.status >= 500 ? 'Something went wrong. Try again.' : appError.message,
        body: html`<p><a href="/console/administration">Back to the console</a></p>`,
      })
    })
    app.setNotFoundHandler(async (_request, reply) =>
      sendPage(reply, 404, {
        title: 'Not found',
        error: 'This page does not exist.',
        body: html`<p><a href="/console/administration">Back to the console</a></p>`,
      }),
    )

    app.get('/', async (_request, reply) => reply.redirect('/console/administration', 303))
    registerLoginRoutes(app, services)
    registerAdministrationPages(app, services)
    registerProvisioningPages(app, services)
    registerUserPages(app, services)
    registerPasswordPages(app, services)
    registerHoldPages(app, services)
    registerUserPage(app, services)
    registerAuditPage(app, services)
    registerSupportPages(app, services)
    registerSupportSettingsPages(app, services)
    registerActivityPages(app, services)
    registerDeletePages(app, services)
  }
}

/** Who may use the Management API: a Management API key, or a console session, of the tenant named by the Host. */

import type { FastifyRequest } from 'fastify'
import type { Principal } from '../auth/authenticator.js'
import { csrfMatches, findSession, SESSION_COOKIE } from '../console/session.js'
import { AppError } from '../errors.js'
import { refuse } from '../http/authenticate.js'
import { isSameOrigin } from '../http/same-origin.js'
import type { Services } from '../services.js'
import { tenantOfHost } from '../tenancy/host.js'
import type { Tenant } from '../tenancy/tenants.js'

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS'])

/**
 * The onRequest hook of every management route. A request with an `Authorization` header is
 * checked as the webhooks check it (then must be a Management API key); one without it may carry
 * the console's session cookie instead, and then, for anything but a read, the session's CSRF token
 * in `X-CSRF-Token` (a cookie is sent by the browser on its own; the token proves the page sent it).
 * A session token is 256 random bits, so its lookup is not a guess worth a slot: a blocked address is
 * refused before it, and an unknown or expired session counts as a failure after it.
 */
export function authenticateAdministrator(
  services: Services,
  authenticate: (request: FastifyRequest) => Promise<void>,
) {
  const requireKey = requireManagementKey(services)
  return async function authenticateAdministrator(request: FastifyRequest): Promise<void> {
    const sessionToken =
      request.headers.authorization === undefined ? cookieValue(request, SESSION_COOKIE) : undefined
    if (sessionToken === undefined) {
      await authenticate(request)
      return requireKey(request)
    }
    if (services.failures.isBlocked(request.ip)) throw refuse(services, request, 'rate_limited')
    const tenant = await tenantOfHost(services, request.headers.host)
    const session = tenant === null ? null : await findSession(services.database, tenant, sessionToken)
    if (tenant === null || session === null) {
      await services.failures.recordFailure(request.ip)
      throw refuse(services, request, 'bad_credentials')
    }
    if (!SAFE_METHODS.has(request.method)) {
      const csrf = request.headers['x-csrf-token']
      if (!isSameOrigin(request) || typeof csrf !== 'string' || !csrfMatches(session, csrf)) {
        throw new AppError('forbidden', {
          message: 'A console session must send its X-CSRF-Token from the console',
        })
      }
    }
    request.tenant = tenant
    request.principal = { kind: 'console_admin', id: session.userId, tenantId: tenant.id }
  }
}

/** One cookie's value from the Cookie header (the management API reads no other cookie). */
function cookieValue(request: FastifyRequest, name: string): string | undefined {
  for (const part of (request.headers.cookie ?? '').split(';')) {
    const [key, ...value] = part.trim().split('=')
    if (key === name) return value.join('=')
  }
  return undefined
}

/**
 * Runs after the webhooks' authenticate hook, which has found the tenant and checked the credentials.
 * A service account may call webhooks but does not administer its tenant: it is refused exactly like
 * bad credentials (and counts as a failure for the client address).
 *
 */
function requireManagementKey(services: Services) {
  return async function requireAdministrator(request: FastifyRequest): Promise<void> {
    if (request.principal !== undefined && administers(request.principal)) return
    await services.failures.recordFailure(request.ip)
    throw refuse(services, request, 'bad_credentials')
  }
}

/** Whether a principal may administer its tenant: Management API keys and signed-in administrators. */
export function administers(principal: Principal): boolean {
  return principal.kind === 'api_key' || principal.kind === 'console_admin'
}

/** The caller's tenant and principal, which the hooks above guarantee on every management route. */
export function callerOf(request: FastifyRequest): { tenant: Tenant; principal: Principal } {
  const { tenant, principal } = request
  // Reaching a handler without them is a wiring bug; it fails closed.
  if (tenant === undefined || principal === undefined) throw new AppError('unauthorized')
  return { tenant, principal }
}

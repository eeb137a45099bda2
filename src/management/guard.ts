/** Who may use the Management API: a Management API key of the tenant named by the Host (SPEC §9). */
import type { FastifyRequest } from 'fastify'
import type { Principal } from '../auth/authenticator.js'
import { AppError } from '../errors.js'
import type { Services } from '../services.js'
import type { Tenant } from '../tenancy/tenants.js'

/**
 * Runs after the webhooks' authenticate hook, which has found the tenant and checked the credentials.
 * A service account may call webhooks but does not administer its tenant: it is refused exactly like
 * bad credentials (and counts as a failure for the client address).
 *
 * The seam for console sessions: when the console signs administrators in, their session principal
 * is accepted here too (see administers()).
 */
export function requireManagementKey(services: Services) {
  return async function requireAdministrator(request: FastifyRequest): Promise<void> {
    if (request.principal !== undefined && administers(request.principal)) return
    services.failures.recordFailure(request.ip)
    throw new AppError('unauthorized', { reason: 'not a Management API key' })
  }
}

/** Whether a principal may administer its tenant; today only Management API keys may. */
export function administers(principal: Principal): boolean {
  return principal.kind === 'api_key'
}

/** The caller's tenant and principal, which the hooks above guarantee on every management route. */
export function callerOf(request: FastifyRequest): { tenant: Tenant; principal: Principal } {
  const { tenant, principal } = request
  // Reaching a handler without them is a wiring bug; it fails closed.
  if (tenant === undefined || principal === undefined) throw new AppError('unauthorized')
  return { tenant, principal }
}

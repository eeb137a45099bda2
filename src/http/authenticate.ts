/** The onRequest hook of every authenticated route: failure limits, tenant, credentials. */
import type { FastifyRequest } from 'fastify'
import type { RefusalReason } from '../auth/refused-calls.js'
import { AppError } from '../errors.js'
import type { Services } from '../services.js'
import { tenantOfHost } from '../tenancy/host.js'

/**
 * Runs before the body is read, so bad credentials are answered 401 whatever the body.
 * An unknown tenant fails exactly like bad credentials, and costs the same: its name is cached like a
 * known one, its credentials are checked (against no tenant) under the same limits, and the refusal
 * is counted in memory either way. A refused call writes nothing to the delivery log (the tenant is
 * set on the request only once the caller is authenticated); it is counted per tenant and hour.
 */
export function authenticateHook(services: Services) {
  return async function authenticate(request: FastifyRequest): Promise<void> {
    const address = request.ip
    if (services.failures.isBlocked(address)) throw refuse(services, request, 'rate_limited')
    const tenant = await tenantOfHost(services, request.headers.host)
    // '' is no tenant's id: an unknown tenant's credentials are checked (and fail) at the same cost.
    const outcome = await services.authenticator.authenticate(
      request.headers.authorization,
      tenant?.id ?? '',
      address,
    )
    if (outcome.ok && tenant !== null) {
      request.tenant = tenant
      request.principal = outcome.principal
      return
    }
    const limited = !outcome.ok && outcome.limited
    const endpoint = request.routeOptions.config.webhook
    if (!limited && tenant !== null && endpoint !== undefined)
      services.refusedCalls.record(tenant.id, endpoint)
    throw refuse(services, request, limited ? 'rate_limited' : 'bad_credentials')
  }
}

/** Counts a refusal for /metrics and makes its error: `401` or `429`, `{"error":"ERROR"}` either way. */
export function refuse(services: Services, request: FastifyRequest, reason: RefusalReason): AppError {
  services.refusedCalls.count(
    request.routeOptions.config.webhook === undefined ? 'management' : 'webhook',
    reason,
  )
  return reason === 'rate_limited'
    ? new AppError('rate_limited')
    : new AppError('unauthorized', { reason: 'authentication failed' })
}

/** The onRequest hook of every authenticated route: client address limit, tenant, credentials. */
import type { FastifyRequest } from 'fastify'
import { AppError } from '../errors.js'
import type { Services } from '../services.js'
import { tenantOfHost } from '../tenancy/host.js'

/**
 * Runs before the body is read, so bad credentials are answered 401 whatever the body.
 * An unknown tenant fails exactly like bad credentials, and still pays for a credential check,
 * so neither the answer nor its timing tells which tenants exist.
 */
export function authenticateHook(services: Services) {
  return async function authenticate(request: FastifyRequest): Promise<void> {
    const address = request.ip
    if (services.failures.isBlocked(address)) throw new AppError('rate_limited')
    const tenant = await tenantOfHost(services, request.headers.host)
    if (tenant !== null) request.tenant = tenant
    // '' is no tenant's id: an unknown tenant's credentials are checked (and fail) at the same cost.
    const principal = await services.authenticator.authenticate(
      request.headers.authorization,
      tenant?.id ?? '',
    )
    if (principal === null || tenant === null) {
      services.failures.recordFailure(address)
      throw new AppError('unauthorized', { reason: 'authentication failed' })
    }
    request.principal = principal
  }
}

/** Whether a request that changes something was sent by a page of this very site. */
import type { FastifyRequest } from 'fastify'

/**
 * True when the request has no Origin header (not a browser's cross-site request) or names this
 * host and scheme: what the console's forms and a console session's API calls must satisfy.
 */
export function isSameOrigin(request: FastifyRequest): boolean {
  const origin = request.headers.origin
  return origin === undefined || origin === `${request.protocol}://${request.host}`
}

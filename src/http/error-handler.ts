/** Turns every error into the contract's `{"error":"…"}` answer, and logs failed webhook deliveries. */
import { performance } from 'node:perf_hooks'
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify'
import { principalName } from '../auth/authenticator.js'
import { recordDelivery } from '../deliveries/deliveries.js'
import { AppError } from '../errors.js'
import type { Services } from '../services.js'

/** Fastify's own errors, mapped to the contract's messages. */
export function toAppError(error: unknown): AppError {
  if (error instanceof AppError) return error
  const fastifyError = error as Partial<FastifyError>
  if (fastifyError.code === 'FST_ERR_CTP_BODY_TOO_LARGE' || fastifyError.statusCode === 413)
    return new AppError('body_too_large')
  if (typeof fastifyError.code === 'string' && fastifyError.code.startsWith('FST_ERR_CTP_'))
    return new AppError('body_not_object')
  if (fastifyError.validation !== undefined)
    return new AppError('bad_request', { message: fastifyError.message ?? 'Bad request' })
  const status = fastifyError.statusCode
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return new AppError(status === 404 ? 'not_found' : 'bad_request', { reason: fastifyError.message })
  }
  return new AppError('internal', {
    reason: error instanceof Error ? error.message : String(error),
    cause: error,
  })
}

export function errorHandler(services: Services) {
  return async function handleError(error: unknown, request: FastifyRequest, reply: FastifyReply) {
    const appError = toAppError(error)
    if (appError.status >= 500) request.log.error({ err: error }, 'request failed')
    const endpoint = request.routeOptions.config.webhook
    if (endpoint !== undefined && request.tenant !== undefined) {
      try {
        await services.database.transaction((trx) =>
          recordDelivery(trx, {
            tenantId: request.tenant?.id ?? '',
            endpoint,
            destinationId: request.destinationId ?? null,
            principal: request.principal === undefined ? null : principalName(request.principal),
            statusCode: appError.status,
            error: appError.message,
            reason: appError.reason ?? null,
            requestId: request.id,
            durationMs: performance.now() - request.startedAt,
            requestBody: request.body,
          }),
        )
      } catch (logError) {
        request.log.error({ err: logError }, 'could not write the delivery log')
      }
    }
    return reply.code(appError.status).send({ error: appError.message })
  }
}

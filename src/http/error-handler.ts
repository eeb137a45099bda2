/** Turns every error into the contract's `{"error":"…"}` answer, and logs failed webhook deliveries. */
import { performance } from 'node:perf_hooks'
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify'
import { principalName } from '../auth/authenticator.js'
import { recordDelivery } from '../deliveries/deliveries.js'
import { AppError } from '../errors.js'
import type { Services } from '../services.js'
import { isStorageFailure, isUnstorableValue } from '../storage/storage-errors.js'

/** Fastify's own errors and the databases' refusals, mapped to the contract's messages. */
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
  const reason = error instanceof Error ? error.message : String(error)
  // Values are bounded before storage (src/value-bounds.ts): this is the net under that, so a value
  // the database refuses is the caller's 400, never a 500.
  if (isUnstorableValue(error)) return new AppError('value_not_storable', { reason, cause: error })
  if (isStorageFailure(error)) return new AppError('storage_unavailable', { reason, cause: error })
  return new AppError('internal', { reason, cause: error })
}

/** What the delivery log says about a body it could not keep, when the failure itself explains it. */
function bodyNoteOf(request: FastifyRequest, error: AppError): string | null {
  if (request.bodyNote !== undefined) return request.bodyNote
  if (error.code === 'body_too_large') return 'Not kept: the body was over 1 MiB'
  return null
}

export function errorHandler(services: Services) {
  return async function handleError(error: unknown, request: FastifyRequest, reply: FastifyReply) {
    const appError = toAppError(error)
    if (appError.status >= 500 || appError.code === 'value_not_storable')
      request.log.error({ err: error }, 'request failed')
    const endpoint = request.routeOptions.config.webhook
    // Every call that got past authentication is logged, refused or not; the body is kept as far as
    // it can be (see deliveries/stored-body.ts), and the entry says what was not.
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
            bodyNote: bodyNoteOf(request, appError),
          }),
        )
      } catch (logError) {
        request.log.error({ err: logError }, 'could not write the delivery log')
      }
    }
    return reply.code(appError.status).send({ error: appError.message })
  }
}

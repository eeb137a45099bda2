/** Builds a WebhookCall from an authenticated Fastify request. */
import type { FastifyRequest } from 'fastify'
import { AppError } from '../errors.js'
import { requireObject } from './fields.js'
import { readIdempotencyKey } from './idempotency.js'
import type { WebhookCall } from './run-webhook.js'

export function webhookCall(request: FastifyRequest, endpoint: string): WebhookCall {
  const { tenant, principal } = request
  // The authenticate hook guarantees both; reaching here without them is a wiring bug.
  if (tenant === undefined || principal === undefined) throw new AppError('unauthorized')
  const body = requireObject(request.body)
  return {
    tenant,
    principal,
    endpoint,
    requestId: request.id,
    idempotencyKey: readIdempotencyKey(request.headers['idempotency-key']),
    body,
    startedAt: request.startedAt,
    ...(request.destinationId === undefined ? {} : { destinationId: request.destinationId }),
  }
}

/** Replay of a failed webhook delivery: its stored body through the same webhook logic, logged as a new delivery. */
import { performance } from 'node:perf_hooks'
import type { FastifyBaseLogger } from 'fastify'
import { type Principal, principalName } from '../auth/authenticator.js'
import { type Delivery, getDelivery, recordDelivery } from '../deliveries/deliveries.js'
import { AppError } from '../errors.js'
import type { Services } from '../services.js'
import type { Tenant } from '../tenancy/tenants.js'
import { requireObject } from './fields.js'
import { isHrEndpoint, runHrWebhook } from './hr-routes.js'
import type { WebhookCall, WebhookResult } from './run-webhook.js'
import { deliveryKeyOf, isTicketEndpoint, runTicketWebhook } from './ticket-routes.js'

/** Who replays, and the management request that asked for it. */
export interface Replayer {
  tenant: Tenant
  principal: Principal
  requestId: string
  /** performance.now() when the request arrived. */
  startedAt: number
  log: Pick<FastifyBaseLogger, 'error'>
}

export interface ReplayResult {
  /** The new delivery log entry; its `replay_of` names the original delivery. */
  delivery: Delivery
  /** What the webhook answered this time. */
  status: number
  body: unknown
}

/**
 * Re-runs a failed delivery of the tenant as `replayer.principal`, for the same tenant and destination.
 *
 * Replays of one original share one Idempotency-Key (the original's, else `replay:<original id>`),
 * so replaying twice, or at once from two consoles, makes one ticket or change; and the support
 * system gets the original's delivery key, so Zendesk answers a ticket an earlier attempt made.
 * 404 for an unknown delivery (or another tenant's); 400 for a delivery that succeeded.
 *
 * @example const { delivery, status, body } = await replayDelivery(services, replayer, 'dlv_…')
 */
export async function replayDelivery(
  services: Services,
  replayer: Replayer,
  deliveryId: string,
): Promise<ReplayResult> {
  const { db } = services.database
  const { tenant } = replayer
  const delivery = await getDelivery(db, tenant.id, deliveryId)
  if (delivery === null) throw new AppError('not_found', { message: 'Delivery not found' })
  if (delivery.status >= 200 && delivery.status < 300) {
    throw new AppError('bad_request', { message: 'Only failed deliveries can be replayed' })
  }
  const { endpoint } = delivery
  if (!isTicketEndpoint(endpoint) && !isHrEndpoint(endpoint)) {
    throw new AppError('bad_request', { message: `Deliveries of ${endpoint} cannot be replayed` })
  }
  if (delivery.request_body === null) {
    // Refused before its body was read (credentials, size): there is nothing to run again.
    throw new AppError('bad_request', { message: 'This delivery has no stored request body to replay' })
  }
  const original =
    delivery.replay_of === null
      ? delivery
      : ((await getDelivery(db, tenant.id, delivery.replay_of)) ?? delivery)

  const call: WebhookCall = {
    tenant,
    principal: replayer.principal,
    endpoint,
    requestId: replayer.requestId,
    idempotencyKey: original.idempotency_key ?? `replay:${original.id}`,
    body: {},
    startedAt: replayer.startedAt,
    replayOf: original.id,
    ...(delivery.destination_id === null ? {} : { destinationId: delivery.destination_id }),
  }
  let result: WebhookResult
  try {
    call.body = requireObject(delivery.request_body)
    if (isTicketEndpoint(endpoint)) {
      const deliveryKey = deliveryKeyOf(original.request_id, original.idempotency_key)
      result = await runTicketWebhook(services, call, endpoint, deliveryKey)
    } else {
      const destination =
        delivery.destination_id === null
          ? null
          : await services.destinations.findEnabled(tenant.id, delivery.destination_id)
      if (destination === null) {
        throw new AppError('destination_not_found', {
          reason: 'the destination of this delivery no longer exists or is disabled',
        })
      }
      result = await runHrWebhook(services, call, destination, endpoint)
    }
  } catch (error) {
    return recordFailure(services, replayer, call, delivery.request_body, error)
  }
  const entry = await getDelivery(db, tenant.id, result.deliveryId)
  if (entry === null) throw new Error(`The replay's delivery ${result.deliveryId} was not found`)
  return { delivery: withoutBody(entry), status: result.status, body: result.body }
}

/** A replay that failed is logged like a webhook call that failed: the same status and message. */
async function recordFailure(
  services: Services,
  replayer: Replayer,
  call: WebhookCall,
  requestBody: unknown,
  error: unknown,
): Promise<ReplayResult> {
  const failure =
    error instanceof AppError
      ? error
      : new AppError('internal', { reason: error instanceof Error ? error.message : String(error) })
  if (failure.status >= 500) replayer.log.error({ err: error }, 'replay failed')
  const id = await services.database.transaction((trx) =>
    recordDelivery(trx, {
      tenantId: call.tenant.id,
      endpoint: call.endpoint,
      destinationId: call.destinationId ?? null,
      principal: principalName(call.principal),
      statusCode: failure.status,
      error: failure.message,
      reason: failure.reason ?? null,
      requestId: call.requestId,
      idempotencyKey: call.idempotencyKey,
      durationMs: performance.now() - call.startedAt,
      requestBody,
      replayOf: call.replayOf ?? null,
    }),
  )
  const entry = await getDelivery(services.database.db, call.tenant.id, id)
  if (entry === null) throw new Error(`The replay's delivery ${id} was not found`)
  return { delivery: withoutBody(entry), status: failure.status, body: { error: failure.message } }
}

function withoutBody(entry: Delivery & { request_body: unknown }): Delivery {
  const { request_body: _body, ...delivery } = entry
  return delivery
}

/** One webhook call from authenticated request to durable answer: idempotency, the work, the delivery log. */
import { performance } from 'node:perf_hooks'
import { type Principal, principalName } from '../auth/authenticator.js'
import { recordDelivery } from '../deliveries/deliveries.js'
import { newId } from '../ids.js'
import { type Database, isUniqueViolation, type Tx } from '../storage/database.js'
import type { Tenant } from '../tenancy/tenants.js'
import type { JsonObject } from './fields.js'
import { findStoredAnswer, requestHash, storeAnswer } from './idempotency.js'

export interface WebhookCall {
  tenant: Tenant
  principal: Principal
  endpoint: string
  destinationId?: string
  requestId: string
  idempotencyKey: string | null
  body: JsonObject
  /** performance.now() when the request arrived. */
  startedAt: number
  /** Set when the call replays a logged delivery: that delivery's id, written to the new entry. */
  replayOf?: string
}

export interface WebhookAnswer {
  status: number
  body: unknown
  ticketNumber?: number
  userId?: string
  /** Why, for the administrator reading the delivery log. */
  reason?: string
}

/**
 * Writes the idempotency record and the delivery entry inside the transaction that commits the
 * answer's change: the answer, its replay record and its log entry land together or not at all.
 */
export type CommitAnswer = (trx: Tx, answer: WebhookAnswer) => Promise<void>

/**
 * Runs after a unique violation: one for a race lost at a unique index, one more for work whose first
 * attempt assumed a new employee (an HR adduser on PostgreSQL) and then lost such a race.
 */
const MAX_RETRIES = 2

/** The answer, and the id of the delivery log entry written with it. */
export type WebhookResult = WebhookAnswer & { deliveryId: string }

/**
 * Runs `work` for an authenticated call. An Idempotency-Key already used with the same request
 * answers what was stored; a race lost at a unique index (the same incident or key arriving twice
 * at once) runs the call once more, where it then finds the winner's result. `work` learns which
 * attempt it is: a first attempt may assume what a unique index would refuse (see MAX_RETRIES).
 * Failures are thrown as they are: the error handler answers them and logs the delivery.
 */
export async function runWebhook(
  database: Database,
  call: WebhookCall,
  work: (commit: CommitAnswer, deliveryId: string, attempt: number) => Promise<WebhookAnswer>,
): Promise<WebhookResult> {
  // Known before the work runs, so what it changes can name the delivery that changed it. Every
  // attempt that could use it before the last was rolled back.
  const deliveryId = newId('dlv')
  // The destination is part of the request: the same key and body sent to two destinations are two requests.
  const target = call.destinationId === undefined ? call.endpoint : `${call.endpoint}@${call.destinationId}`
  const hash = call.idempotencyKey === null ? '' : requestHash(target, call.body)
  for (let attempt = 0; ; attempt++) {
    if (call.idempotencyKey !== null) {
      const stored = await findStoredAnswer(database.db, call.tenant.id, call.idempotencyKey, hash)
      if (stored !== null) {
        const answer: WebhookAnswer = {
          ...stored,
          ...storedOutcome(stored.body),
          reason: 'Idempotency-Key repeat: answered as the first call, nothing changed',
        }
        await database.transaction((trx) => logDelivery(trx, call, answer, deliveryId))
        return { ...answer, deliveryId }
      }
    }
    let committedId: string | null = null
    const commit: CommitAnswer = async (trx, answer) => {
      if (call.idempotencyKey !== null && answer.status >= 200 && answer.status < 300) {
        await storeAnswer(trx, call.tenant.id, call.idempotencyKey, hash, answer)
      }
      committedId = await logDelivery(trx, call, answer, deliveryId)
    }
    try {
      const answer = await work(commit, deliveryId, attempt)
      if (committedId === null)
        await database.transaction((trx) => logDelivery(trx, call, answer, deliveryId))
      return { ...answer, deliveryId }
    } catch (error) {
      if (attempt < MAX_RETRIES && isUniqueViolation(error)) continue
      throw error
    }
  }
}

/** The ticket number or user id a stored answer names, so the repeat's log entry names it too. */
function storedOutcome(body: unknown): Pick<WebhookAnswer, 'ticketNumber' | 'userId'> {
  if (typeof body !== 'object' || body === null) return {}
  const { ticket, user } = body as { ticket?: unknown; user?: unknown }
  const userId = typeof user === 'object' && user !== null ? (user as { id?: unknown }).id : undefined
  return {
    ...(typeof ticket === 'number' ? { ticketNumber: ticket } : {}),
    ...(typeof userId === 'string' ? { userId } : {}),
  }
}

function logDelivery(trx: Tx, call: WebhookCall, answer: WebhookAnswer, id: string): Promise<string> {
  const error =
    typeof answer.body === 'object' && answer.body !== null && 'error' in answer.body
      ? String(answer.body.error)
      : null
  return recordDelivery(trx, {
    id,
    tenantId: call.tenant.id,
    endpoint: call.endpoint,
    destinationId: call.destinationId ?? null,
    principal: principalName(call.principal),
    statusCode: answer.status,
    error,
    reason: answer.reason ?? null,
    ticketNumber: answer.ticketNumber ?? null,
    userId: answer.userId ?? null,
    requestId: call.requestId,
    idempotencyKey: call.idempotencyKey,
    durationMs: performance.now() - call.startedAt,
    requestBody: call.body,
    replayOf: call.replayOf ?? null,
  })
}

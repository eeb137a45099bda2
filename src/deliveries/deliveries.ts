/** The delivery log: one entry per webhook call, its outcome, and what a replay needs. Never a secret. */
import { newId } from '../ids.js'
import type { Db } from '../storage/database.js'
import { preparedQuery } from '../storage/prepared-query.js'
import type { DeliveryTable } from '../storage/schema.js'

export interface NewDelivery {
  tenantId: string
  endpoint: string
  destinationId?: string | null
  principal: string | null
  statusCode: number
  error: string | null
  reason?: string | null
  ticketNumber?: number | null
  userId?: string | null
  requestId: string
  idempotencyKey?: string | null
  durationMs: number
  /** The parsed JSON body; headers (and so Authorization) are never stored. */
  requestBody: unknown
  replayOf?: string | null
}

/** A delivery log entry as the CLI, management API and console show it. */
export interface Delivery {
  id: string
  endpoint: string
  destination_id: string | null
  principal: string | null
  status: number
  error: string | null
  reason: string | null
  ticket: number | null
  user_id: string | null
  request_id: string
  idempotency_key: string | null
  duration_ms: number
  replay_of: string | null
  created_at: string
}

/** Writes an entry with `db`, which may be the transaction that commits the change it describes. */
export async function recordDelivery(db: Db, entry: NewDelivery): Promise<string> {
  const id = newId('dlv')
  await insertDelivery(db, {
    id,
    tenant_id: entry.tenantId,
    endpoint: entry.endpoint,
    destination_id: entry.destinationId ?? null,
    principal: entry.principal,
    status_code: entry.statusCode,
    error: entry.error,
    reason: entry.reason ?? null,
    ticket_number: entry.ticketNumber ?? null,
    user_id: entry.userId ?? null,
    request_id: entry.requestId,
    idempotency_key: entry.idempotencyKey ?? null,
    duration_ms: Math.round(entry.durationMs),
    request_body: entry.requestBody === undefined ? null : JSON.stringify(entry.requestBody),
    replay_of: entry.replayOf ?? null,
    created_at: new Date().toISOString(),
  })
  return id
}

const insertDelivery = preparedQuery((db, row: DeliveryTable) => db.insertInto('deliveries').values(row))

function toDelivery(row: DeliveryTable): Delivery {
  return {
    id: row.id,
    endpoint: row.endpoint,
    destination_id: row.destination_id,
    principal: row.principal,
    status: row.status_code,
    error: row.error,
    reason: row.reason,
    ticket: row.ticket_number,
    user_id: row.user_id,
    request_id: row.request_id,
    idempotency_key: row.idempotency_key,
    duration_ms: row.duration_ms,
    replay_of: row.replay_of,
    created_at: row.created_at,
  }
}

/** Newest first; `failed` keeps the entries whose answer was not 2xx. */
export async function listDeliveries(
  db: Db,
  tenantId: string,
  options: { failed?: boolean; limit?: number } = {},
): Promise<Delivery[]> {
  let query = db.selectFrom('deliveries').selectAll().where('tenant_id', '=', tenantId)
  if (options.failed === true)
    query = query.where((eb) => eb.or([eb('status_code', '<', 200), eb('status_code', '>=', 300)]))
  const rows = await query
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .limit(options.limit ?? 100)
    .execute()
  return rows.map(toDelivery)
}

/** One entry with its stored request body (for replay). */
export async function getDelivery(
  db: Db,
  tenantId: string,
  id: string,
): Promise<(Delivery & { request_body: unknown }) | null> {
  const row = await db
    .selectFrom('deliveries')
    .selectAll()
    .where('tenant_id', '=', tenantId)
    .where('id', '=', id)
    .executeTakeFirst()
  if (row === undefined) return null
  return { ...toDelivery(row), request_body: row.request_body === null ? null : JSON.parse(row.request_body) }
}

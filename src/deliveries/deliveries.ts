/** The delivery log: one entry per webhook call, its outcome, and what a replay needs. Never a secret. */
import { newId } from '../ids.js'
import { keysetPage, type Page, type PageRequest } from '../lists/paging.js'
import type { TimeRange } from '../lists/time-range.js'
import type { Db } from '../storage/database.js'
import { preparedQuery } from '../storage/prepared-query.js'
import type { DeliveryTable } from '../storage/schema.js'
import { maskSecrets } from './secret-fields.js'
import { storedBody } from './stored-body.js'

export interface NewDelivery {
  /** Given when the change it describes names it in the same transaction (user history, held changes). */
  id?: string
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
  /** Why there is no body to keep (not JSON, too large), when there is none. */
  bodyNote?: string | null
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
  /** Set when the stored body is not the body as received (or there is none): what was left out, and why. */
  body_note: string | null
  created_at: string
}

/**
 * Writes an entry with `db`, which may be the transaction that commits the change it describes.
 * Any body can be recorded: one that cannot be kept as received is trimmed, and the entry says so.
 */
export async function recordDelivery(db: Db, entry: NewDelivery): Promise<string> {
  const id = entry.id ?? newId('dlv')
  const body = storedBody(entry.requestBody)
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
    request_body: body.text,
    request_body_note: body.note ?? entry.bodyNote ?? null,
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
    body_note: row.request_body_note,
    created_at: row.created_at,
  }
}

/** What a delivery-log list can be narrowed to (every filter optional). */
export interface DeliveryFilters {
  /** succeeded: answered 2xx; failed: anything else. */
  outcome?: 'succeeded' | 'failed' | undefined
  /** servicenow, createticket, adduser, modifyuser or deleteuser. */
  endpoint?: string | undefined
  /** A provisioning destination's plugin id. */
  destinationId?: string | undefined
  range?: TimeRange | undefined
}

/**
 * One page of the delivery log, newest first (ids sort by creation time), narrowed by `filters`.
 *
 * @example const page = await pageDeliveries(db, tenantId, { outcome: 'failed' }, { limit: 100, cursor: null })
 */
export async function pageDeliveries(
  db: Db,
  tenantId: string,
  filters: DeliveryFilters,
  request: PageRequest,
): Promise<Page<Delivery>> {
  const page = await keysetPage(
    request,
    'desc',
    (row: DeliveryTable) => row.id,
    (bound, order, limit) => {
      let query = db.selectFrom('deliveries').selectAll().where('tenant_id', '=', tenantId)
      if (filters.outcome === 'failed')
        query = query.where((eb) => eb.or([eb('status_code', '<', 200), eb('status_code', '>=', 300)]))
      if (filters.outcome === 'succeeded')
        query = query.where('status_code', '>=', 200).where('status_code', '<', 300)
      if (filters.endpoint !== undefined) query = query.where('endpoint', '=', filters.endpoint)
      if (filters.destinationId !== undefined)
        query = query.where('destination_id', '=', filters.destinationId)
      if (filters.range?.since != null) query = query.where('created_at', '>=', filters.range.since)
      if (filters.range?.until != null) query = query.where('created_at', '<', filters.range.until)
      if (bound !== null) query = query.where('id', bound.op, bound.key)
      return query.orderBy('id', order).limit(limit).execute()
    },
  )
  return { ...page, items: page.items.map(toDelivery) }
}

/** Newest first, the first page only; `failed` keeps the entries whose answer was not 2xx. */
export async function listDeliveries(
  db: Db,
  tenantId: string,
  options: { failed?: boolean; limit?: number } = {},
): Promise<Delivery[]> {
  const page = await pageDeliveries(
    db,
    tenantId,
    { outcome: options.failed === true ? 'failed' : undefined },
    { limit: options.limit ?? 100, cursor: null },
  )
  return page.items
}

/**
 * One entry with its stored request body as it was stored: for replay only. Everything that shows
 * a body to a person or a script reads it through readDelivery.
 */
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

/**
 * One entry with its stored request body for reading (management API, CLI, console): every field
 * whose name looks like a secret, at any depth, reads `********` (see secret-fields.ts).
 *
 * @example const delivery = await readDelivery(db, tenantId, 'dlv_…') // delivery.request_body.password === '********'
 */
export async function readDelivery(
  db: Db,
  tenantId: string,
  id: string,
): Promise<(Delivery & { request_body: unknown }) | null> {
  const found = await getDelivery(db, tenantId, id)
  return found === null ? null : { ...found, request_body: maskSecrets(found.request_body) }
}

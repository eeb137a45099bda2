/** Tickets of the built-in support system: create, repeat (ServiceNow), read. */
import { AppError } from '../errors.js'
import { newId } from '../ids.js'
import { keysetPage, type Page, type PageRequest } from '../lists/paging.js'
import type { TimeRange } from '../lists/time-range.js'
import { type Database, type Db, isUniqueViolation, type Tx } from '../storage/database.js'
import { preparedQuery } from '../storage/prepared-query.js'
import type { TicketCommentTable, TicketTable } from '../storage/schema.js'
import type { Priority } from './priority.js'
import { isRequester } from './requesters.js'
import { forgetTicketNumbers, nextTicketNumber } from './ticket-numbers.js'

/** The domain command every TICKETS webhook turns into. */
export interface CreateTicket {
  source: 'servicenow' | 'generic'
  subject: string
  requesterEmail: string
  priority: Priority
  firstComment: string
  /** ServiceNow's sys_id (or number), sent on as the ticket's external id. */
  externalId: string | null
  /** Set for sources that resend the same incident: the same key finds the same ticket. */
  dedupeKey: string | null
  /** Every field received, in the order received: a repeat reports the ones that changed. */
  fields: Record<string, unknown>
}

export interface TicketOutcome {
  number: number
  /** False when a repeat found the ticket made by an earlier call. */
  created: boolean
}

export interface TicketWriteOptions {
  /** Runs inside the transaction that commits the ticket, so what it writes lands with it or not at all. */
  inTransaction?: (trx: Tx, outcome: TicketOutcome) => Promise<void>
}

/** One `field: value` line of a comment; values that are not strings are written as JSON. */
export function fieldLine(field: string, value: unknown): string {
  return `${field}: ${typeof value === 'string' ? value : JSON.stringify(value)}`
}

/** The lines for the fields of `next` that are new or differ from `previous`, in the order of `next`. */
export function changedFieldLines(
  previous: Record<string, unknown>,
  next: Record<string, unknown>,
): string[] {
  return Object.entries(next)
    .filter(
      ([field, value]) =>
        !Object.hasOwn(previous, field) || JSON.stringify(previous[field]) !== JSON.stringify(value),
    )
    .map(([field, value]) => fieldLine(field, value))
}

/**
 * Creates a ticket in the built-in support system, or finds the one an earlier call with the same
 * dedupe key made and adds the changed fields to it as a comment.
 * Uniqueness is the database's: the (tenant, dedupe key) and (tenant, number) indexes; a caller that
 * loses a race gets a unique violation and retries (see webhooks/run-webhook.ts).
 */
export async function createBuiltinTicket(
  database: Database,
  tenantId: string,
  command: CreateTicket,
  options: TicketWriteOptions = {},
): Promise<TicketOutcome> {
  if (!(await isRequester(database.db, tenantId, command.requesterEmail))) {
    throw new AppError('requester_not_found', {
      reason: `${command.requesterEmail} is not a support account of this tenant`,
    })
  }
  // The number is taken before the transaction (never inside it: on SQLite taking a block is a write
  // of its own). A repeat of a known incident needs none, so it is looked for first.
  const known =
    command.dedupeKey === null ? undefined : await findByDedupeKey(database.db, tenantId, command.dedupeKey)
  const number = known === undefined ? await nextTicketNumber(database, tenantId) : null
  try {
    return await database.transaction(async (trx) => {
      const existing =
        command.dedupeKey === null ? undefined : await findByDedupeKey(trx, tenantId, command.dedupeKey)
      let outcome: TicketOutcome
      if (existing !== undefined) {
        await recordRepeat(trx, existing, command.fields)
        outcome = { number: existing.number ?? 0, created: false }
      } else {
        // Known a moment ago but gone now (deleted since): one number straight from the counter.
        const taken = number ?? (await takeOneNumber(trx, tenantId))
        await insertTicketRow(trx, tenantId, command, 'builtin', taken)
        outcome = { number: taken, created: true }
      }
      await options.inTransaction?.(trx, outcome)
      return outcome
    })
  } catch (error) {
    // A number of this process's block was taken by another system (see zendesk-tickets.ts
    // keepCounterAbove): the retry takes a fresh block, above it.
    if (isTicketNumberClash(error)) forgetTicketNumbers(database, tenantId)
    throw error
  }
}

export async function findByDedupeKey(
  db: Db,
  tenantId: string,
  dedupeKey: string,
): Promise<TicketTable | undefined> {
  return db
    .selectFrom('tickets')
    .selectAll()
    .where('tenant_id', '=', tenantId)
    .where('dedupe_key', '=', dedupeKey)
    .executeTakeFirst()
}

/** A unique violation of the (tenant, number) index, as PostgreSQL (by index name) or SQLite (by columns) reports it. */
function isTicketNumberClash(error: unknown): boolean {
  if (!isUniqueViolation(error)) return false
  const { constraint, message } = error as { constraint?: unknown; message?: unknown }
  return constraint === 'tickets_number' || String(message).includes('tickets.tenant_id, tickets.number')
}

const takeTicketNumber = preparedQuery((db, p: { tenantId: string }) =>
  db
    .updateTable('tenants')
    .set((eb) => ({ next_ticket_number: eb('next_ticket_number', '+', 1) }))
    .where('id', '=', p.tenantId)
    .returning('next_ticket_number'),
)

/** Takes one number from the tenant's counter inside `trx` (a row lock on PostgreSQL until it ends). */
async function takeOneNumber(trx: Tx, tenantId: string): Promise<number> {
  const [counter] = await takeTicketNumber(trx, { tenantId })
  if (counter === undefined) throw new Error(`Tenant ${tenantId} has no row`)
  return counter.next_ticket_number - 1
}

const insertTicketQuery = preparedQuery((db, row: TicketTable) => db.insertInto('tickets').values(row))

/** Writes a ticket with a known number (its own, or the external system's) and its first comment. */
export async function insertTicketRow(
  trx: Tx,
  tenantId: string,
  command: CreateTicket,
  backend: string,
  number: number,
): Promise<string> {
  const row = ticketRow(tenantId, command, backend, number)
  await insertTicketQuery(trx, row)
  await addComment(trx, tenantId, row.id, command.firstComment, row.created_at)
  return row.id
}

/** The tickets row for a command; `number` is null while an external system has not given one yet. */
export function ticketRow(
  tenantId: string,
  command: CreateTicket,
  backend: string,
  number: number | null,
): TicketTable {
  const now = new Date().toISOString()
  return {
    id: newId('tkt'),
    tenant_id: tenantId,
    number,
    subject: command.subject,
    priority: command.priority,
    requester_email: command.requesterEmail,
    external_id: command.externalId,
    source: command.source,
    dedupe_key: command.dedupeKey,
    source_fields: JSON.stringify(command.fields),
    backend,
    created_at: now,
    updated_at: now,
  }
}

/** Adds what changed since the last call as a comment (none when nothing changed) and keeps the new fields. */
export async function recordRepeat(
  trx: Tx,
  ticket: TicketTable,
  fields: Record<string, unknown>,
): Promise<string | null> {
  const previous = JSON.parse(ticket.source_fields) as Record<string, unknown>
  const lines = changedFieldLines(previous, fields)
  if (lines.length === 0) return null
  const now = new Date().toISOString()
  const body = lines.join('\n')
  await addComment(trx, ticket.tenant_id, ticket.id, body, now)
  await trx
    .updateTable('tickets')
    .set({ source_fields: JSON.stringify({ ...previous, ...fields }), updated_at: now })
    .where('id', '=', ticket.id)
    .execute()
  return body
}

/** Adds a comment to a ticket; comments read back in the order they were added (time-ordered ids). */
export async function addComment(
  trx: Tx,
  tenantId: string,
  ticketId: string,
  body: string,
  now: string,
): Promise<void> {
  await insertComment(trx, {
    id: newId('cmt'),
    tenant_id: tenantId,
    ticket_id: ticketId,
    body,
    created_at: now,
  })
}

const insertComment = preparedQuery((db, row: TicketCommentTable) =>
  db.insertInto('ticket_comments').values(row),
)

/** A ticket as the CLI, management API and console show it. */
export interface TicketView {
  ticket: number
  subject: string
  priority: string
  requester_email: string
  external_id: string | null
  source: string
  backend: string
  created_at: string
  updated_at: string
  comments?: Array<{ body: string; created_at: string }>
}

function toView(row: TicketTable): TicketView {
  return {
    ticket: row.number ?? 0,
    subject: row.subject,
    priority: row.priority,
    requester_email: row.requester_email,
    external_id: row.external_id,
    source: row.source,
    backend: row.backend,
    created_at: row.created_at,
    updated_at: row.updated_at,
  }
}

/** What a ticket list can be narrowed to. */
export interface TicketFilters {
  /** servicenow or generic. */
  source?: string | undefined
  range?: TimeRange | undefined
}

/**
 * One page of a tenant's tickets, newest first (ids sort by creation time), without comments.
 *
 * @example await pageTickets(db, tenantId, { source: 'servicenow' }, { limit: 100, cursor: null })
 */
export async function pageTickets(
  db: Db,
  tenantId: string,
  filters: TicketFilters,
  request: PageRequest,
): Promise<Page<TicketView>> {
  const page = await keysetPage(
    request,
    'desc',
    (row: TicketTable) => row.id,
    (bound, order, limit) => {
      let query = db
        .selectFrom('tickets')
        .selectAll()
        .where('tenant_id', '=', tenantId)
        .where('number', 'is not', null)
      if (filters.source !== undefined) query = query.where('source', '=', filters.source)
      if (filters.range?.since != null) query = query.where('created_at', '>=', filters.range.since)
      if (filters.range?.until != null) query = query.where('created_at', '<', filters.range.until)
      if (bound !== null) query = query.where('id', bound.op, bound.key)
      return query.orderBy('id', order).limit(limit).execute()
    },
  )
  return { ...page, items: page.items.map(toView) }
}

/** Tickets of a tenant, newest first, without comments: the first page only. */
export async function listTickets(db: Db, tenantId: string, limit = 100): Promise<TicketView[]> {
  return (await pageTickets(db, tenantId, {}, { limit, cursor: null })).items
}

/** One ticket by number with its comments in order; 404 when the tenant has no such ticket. */
export async function getTicket(db: Db, tenantId: string, number: number): Promise<TicketView> {
  const row = await db
    .selectFrom('tickets')
    .selectAll()
    .where('tenant_id', '=', tenantId)
    .where('number', '=', number)
    .executeTakeFirst()
  if (row === undefined) throw new AppError('not_found', { message: `Ticket ${number} not found` })
  const comments = await db
    .selectFrom('ticket_comments')
    .select(['body', 'created_at'])
    .where('ticket_id', '=', row.id)
    .orderBy('id')
    .execute()
  return { ...toView(row), comments }
}

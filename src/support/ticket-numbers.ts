/**
 * Ticket numbers of the built-in support system: unique per tenant, increasing, not gap-free.
 *
 * Taking each number from the tenant's counter row inside the ticket's transaction makes every ticket
 * of a tenant wait for the previous one's commit (on PostgreSQL the row lock is held through the
 * ticket's writes and the commit's fsync, on every instance). Instead each process takes a block of
 * numbers at a time, by advancing the counter in a statement of its own that commits at once, and
 * hands them out from memory. Numbers of a block that a process never used (it stopped, or a ticket's
 * transaction failed) are skipped for good: the contract asks for unique numbers, not consecutive ones.
 */
import type { Database } from '../storage/database.js'
import { preparedQuery } from '../storage/prepared-query.js'

/** Numbers taken at a time; a process that stops loses at most this many per tenant. */
export const TICKET_NUMBER_BLOCK = 64

interface Block {
  next: number
  end: number
}

const advanceCounter = preparedQuery((db, p: { tenantId: string; count: number }) =>
  db
    .updateTable('tenants')
    .set((eb) => ({ next_ticket_number: eb('next_ticket_number', '+', eb.val(p.count)) }))
    .where('id', '=', p.tenantId)
    .returning('next_ticket_number'),
)

/** The blocks of each open database, by tenant. */
const blocksOf = new WeakMap<Database, Map<string, Block | Promise<Block>>>()

/**
 * The tenant's next ticket number. Resolves only once the block it comes from is committed, so a
 * number is never handed out twice, across processes and restarts.
 *
 * @example const number = await nextTicketNumber(database, tenant.id)
 */
export async function nextTicketNumber(database: Database, tenantId: string): Promise<number> {
  let blocks = blocksOf.get(database)
  if (blocks === undefined) {
    const made = new Map<string, Block | Promise<Block>>()
    blocks = made
    blocksOf.set(database, made)
    database.onClose(() => giveBack(database, made))
  }
  for (;;) {
    const current = blocks.get(tenantId)
    if (current === undefined) {
      // Concurrent callers of one tenant wait for the same new block rather than each take one.
      const taking = takeBlock(database, tenantId)
      blocks.set(tenantId, taking)
      try {
        blocks.set(tenantId, await taking)
      } catch (error) {
        blocks.delete(tenantId)
        throw error
      }
      continue
    }
    const block = current instanceof Promise ? await current : current
    if (block.next < block.end) return block.next++
    if (blocks.get(tenantId) === block) blocks.delete(tenantId)
  }
}

/**
 * Forgets the tenant's block, so the next number comes from the counter: for when a number of the
 * block turned out to be taken (the counter was moved past numbers an external system gave out).
 */
export function forgetTicketNumbers(database: Database, tenantId: string): void {
  blocksOf.get(database)?.delete(tenantId)
}

const rewindCounter = preparedQuery((db, p: { tenantId: string; next: number; end: number }) =>
  db
    .updateTable('tenants')
    .set({ next_ticket_number: p.next })
    .where('id', '=', p.tenantId)
    .where('next_ticket_number', '=', p.end)
    // Another system (Zendesk) may have given numbers inside the block: then it is not given back.
    .where(({ not, exists, selectFrom }) =>
      not(
        exists(
          selectFrom('tickets')
            .select('id')
            .where('tenant_id', '=', p.tenantId)
            .where('number', '>=', p.next),
        ),
      ),
    ),
)

/**
 * On a clean close, the unused rest of each block goes back to its tenant's counter, provided nobody
 * took numbers after it: a restarted single instance goes on where it stopped, without a gap.
 */
async function giveBack(database: Database, blocks: Map<string, Block | Promise<Block>>): Promise<void> {
  const unused = [...blocks].filter(
    (entry): entry is [string, Block] => !(entry[1] instanceof Promise) && entry[1].next < entry[1].end,
  )
  blocks.clear()
  for (const [tenantId, { next, end }] of unused) {
    const params = { tenantId, next, end }
    if (database.dialect === 'postgres') await rewindCounter(database.db, params)
    else await database.transaction((trx) => rewindCounter(trx, params))
  }
}

async function takeBlock(database: Database, tenantId: string): Promise<Block> {
  const params = { tenantId, count: TICKET_NUMBER_BLOCK }
  // PostgreSQL: one autocommitted statement, the row locked only while it runs. SQLite: a unit of the
  // group commit, settled once its batch committed.
  const [row] =
    database.dialect === 'postgres'
      ? await advanceCounter(database.db, params)
      : await database.transaction((trx) => advanceCounter(trx, params))
  if (row === undefined) throw new Error(`Tenant ${tenantId} has no row`)
  return { next: row.next_ticket_number - TICKET_NUMBER_BLOCK, end: row.next_ticket_number }
}

/**
 * The mass-termination safeguard: a destination terminates at most `termination_limit` users per
 * rolling hour through its webhooks; beyond that, and while it has held changes, a termination is held
 * for an administrator (see held-changes.ts), so a broken HR feed cannot empty a company.
 */
import { newId } from '../ids.js'
import type { Dialect, Tx } from '../storage/database.js'
import type { UserTable } from '../storage/schema.js'

export const WINDOW_MS = 60 * 60 * 1000

/** Where a termination comes from: the destination, its limit, and the delivery that asked. */
export interface SafeguardTarget {
  tenantId: string
  destinationId: string
  /** 0: the safeguard is off. */
  terminationLimit: number
}

/**
 * Makes the terminations of one destination take turns on PostgreSQL, so the count below sees every
 * committed one: two terminations at the limit at once cannot both pass. `FOR NO KEY UPDATE` leaves
 * the row's key free. SQLite has one writer: a transaction's read and write are never interleaved.
 * Called before any user row is locked, so every terminating transaction locks in the same order.
 */
export async function lockDestinationTerminations(dialect: Dialect, trx: Tx, target: SafeguardTarget) {
  if (dialect !== 'postgres') return
  await trx
    .selectFrom('destinations')
    .select('id')
    .where('tenant_id', '=', target.tenantId)
    .where('id', '=', target.destinationId)
    .forNoKeyUpdate()
    .execute()
}

/**
 * Why a termination must be held now, or null when it may be applied: the destination already has
 * held changes (they stay in order), or it terminated `termination_limit` users within the last hour.
 */
export async function holdReason(trx: Tx, target: SafeguardTarget, now: Date): Promise<string | null> {
  if (target.terminationLimit <= 0) return null
  const held = await trx
    .selectFrom('held_changes')
    .select('id')
    .where('tenant_id', '=', target.tenantId)
    .where('destination_id', '=', target.destinationId)
    .limit(1)
    .executeTakeFirst()
  if (held !== undefined) return 'held: this destination has held terminations waiting for an administrator'
  const since = new Date(now.getTime() - WINDOW_MS).toISOString()
  const { count } = await trx
    .selectFrom('hr_terminations')
    .select((eb) => eb.fn.countAll<number | string>().as('count'))
    .where('tenant_id', '=', target.tenantId)
    .where('destination_id', '=', target.destinationId)
    .where('created_at', '>', since)
    .executeTakeFirstOrThrow()
  if (Number(count) < target.terminationLimit) return null
  return `held: more than ${target.terminationLimit} terminations within an hour (termination_limit)`
}

/** Counts an applied termination in the destination's rolling hour, and forgets the ones older than it. */
export async function countTermination(trx: Tx, target: SafeguardTarget, userId: string, now: Date) {
  await trx
    .deleteFrom('hr_terminations')
    .where('tenant_id', '=', target.tenantId)
    .where('destination_id', '=', target.destinationId)
    .where('created_at', '<=', new Date(now.getTime() - WINDOW_MS).toISOString())
    .execute()
  await trx
    .insertInto('hr_terminations')
    .values({
      id: newId('trm'),
      tenant_id: target.tenantId,
      destination_id: target.destinationId,
      user_id: userId,
      created_at: now.toISOString(),
    })
    .execute()
}

/**
 * Keeps the termination of `user` as a held change (once: an HR system that retries the same
 * termination while it is held adds nothing).
 */
export async function holdTermination(
  trx: Tx,
  target: SafeguardTarget,
  user: Pick<UserTable, 'id' | 'company_id' | 'employee_id'>,
  reason: string,
  deliveryId: string | null,
  now: Date,
): Promise<void> {
  const already = await trx
    .selectFrom('held_changes')
    .select('id')
    .where('tenant_id', '=', target.tenantId)
    .where('destination_id', '=', target.destinationId)
    .where('user_id', '=', user.id)
    .executeTakeFirst()
  if (already !== undefined) return
  await trx
    .insertInto('held_changes')
    .values({
      id: newId('hld'),
      tenant_id: target.tenantId,
      destination_id: target.destinationId,
      user_id: user.id,
      company_id: user.company_id ?? '',
      employee_id: user.employee_id ?? '',
      delivery_id: deliveryId,
      reason,
      created_at: now.toISOString(),
    })
    .execute()
}

/** Drops the held termination of `userId` through this destination (an adduser for the employee came after it). */
export async function dropHeldTerminations(
  trx: Tx,
  target: Pick<SafeguardTarget, 'tenantId' | 'destinationId'>,
  userId: string,
): Promise<void> {
  await trx
    .deleteFrom('held_changes')
    .where('tenant_id', '=', target.tenantId)
    .where('destination_id', '=', target.destinationId)
    .where('user_id', '=', userId)
    .execute()
}

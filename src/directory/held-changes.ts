/**
 * Held changes: terminations the mass-termination safeguard kept back (termination-safeguard.ts), listed
 * for an administrator who approves them (every held change of a destination is applied, oldest first)
 * or rejects them (none is). The management API, the CLI and the console all come here.
 */
import { AppError } from '../errors.js'
import { keysetPage, type Page, type PageRequest } from '../lists/paging.js'
import type { Database, Db } from '../storage/database.js'
import { terminateHeldUser } from './provisioning.js'
import { lockDestinationTerminations } from './termination-safeguard.js'
import { recordUserChange } from './user-history.js'

/** A held termination as listed. */
export interface HeldChange {
  id: string
  /** The destination whose webhook asked for it. */
  plugin_id: string
  destination_name: string
  employee_id: string
  company_id: string
  user_id: string
  /** The user's email, when the user still exists. */
  email: string | null
  /** The delivery-log entry of the held call. */
  delivery_id: string | null
  reason: string
  created_at: string
}

/** One destination's held changes counted, for the console's notice. */
export interface HeldSummary {
  plugin_id: string
  destination_name: string
  held: number
  oldest: string
}

/**
 * The tenant's held changes, oldest first (the order approval applies them), one page at a time; with
 * `destinationId`, only that destination's (what approving or rejecting it would decide).
 *
 * @example const page = await listHeldChanges(db, tenantId, { limit: 100, cursor: null }, pluginId)
 */
export async function listHeldChanges(
  db: Db,
  tenantId: string,
  request: PageRequest,
  destinationId?: string,
): Promise<Page<HeldChange>> {
  return keysetPage(
    request,
    'asc',
    (row) => row.id,
    async (bound, order, limit) => {
      let query = db
        .selectFrom('held_changes as h')
        .innerJoin('destinations as d', (join) =>
          join.onRef('d.id', '=', 'h.destination_id').onRef('d.tenant_id', '=', 'h.tenant_id'),
        )
        .leftJoin('users as u', (join) =>
          join.onRef('u.id', '=', 'h.user_id').onRef('u.tenant_id', '=', 'h.tenant_id'),
        )
        .select([
          'h.id as id',
          'h.destination_id as plugin_id',
          'd.name as destination_name',
          'h.employee_id as employee_id',
          'h.company_id as company_id',
          'h.user_id as user_id',
          'u.email as email',
          'h.delivery_id as delivery_id',
          'h.reason as reason',
          'h.created_at as created_at',
        ])
        .where('h.tenant_id', '=', tenantId)
      if (destinationId !== undefined) query = query.where('h.destination_id', '=', destinationId)
      if (bound !== null) query = query.where('h.id', bound.op, bound.key)
      const rows = await query.orderBy('h.id', order).limit(limit).execute()
      return rows.map((row) => ({ ...row, email: row.email ?? null }))
    },
  )
}

/** Held changes counted per destination (the console's notice on every HR-related page). */
export async function summarizeHeldChanges(db: Db, tenantId: string): Promise<HeldSummary[]> {
  const rows = await db
    .selectFrom('held_changes as h')
    .innerJoin('destinations as d', (join) =>
      join.onRef('d.id', '=', 'h.destination_id').onRef('d.tenant_id', '=', 'h.tenant_id'),
    )
    .select((eb) => [
      'h.destination_id as plugin_id',
      'd.name as destination_name',
      eb.fn.countAll<number | string>().as('held'),
      eb.fn.min('h.created_at').as('oldest'),
    ])
    .where('h.tenant_id', '=', tenantId)
    .groupBy(['h.destination_id', 'd.name'])
    .orderBy('h.destination_id')
    .execute()
  return rows.map((row) => ({ ...row, held: Number(row.held), oldest: String(row.oldest) }))
}

export type HoldDecision = 'approve' | 'reject'

/**
 * Approves (applies every held change of the destination, oldest first, in one transaction) or rejects
 * (drops them, changing no user) a destination's held changes. `{"applied":N}` / `{"rejected":N}`;
 * 404 `Provisioning destination not found` for a plugin_id the tenant does not have.
 *
 * @example await decideHeldChanges(services, tenantId, pluginId, 'approve') // { applied: 5 }
 */
export async function decideHeldChanges(
  services: { database: Database; authenticator: { forget(): void } },
  tenantId: string,
  pluginId: string,
  decision: HoldDecision,
  actor: string,
): Promise<{ applied: number } | { rejected: number }> {
  const { database } = services
  const count = await database.transaction(async (trx) => {
    const destination = await trx
      .selectFrom('destinations')
      .select('id')
      .where('tenant_id', '=', tenantId)
      .where('id', '=', pluginId.slice(0, 64))
      .executeTakeFirst()
    if (destination === undefined) throw new AppError('destination_not_found')
    // Terminations arriving meanwhile wait, then find the held changes gone (and the hour as it was).
    await lockDestinationTerminations(database.dialect, trx, {
      tenantId,
      destinationId: pluginId,
      terminationLimit: 1,
    })
    const held = await trx
      .selectFrom('held_changes')
      .select(['id', 'user_id', 'delivery_id'])
      .where('tenant_id', '=', tenantId)
      .where('destination_id', '=', pluginId)
      .orderBy('id')
      .execute()
    if (decision === 'approve') {
      for (const change of held) {
        const outcome = await terminateHeldUser(database.dialect, trx, tenantId, change.user_id)
        // The history names the administrator who approved, and the HR call that asked.
        if (outcome !== null && Object.keys(outcome.changes).length > 0)
          await recordUserChange(
            trx,
            tenantId,
            change.user_id,
            'terminated',
            { actor, deliveryId: change.delivery_id },
            outcome.changes,
          )
      }
    }
    const last = held.at(-1)
    if (last !== undefined)
      await trx
        .deleteFrom('held_changes')
        .where('tenant_id', '=', tenantId)
        .where('destination_id', '=', pluginId)
        .where('id', '<=', last.id)
        .execute()
    return held.length
  })
  // A terminated user stops signing in at once here.
  if (decision === 'approve' && count > 0) services.authenticator.forget()
  return decision === 'approve' ? { applied: count } : { rejected: count }
}

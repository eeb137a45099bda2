/**
 * The history of each user: every change (HR webhooks with their destination and delivery, an
 * administrator through the API, the console or the CLI, status changes, creation) with its time, its
 * actor and the fields before → after. Written in the transaction of the change, so neither lands alone.
 */
import { withActorNames } from '../audit/actor-names.js'
import { AppError } from '../errors.js'
import { newId } from '../ids.js'
import { keysetPage, type Page, type PageRequest } from '../lists/paging.js'
import type { Db } from '../storage/database.js'
import { preparedQuery } from '../storage/prepared-query.js'
import type { UserHistoryTable } from '../storage/schema.js'
import type { FieldChanges } from './user-changes.js'

/** Who made a change: `destination:<plugin_id>` (with its delivery), `api_key:<id>`, `console_admin:<id>`, `cli`, `system`. */
export interface ChangeActor {
  actor: string
  deliveryId?: string | null
}

/** Changes made by the CLI (there is no one else to name there). */
export const CLI_ACTOR: ChangeActor = { actor: 'cli' }
/** Changes the service makes itself (the first administrator at first start). */
export const SYSTEM_ACTOR: ChangeActor = { actor: 'system' }

export type HistoryAction =
  | 'created'
  | 'updated'
  | 'terminated'
  | 'reactivated'
  | 'enabled'
  | 'disabled'
  | 'password_changed'

/** One change as listed. */
export interface UserHistoryEntry {
  id: string
  user_id: string
  action: HistoryAction
  actor: string
  /** The actor by name (the key's name, the administrator's email, the destination's name), when it has one. */
  actor_name: string | null
  delivery_id: string | null
  changes: FieldChanges
  created_at: string
}

/**
 * Records one change of a user with `db`, which is the transaction making the change.
 *
 * @example await recordUserChange(trx, tenantId, userId, 'disabled', { actor: 'api_key:key_…' }, { status: { before: 'active', after: 'disabled' } })
 */
export async function recordUserChange(
  db: Db,
  tenantId: string,
  userId: string,
  action: HistoryAction,
  by: ChangeActor,
  changes: FieldChanges,
): Promise<void> {
  await insertHistoryRow(db, {
    id: newId('uhx'),
    tenant_id: tenantId,
    user_id: userId,
    action,
    actor: by.actor,
    delivery_id: by.deliveryId ?? null,
    changes: JSON.stringify(changes),
    created_at: new Date().toISOString(),
  })
}

/** On every HR webhook that changes a user: built once, not per call. */
const insertHistoryRow = preparedQuery((db, row: UserHistoryTable) =>
  db.insertInto('user_history').values(row),
)

/** The action a set of field changes is, for changes that are not a creation. */
export function actionOf(changes: FieldChanges): HistoryAction {
  const status = changes.status?.after
  if (status === 'terminated') return 'terminated'
  if (status === 'active' && changes.status?.before === 'terminated') return 'reactivated'
  return 'updated'
}

/**
 * A user's changes, oldest first, one page at a time; 404 `User not found` for a user the tenant does not have.
 *
 * @example const page = await listUserHistory(db, tenantId, userId, { limit: 100, cursor: null })
 */
export async function listUserHistory(
  db: Db,
  tenantId: string,
  userId: string,
  request: PageRequest,
): Promise<Page<UserHistoryEntry>> {
  const user = await db
    .selectFrom('users')
    .select('id')
    .where('tenant_id', '=', tenantId)
    .where('id', '=', userId)
    .executeTakeFirst()
  if (user === undefined) throw new AppError('not_found', { message: 'User not found' })
  const page = await keysetPage(
    request,
    'asc',
    (entry: UserHistoryEntry) => entry.id,
    async (bound, order, limit) => {
      let query = db
        .selectFrom('user_history')
        .selectAll()
        .where('tenant_id', '=', tenantId)
        .where('user_id', '=', userId)
      if (bound !== null) query = query.where('id', bound.op, bound.key)
      const rows = await query.orderBy('id', order).limit(limit).execute()
      return rows.map((row) => ({
        id: row.id,
        user_id: row.user_id,
        action: row.action as HistoryAction,
        actor: row.actor,
        actor_name: null,
        delivery_id: row.delivery_id,
        changes: JSON.parse(row.changes) as FieldChanges,
        created_at: row.created_at,
      }))
    },
  )
  return withActorNames(db, tenantId, page)
}

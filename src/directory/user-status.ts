/**
 * The one rule for an administrator's enable and disable of a user, used by the management API, the CLI
 * and the console alike: termination belongs to the HR system, and a tenant keeps an administrator.
 */
import { AppError } from '../errors.js'
import type { Database, Tx } from '../storage/database.js'
import type { UserTable } from '../storage/schema.js'
import { type ChangeActor, recordUserChange } from './user-history.js'
import { toUserDetails, type UserDetails } from './users.js'

export type StatusAction = 'enable' | 'disable'

/** What the rule needs: the database, and the credential cache to drop (a disabled account stops at once here). */
export interface StatusServices {
  database: Database
  authenticator: { forget(): void }
}

/**
 * Enables or disables a user by an administrator's hand:
 * - a user its HR system terminated is brought back only by that HR system (its adduser): enable is
 *   `400 The user was terminated by its HR system`, and disable leaves `terminated` as it is;
 * - the last active administrator of a tenant cannot be disabled (nobody could sign in to undo it);
 * - enabling an active user or disabling a disabled one changes nothing.
 * 404 `User not found` for an unknown id or another tenant's user.
 *
 * @example await changeUserStatus(services, tenant.id, userId, 'disable', { actor: 'cli' })
 */
export async function changeUserStatus(
  services: StatusServices,
  tenantId: string,
  userId: string,
  action: StatusAction,
  by: ChangeActor,
): Promise<UserDetails> {
  const { database } = services
  const user = await database.transaction(async (trx) => {
    // Disables of one tenant take turns (see lockTenantAdministrators), before any user row is locked.
    if (action === 'disable') await lockTenantAdministrators(database, trx, tenantId)
    const row = await lockUser(database, trx, tenantId, userId)
    const next = nextStatus(row, action)
    if (next === row.status) return row
    if (next === 'disabled' && row.is_admin === 1 && row.status === 'active')
      await requireAnotherAdministrator(trx, tenantId, userId)
    const updatedAt = new Date().toISOString()
    await trx
      .updateTable('users')
      .set({ status: next, updated_at: updatedAt })
      .where('tenant_id', '=', tenantId)
      .where('id', '=', userId)
      .execute()
    await recordUserChange(trx, tenantId, userId, action === 'enable' ? 'enabled' : 'disabled', by, {
      status: { before: row.status, after: next },
    })
    return { ...row, status: next, updated_at: updatedAt }
  })
  // This instance stops accepting a disabled account at once; the others within their re-check time.
  services.authenticator.forget()
  return toUserDetails(user)
}

/** The status an action leads to from the user's current one; throws where the rule forbids it. */
export function nextStatus(row: Pick<UserTable, 'status'>, action: StatusAction): string {
  if (row.status === 'terminated') {
    if (action === 'enable')
      throw new AppError('bad_request', { message: 'The user was terminated by its HR system' })
    return 'terminated'
  }
  return action === 'enable' ? 'active' : 'disabled'
}

async function lockUser(database: Database, trx: Tx, tenantId: string, userId: string): Promise<UserTable> {
  const query = trx.selectFrom('users').selectAll().where('tenant_id', '=', tenantId).where('id', '=', userId)
  const row = await (database.dialect === 'postgres' ? query.forUpdate() : query).executeTakeFirst()
  if (row === undefined) throw new AppError('not_found', { message: 'User not found' })
  return row
}

/**
 * On PostgreSQL, two administrators disabling each other at once must not both succeed, and must not
 * deadlock either (each holding its own user row while waiting for the other's). So every disable of a
 * tenant first locks the tenant's row: they take turns, and the check below sees the other's commit.
 * `FOR NO KEY UPDATE` leaves the row's key free, so inserts that reference the tenant do not wait.
 * SQLite has one writer: the read and the write of a transaction are never interleaved with another's.
 */
async function lockTenantAdministrators(database: Database, trx: Tx, tenantId: string) {
  if (database.dialect !== 'postgres') return
  await trx.selectFrom('tenants').select('id').where('id', '=', tenantId).forNoKeyUpdate().execute()
}

/** Refuses to disable the last active administrator. */
async function requireAnotherAdministrator(trx: Tx, tenantId: string, userId: string) {
  const admins = await trx
    .selectFrom('users')
    .select('id')
    .where('tenant_id', '=', tenantId)
    .where('is_admin', '=', 1)
    .where('status', '=', 'active')
    .execute()
  if (!admins.some((admin) => admin.id !== userId))
    throw new AppError('bad_request', {
      message: 'The last active administrator of a tenant cannot be disabled',
    })
}

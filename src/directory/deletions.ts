/**
 * Deleting what is safe to delete, and only that. Each kind is first put out of use (a key revoked, a destination
 * or a service account disabled), so a deletion never stops anything that still works; a destination that still
 * has users (linked to it by employee id) or held changes waiting for a decision is kept. The delivery log keeps its entries: they name
 * keys, accounts and destinations by id, as text.
 *
 * Each deletion is one conditional DELETE, so a change racing it (a key un-revoked cannot happen; an account
 * enabled, a user linked) either happens before and blocks the deletion, or finds nothing.
 */
import { AppError } from '../errors.js'
import type { Services } from '../services.js'
import type { Tenant } from '../tenancy/tenants.js'

/** Deletes a revoked API key of the tenant. 404 when unknown; 400 while it is not revoked. */
export async function deleteRevokedApiKey(
  services: Pick<Services, 'database'>,
  tenantId: string,
  id: string,
): Promise<{ id: string; deleted: true }> {
  const result = await services.database.transaction((trx) =>
    trx
      .deleteFrom('api_keys')
      .where('tenant_id', '=', tenantId)
      .where('id', '=', id)
      .where('revoked_at', 'is not', null)
      .executeTakeFirst(),
  )
  if (result.numDeletedRows > 0n) return { id, deleted: true }
  const row = await services.database.db
    .selectFrom('api_keys')
    .select('id')
    .where('tenant_id', '=', tenantId)
    .where('id', '=', id)
    .executeTakeFirst()
  if (row === undefined) throw new AppError('not_found', { message: 'API key not found' })
  throw new AppError('bad_request', { message: 'Revoke the API key before deleting it' })
}

/**
 * Deletes a disabled destination that no user is linked to and that has no held changes. 404 when unknown; 400
 * while it is enabled, has held changes or has users (disabled, it answers 404 on its URLs and keeps them).
 */
export async function deleteDestination(
  services: Pick<Services, 'database' | 'destinations'>,
  tenant: Tenant,
  pluginId: string,
): Promise<{ plugin_id: string; deleted: true }> {
  const result = await services.database.transaction((trx) =>
    trx
      .deleteFrom('destinations')
      .where('tenant_id', '=', tenant.id)
      .where('id', '=', pluginId)
      .where('enabled', '=', 0)
      .where(({ and, not, exists, selectFrom }) =>
        and([
          not(
            exists(
              selectFrom('users')
                .select('users.id')
                .where('users.tenant_id', '=', tenant.id)
                .where('users.destination_id', '=', pluginId),
            ),
          ),
          not(
            exists(
              selectFrom('held_changes')
                .select('held_changes.id')
                .where('held_changes.tenant_id', '=', tenant.id)
                .where('held_changes.destination_id', '=', pluginId),
            ),
          ),
        ]),
      )
      .executeTakeFirst(),
  )
  services.destinations.forget(tenant.id, pluginId)
  if (result.numDeletedRows > 0n) return { plugin_id: pluginId, deleted: true }
  const row = await services.database.db
    .selectFrom('destinations')
    .select('enabled')
    .where('tenant_id', '=', tenant.id)
    .where('id', '=', pluginId)
    .executeTakeFirst()
  if (row === undefined) throw new AppError('not_found', { message: 'Provisioning destination not found' })
  if (row.enabled === 1)
    throw new AppError('bad_request', { message: 'Disable the destination before deleting it' })
  const held = await services.database.db
    .selectFrom('held_changes')
    .select('id')
    .where('tenant_id', '=', tenant.id)
    .where('destination_id', '=', pluginId)
    .executeTakeFirst()
  if (held !== undefined) {
    throw new AppError('bad_request', {
      message: 'The destination has held changes: approve or reject them before deleting it',
    })
  }
  throw new AppError('bad_request', {
    message: 'The destination still has users, so it cannot be deleted; keep it disabled',
  })
}

/** Deletes a disabled service account. 404 when unknown; 400 for another kind of user, or while it is active. */
export async function deleteServiceAccount(
  services: Pick<Services, 'database' | 'authenticator'>,
  tenantId: string,
  userId: string,
): Promise<{ id: string; deleted: true }> {
  const result = await services.database.transaction((trx) =>
    trx
      .deleteFrom('users')
      .where('tenant_id', '=', tenantId)
      .where('id', '=', userId)
      .where('is_service_account', '=', 1)
      .where('is_admin', '=', 0)
      .where('status', '!=', 'active')
      .executeTakeFirst(),
  )
  services.authenticator.forget()
  if (result.numDeletedRows > 0n) return { id: userId, deleted: true }
  const row = await services.database.db
    .selectFrom('users')
    .select(['is_service_account', 'is_admin'])
    .where('tenant_id', '=', tenantId)
    .where('id', '=', userId)
    .executeTakeFirst()
  if (row === undefined) throw new AppError('not_found', { message: 'User not found' })
  if (row.is_service_account !== 1 || row.is_admin === 1) {
    throw new AppError('bad_request', {
      message: 'Only service accounts can be deleted; other users can be disabled',
    })
  }
  throw new AppError('bad_request', { message: 'Disable the service account before deleting it' })
}

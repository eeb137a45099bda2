/**
 * Resetting a password: only accounts that sign in have one (service accounts sign webhooks in, administrators
 * the console). The Management API, the CLI and the console all reset through here.
 */
import { AppError } from '../errors.js'
import type { Services } from '../services.js'
import type { ChangeActor } from './user-history.js'
import { findUserById, setPassword, type UserDetails } from './users.js'

/**
 * Sets `password` on the tenant's user `userId` and forgets this instance's cached credentials, so the old
 * password stops working here at once (elsewhere within the credential re-check, about 2 s).
 * 404 for an unknown user (or another tenant's), 400 for a user without a password or a bad password.
 *
 * @example await resetPassword(services, tenant.id, user.id, 'a new long password', CLI_ACTOR)
 */
export async function resetPassword(
  services: Services,
  tenantId: string,
  userId: string,
  password: string,
  by: ChangeActor,
): Promise<UserDetails> {
  const user = await findUserById(services.database.db, tenantId, userId)
  if (user === null) throw new AppError('not_found', { message: 'User not found' })
  if (!user.service_account && !user.admin) {
    throw new AppError('bad_request', { message: 'Only service accounts and administrators have a password' })
  }
  await setPassword(services.database, tenantId, user.id, password, by)
  services.authenticator.forget()
  return (await findUserById(services.database.db, tenantId, user.id)) ?? user
}

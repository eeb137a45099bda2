/** Support accounts (requesters) of the built-in support system: who may open tickets. */

import { isEmail } from '../directory/users.js'
import { AppError } from '../errors.js'
import type { Database, Db } from '../storage/database.js'

export interface Requester {
  email: string
  name: string | null
  created_at: string
}

/**
 * Adds a support account; adding an existing email again updates its name and changes nothing else.
 *
 * @example await addRequester(database, tenantId, 'john.doe@acme.com', 'John Doe')
 */
export async function addRequester(
  database: Database,
  tenantId: string,
  email: string,
  name: string | null,
): Promise<Requester> {
  const trimmed = email.trim()
  if (!isEmail(trimmed)) throw new AppError('invalid_email')
  const row = {
    tenant_id: tenantId,
    email_key: trimmed.toLowerCase(),
    email: trimmed,
    name: name?.trim() || null,
    created_at: new Date().toISOString(),
  }
  return database.transaction(async (trx) => {
    const saved = await trx
      .insertInto('requesters')
      .values(row)
      .onConflict((c) => c.columns(['tenant_id', 'email_key']).doUpdateSet({ name: row.name }))
      .returning(['email', 'name', 'created_at'])
      .executeTakeFirstOrThrow()
    return saved
  })
}

export async function listRequesters(db: Db, tenantId: string): Promise<Requester[]> {
  return db
    .selectFrom('requesters')
    .select(['email', 'name', 'created_at'])
    .where('tenant_id', '=', tenantId)
    .orderBy('email_key')
    .execute()
}

/** True when `email` (any case) is a support account of the tenant. */
export async function isRequester(db: Db, tenantId: string, email: string): Promise<boolean> {
  const row = await db
    .selectFrom('requesters')
    .select('email_key')
    .where('tenant_id', '=', tenantId)
    .where('email_key', '=', email.trim().toLowerCase())
    .executeTakeFirst()
  return row !== undefined
}

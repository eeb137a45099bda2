/** Support accounts (requesters) of the built-in support system: who may open tickets. */

import { isEmail } from '../directory/users.js'
import { AppError } from '../errors.js'
import { keysetPage, MAX_LIMIT, type Page, type PageRequest } from '../lists/paging.js'
import type { Database, Db } from '../storage/database.js'
import { preparedQuery } from '../storage/prepared-query.js'
import { boundedText } from '../value-bounds.js'

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
  if (name !== null) boundedText('name', name.trim())
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
  return (await pageRequesters(db, tenantId, { limit: MAX_LIMIT, cursor: null })).items
}

/** One page of the support accounts, by email (without case). */
export async function pageRequesters(
  db: Db,
  tenantId: string,
  request: PageRequest,
): Promise<Page<Requester>> {
  const page = await keysetPage(
    request,
    'asc',
    (row: Requester & { email_key: string }) => row.email_key,
    (bound, order, limit) => {
      let query = db
        .selectFrom('requesters')
        .select(['email_key', 'email', 'name', 'created_at'])
        .where('tenant_id', '=', tenantId)
      if (bound !== null) query = query.where('email_key', bound.op, bound.key)
      return query.orderBy('email_key', order).limit(limit).execute()
    },
  )
  return { ...page, items: page.items.map(({ email, name, created_at }) => ({ email, name, created_at })) }
}

/** How long a support account, once seen, is trusted without reading it again. */
const SEEN_TTL_MS = 2000

/**
 * Support accounts found recently, per database: every ticket webhook checks its requester, and
 * accounts are only ever added, so a yes stays true. Only a yes is kept (an account added by the
 * CLI works at once); the bound keeps memory small and a future removal effective within seconds.
 */
const seen = new WeakMap<Db, Map<string, number>>()

/** True when `email` (any case) is a support account of the tenant. */
export async function isRequester(db: Db, tenantId: string, email: string): Promise<boolean> {
  const emailKey = email.trim().toLowerCase()
  const cacheKey = `${tenantId}\0${emailKey}`
  let recent = seen.get(db)
  const now = Date.now()
  const at = recent?.get(cacheKey)
  if (at !== undefined && now - at < SEEN_TTL_MS) return true
  const rows = await findRequester(db, { tenantId, emailKey })
  if (rows.length === 0) return false
  if (recent === undefined) {
    recent = new Map()
    seen.set(db, recent)
  }
  if (recent.size >= 10_000) recent.clear()
  recent.set(cacheKey, now)
  return true
}

const findRequester = preparedQuery((db, p: { tenantId: string; emailKey: string }) =>
  db
    .selectFrom('requesters')
    .select('email_key')
    .where('tenant_id', '=', p.tenantId)
    .where('email_key', '=', p.emailKey),
)

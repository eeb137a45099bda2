/** The API Key Manager: keys are shown once, stored as SHA-256, revocable, optionally expiring. */
import { AppError } from '../errors.js'
import { newId, randomToken, sha256 } from '../ids.js'
import { keysetPage, MAX_LIMIT, type Page, type PageRequest } from '../lists/paging.js'
import type { Database, Db } from '../storage/database.js'
import type { ApiKeyTable } from '../storage/schema.js'
import { boundedText } from '../value-bounds.js'

/** The longest name a key can have. */
export const MAX_KEY_NAME = 200

/** Keys look like `oc_` + 43 base62 characters (256 bits of entropy). */
export const API_KEY_PATTERN = /^oc_[A-Za-z0-9]{43}$/

export interface ApiKey {
  id: string
  name: string
  prefix: string
  management: boolean
  created_at: string
  expires_at: string | null
  revoked_at: string | null
}

export interface NewApiKey {
  name: string
  management: boolean
  /** Lifetime in milliseconds, or null for a key that does not expire. */
  expiresInMs: number | null
}

function toApiKey(row: ApiKeyTable): ApiKey {
  return {
    id: row.id,
    name: row.name,
    prefix: row.prefix,
    management: row.management === 1,
    created_at: row.created_at,
    expires_at: row.expires_at,
    revoked_at: row.revoked_at,
  }
}

/**
 * Creates a key; the returned `key` is the only time the secret exists outside the caller's hands.
 *
 * @example const { id, key } = await createApiKey(database, tenantId, { name: 'servicenow', management: true, expiresInMs: null })
 */
export async function createApiKey(
  database: Database,
  tenantId: string,
  input: NewApiKey,
): Promise<ApiKey & { key: string }> {
  const name = input.name.trim()
  if (name === '') throw new AppError('bad_request', { message: 'name is a required field' })
  boundedText('name', name, MAX_KEY_NAME)
  const key = `oc_${randomToken(43)}`
  const now = new Date()
  const row: ApiKeyTable = {
    id: newId('key'),
    tenant_id: tenantId,
    name,
    prefix: key.slice(0, 8),
    key_hash: sha256(key),
    management: input.management ? 1 : 0,
    created_at: now.toISOString(),
    expires_at: input.expiresInMs === null ? null : new Date(now.getTime() + input.expiresInMs).toISOString(),
    revoked_at: null,
  }
  await database.transaction((trx) => trx.insertInto('api_keys').values(row).execute())
  return { ...toApiKey(row), key }
}

export async function listApiKeys(database: Database, tenantId: string): Promise<ApiKey[]> {
  return (await pageApiKeys(database.db, tenantId, { limit: MAX_LIMIT, cursor: null })).items
}

/** One page of a tenant's API keys, oldest first (ids sort by creation time). */
export async function pageApiKeys(db: Db, tenantId: string, request: PageRequest): Promise<Page<ApiKey>> {
  const page = await keysetPage(
    request,
    'asc',
    (row: ApiKeyTable) => row.id,
    (bound, order, limit) => {
      let query = db.selectFrom('api_keys').selectAll().where('tenant_id', '=', tenantId)
      if (bound !== null) query = query.where('id', bound.op, bound.key)
      return query.orderBy('id', order).limit(limit).execute()
    },
  )
  return { ...page, items: page.items.map(toApiKey) }
}

/** Revokes a key of this tenant; a key of another tenant is not found. */
export async function revokeApiKey(database: Database, tenantId: string, id: string): Promise<ApiKey> {
  return database.transaction(async (trx) => {
    const row = await trx
      .selectFrom('api_keys')
      .selectAll()
      .where('tenant_id', '=', tenantId)
      .where('id', '=', id)
      .executeTakeFirst()
    if (row === undefined) throw new AppError('not_found', { message: 'API key not found' })
    if (row.revoked_at !== null) return toApiKey(row)
    const revokedAt = new Date().toISOString()
    await trx.updateTable('api_keys').set({ revoked_at: revokedAt }).where('id', '=', id).execute()
    return toApiKey({ ...row, revoked_at: revokedAt })
  })
}

/** The key row for a presented key, if it is usable for the Management API right now. */
export async function findUsableManagementKey(db: Db, key: string, now: Date) {
  const row = await db
    .selectFrom('api_keys')
    .select(['id', 'tenant_id', 'management', 'expires_at', 'revoked_at'])
    .where('key_hash', '=', sha256(key))
    .executeTakeFirst()
  if (row === undefined || row.management !== 1 || row.revoked_at !== null) return null
  if (row.expires_at !== null && row.expires_at <= now.toISOString()) return null
  return { id: row.id, tenantId: row.tenant_id, expiresAt: row.expires_at }
}

/** The longest lifetime a key can be given: ten years. */
export const MAX_KEY_LIFETIME_MS = 3650 * 86_400_000

/**
 * Reads a lifetime such as `90d`, `12h`, `30m` or `45s`: from 1s to 3650d (ten years).
 *
 * @example parseDuration('90d') // 7776000000
 */
export function parseDuration(text: string): number {
  const match = /^(\d{1,12})\s*([smhd])$/.exec(text.trim())
  if (match === null)
    throw new AppError('bad_request', { message: 'expires_in must look like 90d, 12h, 30m or 45s' })
  const unit = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[match[2] as 's' | 'm' | 'h' | 'd']
  const ms = Number(match[1]) * unit
  if (ms <= 0) throw new AppError('bad_request', { message: 'expires_in must be positive' })
  if (ms > MAX_KEY_LIFETIME_MS)
    throw new AppError('bad_request', { message: 'expires_in must be at most 3650d (ten years)' })
  return ms
}

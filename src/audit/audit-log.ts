/**
 * The audit log: every change an administrator makes (API keys, users and service accounts,
 * destinations and their settings, support settings, replays, held changes) and every console sign-in
 * and failed sign-in, with time, actor, action, target, client address and request id. Append-only:
 * nothing in the product updates or deletes an entry. No secret value is ever written: what was asked
 * is stored with every secret-looking field masked, and sign-in passwords are never part of it.
 */
import { maskSecrets } from '../deliveries/secret-fields.js'
import { newId } from '../ids.js'
import { keysetPage, type Page, type PageRequest } from '../lists/paging.js'
import type { Db } from '../storage/database.js'
import { MAX_FIELD_LENGTH } from '../value-bounds.js'
import { withActorNames } from './actor-names.js'

export interface NewAuditEntry {
  tenantId: string
  /** `api_key:<id>`, `console_admin:<user id>`, `cli`, or `anonymous` (a failed sign-in). */
  actor: string
  /** What was done, named like the management API's operations: createApiKey, disableUser, signIn, … */
  action: string
  /** What it acted on (an id, a plugin_id, an email), when there is one. */
  target?: string | null
  /** What was asked (a request body, the settings set): secret-looking fields are masked here. */
  details?: unknown
  clientAddress?: string | null
  requestId?: string | null
}

/** An entry as read back. */
export interface AuditEntry {
  id: string
  actor: string
  /** The actor by name (the key's name, the administrator's email), when it has one. */
  actor_name: string | null
  action: string
  target: string | null
  details: unknown
  client_address: string | null
  request_id: string | null
  created_at: string
}

/** Details larger than this are cut (and say so): an audit entry names what changed, it is not an archive. */
const MAX_DETAILS = 8000

/**
 * Appends one entry with `db` (which may be the transaction of the change).
 *
 * @example await recordAudit(db, { tenantId, actor: 'cli', action: 'revokeApiKey', target: keyId })
 */
export async function recordAudit(db: Db, entry: NewAuditEntry): Promise<void> {
  await db
    .insertInto('audit_log')
    .values({
      id: newId('aud'),
      tenant_id: entry.tenantId,
      actor: storable(entry.actor, MAX_FIELD_LENGTH),
      action: storable(entry.action, MAX_FIELD_LENGTH),
      target: entry.target == null ? null : storable(entry.target, MAX_FIELD_LENGTH),
      details: detailsText(entry.details),
      client_address: entry.clientAddress == null ? null : storable(entry.clientAddress, 100),
      request_id: entry.requestId == null ? null : storable(entry.requestId, MAX_FIELD_LENGTH),
      created_at: new Date().toISOString(),
    })
    .execute()
}

/**
 * The tenant's audit log, newest first, one page at a time.
 *
 * @example const page = await listAudit(db, tenantId, { limit: 100, cursor: null })
 */
export async function listAudit(db: Db, tenantId: string, request: PageRequest): Promise<Page<AuditEntry>> {
  const page = await keysetPage(
    request,
    'desc',
    (entry: AuditEntry) => entry.id,
    async (bound, order, limit) => {
      let query = db.selectFrom('audit_log').selectAll().where('tenant_id', '=', tenantId)
      if (bound !== null) query = query.where('id', bound.op, bound.key)
      const rows = await query.orderBy('id', order).limit(limit).execute()
      return rows.map((row) => ({
        id: row.id,
        actor: row.actor,
        actor_name: null,
        action: row.action,
        target: row.target,
        details: row.details === null ? null : (JSON.parse(row.details) as unknown),
        client_address: row.client_address,
        request_id: row.request_id,
        created_at: row.created_at,
      }))
    },
  )
  return withActorNames(db, tenantId, page)
}

/** The details as JSON, secrets masked, without what a database cannot hold, cut to a bounded size. */
function detailsText(details: unknown): string | null {
  if (details === undefined || details === null) return null
  if (typeof details === 'object' && Object.keys(details).length === 0) return null
  const text = JSON.stringify(maskSecrets(details), (_key, value) =>
    typeof value === 'string' ? storable(value, MAX_FIELD_LENGTH) : value,
  )
  if (text.length <= MAX_DETAILS) return text
  return JSON.stringify({ note: `details of ${text.length} characters were cut`, start: text.slice(0, 500) })
}

/** Text without control characters (NUL included), at most `max` characters. */
function storable(value: string, max: number): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: removing them is the point
  const clean = value.replace(/[\u0000-\u001f\u007f]/g, '')
  return clean.length <= max ? clean : `${clean.slice(0, max - 1)}…`
}

/** The Idempotency-Key header: a repeat within 24 hours answers what the first call answered. */
import { createHash } from 'node:crypto'
import { storedBody } from '../deliveries/stored-body.js'
import { AppError } from '../errors.js'
import type { Db, Tx } from '../storage/database.js'

const TTL_MS = 24 * 60 * 60 * 1000

export interface StoredAnswer {
  status: number
  body: unknown
}

/** The header's value, checked: 1 to 255 printable ASCII characters; null when absent. */
export function readIdempotencyKey(header: string | string[] | undefined): string | null {
  if (header === undefined) return null
  const value = Array.isArray(header) ? header[0] : header
  if (value === undefined || !/^[\x21-\x7e]{1,255}$/.test(value))
    throw new AppError('idempotency_key_invalid')
  return value
}

/**
 * What identifies "the same request": the endpoint and the body as parsed (whitespace does not
 * count). Serialised as the delivery log stores it, so a body nested too deeply for JSON.stringify
 * still has a hash (such a body is refused later, and a refusal is never kept).
 */
export function requestHash(endpoint: string, body: unknown): string {
  const { text, note } = storedBody(body)
  return createHash('sha256')
    .update(endpoint)
    .update('\n')
    .update(text ?? '')
    .update(note === null ? '' : `\n${note}`)
    .digest('hex')
}

/**
 * The stored answer for `key` when it was used with this very request; 400 when it was used with
 * another; null when unused (or used more than 24 hours ago).
 */
export async function findStoredAnswer(
  db: Db,
  tenantId: string,
  key: string,
  hash: string,
): Promise<StoredAnswer | null> {
  const row = await db
    .selectFrom('idempotency_keys')
    .select(['request_hash', 'status_code', 'response_body', 'created_at'])
    .where('tenant_id', '=', tenantId)
    .where('key', '=', key)
    .executeTakeFirst()
  if (row === undefined || row.created_at < new Date(Date.now() - TTL_MS).toISOString()) return null
  if (row.request_hash !== hash) throw new AppError('idempotency_key_reused')
  return { status: row.status_code, body: JSON.parse(row.response_body) }
}

/**
 * Keeps a 2xx answer, in the transaction that committed its change. Two calls racing with one key
 * meet at the primary key: the loser's transaction fails with a unique violation and it retries.
 */
export async function storeAnswer(
  trx: Tx,
  tenantId: string,
  key: string,
  hash: string,
  answer: StoredAnswer,
): Promise<void> {
  const cutoff = new Date(Date.now() - TTL_MS).toISOString()
  await trx
    .deleteFrom('idempotency_keys')
    .where('tenant_id', '=', tenantId)
    .where('key', '=', key)
    .where('created_at', '<', cutoff)
    .execute()
  await trx
    .insertInto('idempotency_keys')
    .values({
      tenant_id: tenantId,
      key,
      request_hash: hash,
      status_code: answer.status,
      response_body: JSON.stringify(answer.body),
      created_at: new Date().toISOString(),
    })
    .execute()
}

/** Console sessions (sign-in itself is the Authenticator's): tenant-bound session tokens stored as SHA-256, CSRF tokens. */
import { createHmac, timingSafeEqual } from 'node:crypto'
import { randomToken, sha256 } from '../ids.js'
import type { Database } from '../storage/database.js'
import type { Tenant } from '../tenancy/tenants.js'

export const SESSION_COOKIE = 'oc_session'
export const SESSION_TTL_MS = 12 * 60 * 60 * 1000

/** A signed-in administrator, re-read from the database on every request. */
export interface ConsoleSession {
  tenant: Tenant
  userId: string
  email: string
  /** The raw token, kept only in memory for this request to derive the CSRF token. */
  token: string
  csrf: string
}

/** Starts a session and returns its token (for the cookie); only its SHA-256 is stored. */
export async function createSession(database: Database, tenantId: string, userId: string): Promise<string> {
  const token = randomToken(43)
  const now = new Date()
  await database.transaction(async (trx) => {
    // Sign-in is a good moment to sweep this tenant's expired sessions: no timer needed.
    await trx
      .deleteFrom('sessions')
      .where('tenant_id', '=', tenantId)
      .where('expires_at', '<=', now.toISOString())
      .execute()
    await trx
      .insertInto('sessions')
      .values({
        id_hash: sha256(token),
        tenant_id: tenantId,
        user_id: userId,
        created_at: now.toISOString(),
        expires_at: new Date(now.getTime() + SESSION_TTL_MS).toISOString(),
      })
      .execute()
  })
  return token
}

/**
 * The session for this token on this tenant's host, or null: unknown or expired tokens, a token of
 * another tenant, and an administrator who is no longer active (or no longer an administrator) are
 * all signed out; the last two also lose the session row.
 */
export async function findSession(
  database: Database,
  tenant: Tenant,
  token: string | undefined,
): Promise<ConsoleSession | null> {
  if (token === undefined || !/^[A-Za-z0-9]{43}$/.test(token)) return null
  const idHash = sha256(token)
  const row = await database.db
    .selectFrom('sessions')
    .innerJoin('users', (join) =>
      join.onRef('users.id', '=', 'sessions.user_id').onRef('users.tenant_id', '=', 'sessions.tenant_id'),
    )
    .select(['sessions.user_id', 'sessions.expires_at', 'users.email', 'users.status', 'users.is_admin'])
    .where('sessions.id_hash', '=', idHash)
    .where('sessions.tenant_id', '=', tenant.id)
    .executeTakeFirst()
  if (row === undefined) return null
  if (row.expires_at <= new Date().toISOString() || row.status !== 'active' || row.is_admin !== 1) {
    await endSession(database, token)
    return null
  }
  return { tenant, userId: row.user_id, email: row.email, token, csrf: csrfTokenFor(token) }
}

/** Deletes the session of this token (sign-out); nothing happens for an unknown token. */
export async function endSession(database: Database, token: string): Promise<void> {
  await database.transaction((trx) =>
    trx.deleteFrom('sessions').where('id_hash', '=', sha256(token)).execute(),
  )
}

/**
 * The CSRF token of a session: an HMAC keyed by the session token, so it needs no storage and
 * nobody without the cookie can compute it.
 */
export function csrfTokenFor(token: string): string {
  return createHmac('sha256', token).update('optimalcloud-console-csrf').digest('base64url')
}

/** Constant-time check of a submitted CSRF token. */
export function csrfMatches(session: ConsoleSession, given: string): boolean {
  const expected = Buffer.from(session.csrf)
  const actual = Buffer.from(given)
  return expected.length === actual.length && timingSafeEqual(expected, actual)
}

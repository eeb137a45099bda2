/** Webhook and Management API authentication: API keys and service accounts, with a short-lived cache. */
import { createHash } from 'node:crypto'
import type { Database } from '../storage/database.js'
import { API_KEY_PATTERN, findUsableManagementKey } from './api-keys.js'
import { UNKNOWN_ACCOUNT_HASH, verifyPassword } from './passwords.js'

export type Principal =
  | { kind: 'api_key'; id: string; tenantId: string }
  | { kind: 'service_account'; id: string; tenantId: string }
  /** An administrator signed in to the web console (replays made there are logged under this name). */
  | { kind: 'console_admin'; id: string; tenantId: string }
  /** An HR system that signed its call with its destination's secret (BambooHR); `id` is the destination's. */
  | { kind: 'signature'; id: string; tenantId: string }

/** How a principal is named in the delivery log: its id, never its secret. */
export function principalName(principal: Principal): string {
  return `${principal.kind}:${principal.id}`
}

interface CacheEntry {
  principal: Principal
  /** What the stored credential looked like when verified: a changed password hash drops the entry. */
  stamp: string
  checkedAt: number
}

/**
 * Verifies `Authorization` headers for one tenant at a time.
 *
 * A verified credential is kept in memory, keyed by a hash of the header (never the header itself),
 * and re-checked against the database every `recheckMs` with one indexed read (no KDF): a revoked
 * key, changed password or disabled account stops working within that time on every instance.
 * Concurrent first requests with the same header share one verification (one KDF run).
 */
export class Authenticator {
  private readonly cache = new Map<string, CacheEntry>()
  private readonly inFlight = new Map<string, Promise<CacheEntry | null>>()

  constructor(
    private readonly database: Database,
    private readonly recheckMs = 2000,
    private readonly maxEntries = 10_000,
    /** The KDF check; a seam so tests can count runs (concurrent first requests must share one). */
    private readonly checkPassword: (password: string, stored: string) => Promise<boolean> = verifyPassword,
  ) {}

  /** The principal for this header in this tenant, or null for any failure whatever the reason. */
  async authenticate(header: string | undefined, tenantId: string): Promise<Principal | null> {
    if (header === undefined || header.length > 4096) return null
    const cacheKey = createHash('sha256').update(tenantId).update('\0').update(header).digest('base64url')
    const now = Date.now()
    const hit = this.cache.get(cacheKey)
    if (hit !== undefined && now - hit.checkedAt < this.recheckMs) return hit.principal

    let pending = this.inFlight.get(cacheKey)
    if (pending === undefined) {
      pending = this.verify(header, tenantId, hit).finally(() => this.inFlight.delete(cacheKey))
      this.inFlight.set(cacheKey, pending)
    }
    const entry = await pending
    if (entry === null) {
      this.cache.delete(cacheKey)
      return null
    }
    if (this.cache.size >= this.maxEntries) {
      const oldest = this.cache.keys().next().value
      if (oldest !== undefined) this.cache.delete(oldest)
    }
    this.cache.set(cacheKey, entry)
    return entry.principal
  }

  /** Drops every cached credential of this process (after a revoke or password change made here). */
  forget(): void {
    this.cache.clear()
  }

  private async verify(
    header: string,
    tenantId: string,
    previous: CacheEntry | undefined,
  ): Promise<CacheEntry | null> {
    const credential = parseAuthorization(header)
    if (credential === null) return null
    if (credential.kind === 'key') {
      const key = await findUsableManagementKey(this.database.db, credential.key, new Date())
      if (key === null || key.tenantId !== tenantId) return null
      return { principal: { kind: 'api_key', id: key.id, tenantId }, stamp: '', checkedAt: Date.now() }
    }
    return this.verifyServiceAccount(credential.email, credential.password, tenantId, previous)
  }

  private async verifyServiceAccount(
    email: string,
    password: string,
    tenantId: string,
    previous: CacheEntry | undefined,
  ): Promise<CacheEntry | null> {
    const row = await this.database.db
      .selectFrom('users')
      .select(['id', 'status', 'is_service_account', 'password_hash'])
      .where('tenant_id', '=', tenantId)
      .where('email_key', '=', email.trim().toLowerCase())
      .executeTakeFirst()
    const stored = row?.password_hash ?? null
    // The re-check of a cached entry: same account, same password hash, still allowed; no KDF.
    if (
      previous !== undefined &&
      row !== undefined &&
      stored === previous.stamp &&
      previous.principal.id === row.id
    ) {
      return isUsableServiceAccount(row) ? { ...previous, checkedAt: Date.now() } : null
    }
    // Run the KDF whether or not the account exists, so an unknown email costs what a wrong password does.
    const matches = await this.checkPassword(password, stored ?? UNKNOWN_ACCOUNT_HASH)
    if (!matches || row === undefined || stored === null || !isUsableServiceAccount(row)) return null
    return {
      principal: { kind: 'service_account', id: row.id, tenantId },
      stamp: stored,
      checkedAt: Date.now(),
    }
  }
}

function isUsableServiceAccount(row: { status: string; is_service_account: number }): boolean {
  return row.status === 'active' && row.is_service_account === 1
}

type Credential = { kind: 'key'; key: string } | { kind: 'basic'; email: string; password: string }

/**
 * The four accepted forms: `Bearer <key>`, `ApiKey <key>`, a bare `<key>`, `Basic base64(email:password)`.
 *
 * @example parseAuthorization('ApiKey oc_…') // { kind: 'key', key: 'oc_…' }
 */
export function parseAuthorization(header: string): Credential | null {
  const value = header.trim()
  const space = value.indexOf(' ')
  if (space === -1) return API_KEY_PATTERN.test(value) ? { kind: 'key', key: value } : null
  const scheme = value.slice(0, space).toLowerCase()
  const rest = value.slice(space + 1).trim()
  if (scheme === 'bearer' || scheme === 'apikey')
    return API_KEY_PATTERN.test(rest) ? { kind: 'key', key: rest } : null
  if (scheme !== 'basic' || !/^[A-Za-z0-9+/]+=*$/.test(rest)) return null
  const decoded = Buffer.from(rest, 'base64').toString('utf8')
  const colon = decoded.indexOf(':')
  if (colon <= 0) return null
  return { kind: 'basic', email: decoded.slice(0, colon), password: decoded.slice(colon + 1) }
}

/** Webhook, Management API and console authentication: API keys, passwords, a short-lived cache, the failure limits. */
import { createHash } from 'node:crypto'
import type { Database } from '../storage/database.js'
import { API_KEY_PATTERN, findUsableManagementKey } from './api-keys.js'
import { accountKey, clientKey, type FailureLimiter } from './failure-limiter.js'
import { KdfTurns } from './kdf-turns.js'
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

/** What a check answers: the principal, or a refusal (401, or 429 when a failure limit says so). */
export type AuthOutcome<T = Principal> = { ok: true; principal: T } | { ok: false; limited: boolean }

const UNAUTHORIZED = { ok: false, limited: false } as const
const LIMITED = { ok: false, limited: true } as const

/** Longer headers are refused before anything is looked up: no credential of ours is this long. */
export const MAX_AUTHORIZATION = 4096
/** Longer emails or passwords are refused before the database or the KDF sees them. */
export const MAX_EMAIL = 320
export const MAX_PASSWORD = 1024

interface CacheEntry {
  principal: Principal
  /** What the stored credential looked like when verified: a changed password hash drops the entry. */
  stamp: string
  checkedAt: number
}

/** What one verification (shared by concurrent requests with the same header) came to. */
type Verdict = { kind: 'ok'; entry: CacheEntry } | { kind: 'failed' } | { kind: 'limited'; address: string }

export interface AuthenticatorOptions {
  /** How often a cached credential is re-checked against the database (revocation delay). */
  recheckMs?: number
  maxEntries?: number
  /** The KDF check; a seam so tests can count runs (concurrent first requests must share one). */
  checkPassword?: (password: string, stored: string) => Promise<boolean>
}

/**
 * Verifies credentials for one tenant at a time, under the failure limits.
 *
 * A verified credential is kept in memory, keyed by a hash of the header (never the header itself),
 * and re-checked against the database every `recheckMs` with one indexed read (no KDF): a revoked
 * key, changed password or disabled account stops working within that time on every instance.
 * Concurrent first requests with the same header share one verification (one KDF run, one slot).
 * A cached credential costs no store round trip: only the in-memory view of blocked addresses is
 * asked. Anything else (a new header, a guess, garbage) reserves a slot of its address (and, for a
 * password, of its account) before it is checked, and gives it back when the check succeeds. An
 * address runs at most two KDFs at once (`KdfTurns`): its guesses wait for each other, not others.
 *
 * @example const outcome = await authenticator.authenticate(request.headers.authorization, tenant.id, request.ip)
 */
export class Authenticator {
  private readonly cache = new Map<string, CacheEntry>()
  private readonly inFlight = new Map<string, Promise<Verdict>>()
  private readonly recheckMs: number
  private readonly maxEntries: number
  private readonly checkPassword: (password: string, stored: string) => Promise<boolean>
  private readonly turns = new KdfTurns()

  constructor(
    private readonly database: Database,
    private readonly failures: FailureLimiter,
    options: AuthenticatorOptions = {},
  ) {
    this.recheckMs = options.recheckMs ?? 2000
    this.maxEntries = options.maxEntries ?? 10_000
    this.checkPassword = options.checkPassword ?? verifyPassword
  }

  /** The principal for this header in this tenant, or a refusal whatever the reason. */
  async authenticate(header: string | undefined, tenantId: string, address: string): Promise<AuthOutcome> {
    if (this.failures.isBlocked(address)) return LIMITED
    const usable = header !== undefined && header.length <= MAX_AUTHORIZATION
    const cacheKey = usable
      ? createHash('sha256').update(tenantId).update('\0').update(header).digest('base64url')
      : undefined
    const hit = cacheKey === undefined ? undefined : this.cache.get(cacheKey)
    if (hit !== undefined && Date.now() - hit.checkedAt < this.recheckMs)
      return { ok: true, principal: hit.principal }

    const joined = cacheKey === undefined ? undefined : this.inFlight.get(cacheKey)
    if (joined !== undefined) {
      const verdict = await joined
      if (verdict.kind === 'ok') return this.settle(cacheKey, verdict)
      // Another address's limit refused the shared check: this request tries on its own slot.
      if (verdict.kind === 'limited' && verdict.address !== address)
        return this.settle(cacheKey, await this.lead(usable ? header : undefined, tenantId, address, hit))
      if (verdict.kind === 'limited') return LIMITED
      // The leader's failure is counted by its slot; each request that shared it counts one more.
      await this.failures.recordFailure(address)
      return this.settle(cacheKey, verdict)
    }
    let pending = this.lead(usable ? header : undefined, tenantId, address, hit)
    if (cacheKey !== undefined) {
      pending = pending.finally(() => this.inFlight.delete(cacheKey))
      this.inFlight.set(cacheKey, pending)
    }
    return this.settle(cacheKey, await pending)
  }

  /** Caches a success, forgets a failure, and turns the verdict into an outcome. */
  private settle(cacheKey: string | undefined, verdict: Verdict): AuthOutcome {
    if (verdict.kind === 'ok') {
      if (cacheKey !== undefined) this.remember(cacheKey, verdict.entry)
      return { ok: true, principal: verdict.entry.principal }
    }
    if (cacheKey !== undefined) this.cache.delete(cacheKey)
    return verdict.kind === 'limited' ? LIMITED : UNAUTHORIZED
  }

  /**
   * The administrator for these console credentials, or a refusal whatever the reason (unknown tenant,
   * unknown email, wrong password, not an administrator, not active). The KDF runs in every case that
   * gets a slot, so the time taken tells nothing either.
   *
   * @example const outcome = await authenticator.verifyAdministrator(tenant, 'admin@acme.com', password, request.ip)
   */
  async verifyAdministrator(
    tenantId: string | null,
    email: string,
    password: string,
    address: string,
  ): Promise<AuthOutcome<string>> {
    if (this.failures.isBlocked(address)) return LIMITED
    const reservation = await this.failures.reserve(address, accountKey(tenantId ?? '', email))
    if (reservation === null) return LIMITED
    try {
      const storable = isStorableEmail(email) && isStorablePassword(password)
      const row = storable
        ? await this.database.db
            .selectFrom('users')
            .select(['id', 'status', 'is_admin', 'password_hash'])
            // '' is no tenant's id: an unknown tenant looks up nobody and still pays for the KDF below.
            .where('tenant_id', '=', tenantId ?? '')
            .where('email_key', '=', email.trim().toLowerCase())
            .executeTakeFirst()
        : undefined
      const matches = await this.turns.run(clientKey(address), () =>
        this.checkPassword(storable ? password : '', row?.password_hash ?? UNKNOWN_ACCOUNT_HASH),
      )
      if (
        matches &&
        tenantId !== null &&
        row !== undefined &&
        row.status === 'active' &&
        row.is_admin === 1
      ) {
        await reservation.succeeded()
        return { ok: true, principal: row.id }
      }
      await reservation.failed()
      return UNAUTHORIZED
    } catch (error) {
      await reservation.failed()
      throw error
    }
  }

  /** Drops every cached credential of this process (after a revoke or password change made here). */
  forget(): void {
    this.cache.clear()
  }

  private remember(cacheKey: string, entry: CacheEntry): void {
    if (!this.cache.has(cacheKey) && this.cache.size >= this.maxEntries) {
      const oldest = this.cache.keys().next().value
      if (oldest !== undefined) this.cache.delete(oldest)
    }
    this.cache.set(cacheKey, entry)
  }

  /** One verification, for this request and those that share it. */
  private async lead(
    header: string | undefined,
    tenantId: string,
    address: string,
    previous: CacheEntry | undefined,
  ): Promise<Verdict> {
    const credential = header === undefined ? null : parseAuthorization(header)
    // A re-check of what this process verified moments ago is not a guess: it takes no slot, and
    // costs one indexed read. Only its failure counts.
    if (previous !== undefined && credential !== null) {
      const again = await this.recheck(credential, tenantId, previous)
      if (again !== 'changed') {
        if (again !== null) return { kind: 'ok', entry: again }
        await this.failures.recordFailure(address)
        return { kind: 'failed' }
      }
    }
    const account = credential?.kind === 'basic' ? accountKey(tenantId, credential.email) : undefined
    const reservation = await this.failures.reserve(address, account)
    if (reservation === null) return { kind: 'limited', address }
    try {
      const entry = credential === null ? null : await this.verify(credential, tenantId, address)
      if (entry === null) {
        await reservation.failed()
        return { kind: 'failed' }
      }
      await reservation.succeeded()
      return { kind: 'ok', entry }
    } catch (error) {
      await reservation.failed()
      throw error
    }
  }

  /** The cached entry still holds (null when not), or 'changed' when the password hash changed since. */
  private async recheck(
    credential: Credential,
    tenantId: string,
    previous: CacheEntry,
  ): Promise<CacheEntry | null | 'changed'> {
    if (credential.kind === 'key') return this.verifyKey(credential.key, tenantId)
    const row = await this.findServiceAccount(credential.email, tenantId)
    if (row === undefined || row.id !== previous.principal.id) return null
    if (row.password_hash !== previous.stamp) return 'changed'
    return isUsableServiceAccount(row) ? { ...previous, checkedAt: Date.now() } : null
  }

  private async verify(
    credential: Credential,
    tenantId: string,
    address: string,
  ): Promise<CacheEntry | null> {
    if (credential.kind === 'key') return this.verifyKey(credential.key, tenantId)
    const row = await this.findServiceAccount(credential.email, tenantId)
    const stored = row?.password_hash ?? null
    // Run the KDF whether or not the account exists, so an unknown email costs what a wrong password does.
    const matches = await this.turns.run(clientKey(address), () =>
      this.checkPassword(credential.password, stored ?? UNKNOWN_ACCOUNT_HASH),
    )
    if (!matches || row === undefined || stored === null || !isUsableServiceAccount(row)) return null
    return {
      principal: { kind: 'service_account', id: row.id, tenantId },
      stamp: stored,
      checkedAt: Date.now(),
    }
  }

  private async verifyKey(key: string, tenantId: string): Promise<CacheEntry | null> {
    const found = await findUsableManagementKey(this.database.db, key, new Date())
    if (found === null || found.tenantId !== tenantId) return null
    return { principal: { kind: 'api_key', id: found.id, tenantId }, stamp: '', checkedAt: Date.now() }
  }

  private findServiceAccount(email: string, tenantId: string) {
    return this.database.db
      .selectFrom('users')
      .select(['id', 'status', 'is_service_account', 'password_hash'])
      .where('tenant_id', '=', tenantId)
      .where('email_key', '=', email.trim().toLowerCase())
      .executeTakeFirst()
  }
}

function isUsableServiceAccount(row: { status: string; is_service_account: number }): boolean {
  return row.status === 'active' && row.is_service_account === 1
}

/**
 * An email the database can be asked about: bounded, and free of control characters (NUL above all:
 * PostgreSQL text cannot hold it).
 *
 * @example isStorableEmail('svc\u0000@acme.com') // false
 */
export function isStorableEmail(email: string): boolean {
  if (email.length > MAX_EMAIL) return false
  for (let i = 0; i < email.length; i++) {
    const code = email.charCodeAt(i)
    if (code < 0x20 || code === 0x7f) return false
  }
  return true
}

/**
 * A password that could have been set: bounded, without NUL (refused when passwords are set).
 *
 * @example isStorablePassword('p'.repeat(2000)) // false
 */
export function isStorablePassword(password: string): boolean {
  return password.length <= MAX_PASSWORD && !password.includes('\u0000')
}

type Credential = { kind: 'key'; key: string } | { kind: 'basic'; email: string; password: string }

const UTF8 = new TextDecoder('utf-8', { fatal: true })

/**
 * The four accepted forms: `Bearer <key>`, `ApiKey <key>`, a bare `<key>`, `Basic base64(email:password)`.
 * `Basic` credentials that are not UTF-8, or hold a NUL or another value no account can have, are no
 * credentials: they are refused like any other bad header, before the database is asked.
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
  let decoded: string
  try {
    decoded = UTF8.decode(Buffer.from(rest, 'base64'))
  } catch {
    return null
  }
  const colon = decoded.indexOf(':')
  if (colon <= 0) return null
  const email = decoded.slice(0, colon)
  const password = decoded.slice(colon + 1)
  if (!isStorableEmail(email) || !isStorablePassword(password)) return null
  return { kind: 'basic', email, password }
}

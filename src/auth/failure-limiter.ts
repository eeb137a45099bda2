/** Failed authentications per client address and per account, counted in a store every instance shares. */
import { createHash } from 'node:crypto'
import { isIPv4, isIPv6 } from 'node:net'
import type { RateLimiterAbstract } from 'rate-limiter-flexible'
import type { LimiterStore } from './limiter-store.js'

export interface FailureLimits {
  /** Failed attempts from one address within a minute before it gets 429 (30). */
  perAddressPerMinute: number
  /** Failed attempts on one account within an hour, from any addresses, before it is slowed down (100). */
  perAccountPerHour: number
  /** While slowed down, an account gets one check every this many seconds from addresses new to it (30). */
  slowdownSeconds: number
}

/** How long an address that signed in to an account stays exempt from that account's slowdown. */
const KNOWN_ADDRESS_SECONDS = 14 * 24 * 3600
/** Bounds the in-memory view of blocked addresses under a flood from many addresses. */
const MAX_BLOCKED = 100_000

/** A slot taken for one credential check: given back when the check succeeds, kept when it fails. */
export interface Reservation {
  succeeded(): Promise<void>
  failed(): Promise<void>
}

interface Limiters {
  address: RateLimiterAbstract
  account: RateLimiterAbstract
  slowdown: RateLimiterAbstract
  known: RateLimiterAbstract
}

/**
 * The key of an account for the per-account limit: a hash of tenant and lower-cased email, so the store
 * holds no email, and an unknown email counts exactly like a known one (nobody learns which exist).
 *
 * @example accountKey(tenant.id, 'svc@acme.com') === accountKey(tenant.id, ' SVC@acme.com')
 */
export function accountKey(tenantId: string, email: string): string {
  return digest(`${tenantId}\0${email.trim().toLowerCase()}`)
}

/** The key of requests whose connection is already gone (no peer address left to count). */
export const GONE_CLIENT = 'gone-client'

/**
 * Who the address limit counts: an IPv4 address (also when IPv4-mapped), or the /64 network of an IPv6
 * address. An IPv6 client is handed a /64 and may use any address in it, so counting per address would
 * give it 2^64 times the limit.
 *
 * @example clientKey('2001:db8:1:2::7') // '2001:db8:1:2::/64'
 */
export function clientKey(address: string | undefined): string {
  // Node forgets a connection's peer once it is closed, so a request whose client broke its framing
  // (an invalid chunk after the headers) or hung up reaches the hooks without an address (`request.ip`
  // is then undefined, whatever its type says). Such requests share one key instead of throwing.
  if (address === undefined || address === '') return GONE_CLIENT
  const ip = address.toLowerCase().split('%')[0] ?? ''
  if (isIPv4(ip)) return ip
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/.exec(ip)?.[1]
  if (mapped !== undefined && isIPv4(mapped)) return mapped
  if (!isIPv6(ip)) return address
  const [head = '', tail] = ip.split('::')
  const groups = (part: string) =>
    part === '' ? [] : part.split(':').flatMap((g) => (g.includes('.') ? ['0', '0'] : [g]))
  const before = groups(head)
  const after = tail === undefined ? [] : groups(tail)
  const all = [...before, ...Array.from({ length: 8 - before.length - after.length }, () => '0'), ...after]
  return `${all
    .slice(0, 4)
    .map((group) => group.replace(/^0+(?=.)/, ''))
    .join(':')}::/64`
}

function digest(text: string): string {
  return createHash('sha256').update(text).digest('base64url')
}

/**
 * The failure limits of docs/security.md ("Failure limits and client addresses"):
 *
 * - Per address: a credential check needs a slot, reserved before the check (`reserve`) and given back
 *   when it succeeds; a failure that needs no check (no header, garbage) takes one too (`recordFailure`).
 *   More than `perAddressPerMinute` in a minute, and the address is refused until that minute has passed.
 *   Rejections are remembered in memory, so a blocked address is refused without a store round trip
 *   (`isBlocked`), also for credentials this instance already verified.
 * - Per account: every check of an account takes a point too. Past `perAccountPerHour` in an hour the
 *   account is slowed down: an address that signed in to it in the last 14 days is checked as usual;
 *   any other address gets one check of it every `slowdownSeconds`, the rest are refused.
 *
 * Counts live in `store` (memory, the database or Redis) with rate-limiter-flexible's fixed windows.
 *
 * @example
 * const slot = await failures.reserve(request.ip, accountKey(tenant.id, email))
 * if (slot === null) throw new AppError('rate_limited')
 * if (await check()) await slot.succeeded(); else await slot.failed()
 */
export class FailureLimiter {
  private readonly blockedUntil = new Map<string, number>()
  /** Reservations of this process not yet settled, per address: they may still be given back. */
  private readonly pending = new Map<string, number>()
  /** Addresses refused while reservations of theirs were pending: looked up again once those settle. */
  private readonly deferred = new Set<string>()
  private built: Promise<Limiters> | undefined

  constructor(
    private readonly store: LimiterStore,
    private readonly limits: FailureLimits,
    private readonly now: () => number = () => Date.now(),
  ) {}

  /** Whether this process knows `address` to be blocked (no store round trip: the hot path asks this). */
  isBlocked(address: string): boolean {
    const client = clientKey(address)
    const until = this.blockedUntil.get(client)
    if (until === undefined) return false
    if (until > this.now()) return true
    this.blockedUntil.delete(client)
    return false
  }

  /**
   * Takes a slot for one credential check from `address` (and, for a password, one of `account`),
   * or answers null when the address or the account must be refused (429) without a check.
   */
  async reserve(clientAddress: string, account?: string): Promise<Reservation | null> {
    const address = clientKey(clientAddress)
    if (this.isBlocked(address)) return null
    const limiters = await this.limiters()
    if (!(await this.take(limiters.address, address, address))) return null
    this.pending.set(address, (this.pending.get(address) ?? 0) + 1)
    let settled = false
    const settle = async (work: Array<Promise<unknown>>) => {
      if (settled) return
      settled = true
      await Promise.all(work.map((step) => step.catch(() => undefined)))
      const left = (this.pending.get(address) ?? 1) - 1
      if (left > 0) {
        this.pending.set(address, left)
        return
      }
      this.pending.delete(address)
      // The address was refused while checks of it were running here: now that none is left to give
      // a slot back, the store says whether it is blocked.
      if (this.deferred.delete(address)) {
        const state = await limiters.address.get(address).catch(() => null)
        if (state !== null && state.consumedPoints > this.limits.perAddressPerMinute)
          this.block(address, state.msBeforeNext)
      }
    }
    if (account !== undefined && !(await this.accountAllows(limiters, account, address))) {
      // The address's slot stays taken: an attempt refused for its account is still an attempt.
      await settle([])
      return null
    }
    return {
      succeeded: () => {
        const work: Array<Promise<unknown>> = [limiters.address.reward(address)]
        if (account !== undefined) {
          work.push(limiters.account.reward(account))
          work.push(limiters.known.set(knownKey(account, address), 1, KNOWN_ADDRESS_SECONDS))
        }
        return settle(work)
      },
      failed: () => settle([]),
    }
  }

  /** Counts a failure that took no reservation (a check shared with another request, a session, a role). */
  async recordFailure(clientAddress: string): Promise<void> {
    const address = clientKey(clientAddress)
    if (this.isBlocked(address)) return
    await this.take((await this.limiters()).address, address, address)
  }

  /** Connects the store (Redis) and builds the limiters, so the first request does not wait for either. */
  async start(warn: (message: string) => void): Promise<void> {
    await this.store.start(warn)
    await this.limiters()
  }

  /**
   * Closes the store's connection (Redis) when the app closes. The counts in memory stay: several apps
   * may share these services (tests). After it, a Redis store's limiters count in memory.
   */
  async close(): Promise<void> {
    await this.store.close()
  }

  /** Where the counts live: `memory`, `postgres` or `redis`. */
  get storeKind(): LimiterStore['kind'] {
    return this.store.kind
  }

  /**
   * Consumes a point of `key`; false when none was left. A rejection of an address blocks it in memory
   * until the store's window ends, unless this process still holds checks of it that may give slots back.
   */
  private async take(limiter: RateLimiterAbstract, key: string, address?: string): Promise<boolean> {
    try {
      await limiter.consume(key)
      return true
    } catch (error) {
      if (!this.store.isRejection(error)) return true // the store and its insurance failed: let the check run
      if (address !== undefined) {
        if (this.pending.has(address)) this.deferred.add(address)
        else this.block(address, error.msBeforeNext)
      }
      return false
    }
  }

  private async accountAllows(limiters: Limiters, account: string, address: string): Promise<boolean> {
    if (await this.take(limiters.account, account)) return true
    // Slowed down: an address that signed in to this account before is not slowed by strangers' guesses.
    const known = await limiters.known.get(knownKey(account, address)).catch(() => null)
    if (known !== null) return true
    return this.take(limiters.slowdown, account)
  }

  private block(address: string, ms: number): void {
    if (!(ms > 0)) return
    if (this.blockedUntil.size >= MAX_BLOCKED) {
      const now = this.now()
      for (const [key, until] of this.blockedUntil) if (until <= now) this.blockedUntil.delete(key)
      if (this.blockedUntil.size >= MAX_BLOCKED) this.blockedUntil.clear()
    }
    this.blockedUntil.set(address, this.now() + ms)
  }

  private limiters(): Promise<Limiters> {
    this.built ??= (async () => ({
      address: await this.store.limiter({
        name: 'addr',
        points: this.limits.perAddressPerMinute,
        durationSeconds: 60,
      }),
      account: await this.store.limiter({
        name: 'acct',
        points: this.limits.perAccountPerHour,
        durationSeconds: 3600,
      }),
      slowdown: await this.store.limiter({
        name: 'slow',
        points: 1,
        durationSeconds: this.limits.slowdownSeconds,
      }),
      known: await this.store.limiter({ name: 'seen', points: 1, durationSeconds: KNOWN_ADDRESS_SECONDS }),
    }))()
    return this.built
  }
}

/** An (account, address) pair, hashed: the store holds neither the email nor the address in clear. */
function knownKey(account: string, address: string): string {
  return digest(`${account}\0${address}`)
}

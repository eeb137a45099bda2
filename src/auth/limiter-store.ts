/** Where failure counts live, through rate-limiter-flexible: memory (SQLite), the database (PostgreSQL) or Redis. */

import type { Redis } from 'ioredis'
import { CompiledQuery } from 'kysely'
import type { RateLimiterAbstract, RateLimiterRes } from 'rate-limiter-flexible'
import type { Config } from '../config.js'
import type { Database } from '../storage/database.js'
import { AUTH_LIMITS_TABLE } from '../storage/migrations/002-auth-limits.js'

/** One count: `points` per `durationSeconds` (a fixed window that starts with the key's first point). */
export interface LimiterSpec {
  /** Prefix of the keys, so limiters sharing a table or a Redis stay apart. */
  name: string
  points: number
  durationSeconds: number
}

/** What a limiter answers when a key has no points left (a rejection, not a failure of the store). */
export type Rejection = RateLimiterRes

export interface LimiterStore {
  readonly kind: 'memory' | 'postgres' | 'redis'
  /** A limiter over this store: every process using the same store (database or Redis) shares its counts. */
  limiter(spec: LimiterSpec): Promise<RateLimiterAbstract>
  /** True when `error` is a limiter's "no points left", not a failure. */
  isRejection(error: unknown): error is Rejection
  /** Connects (Redis) and waits for it briefly; counting falls back to memory until the store answers. */
  start(warn: (message: string) => void): Promise<void>
  close(): Promise<void>
}

type Module = typeof import('rate-limiter-flexible')

/**
 * The store for a deployment: Redis when `OPTIMALCLOUD_REDIS_URL` is set, else the PostgreSQL database,
 * else memory (the embedded SQLite default runs as one process, so memory is exact there; the CLI never
 * authenticates). A shared store's limiters fall back to a per-process memory limiter (the library's
 * insurance limiter) whenever the store does not answer, so authentication never fails because of it.
 * The library is loaded on first use: CLI commands never pay for it.
 *
 * @example const store = limiterStore(config, database); const perAddress = await store.limiter({ name: 'addr', points: 30, durationSeconds: 60 })
 */
export function limiterStore(
  config: Pick<Config, 'redisUrl' | 'redisKeyPrefix'>,
  database: Database,
): LimiterStore {
  if (config.redisUrl !== null) return new RedisStore(config.redisUrl, config.redisKeyPrefix)
  if (database.dialect === 'postgres') return new PostgresStore(database)
  return memoryLimiterStore()
}

/**
 * Counts in this process's memory (SQLite's one process; the tests of the limiter itself).
 *
 * @example const failures = new FailureLimiter(memoryLimiterStore(), { perAddressPerMinute: 30, perAccountPerHour: 100, slowdownSeconds: 30 })
 */
export function memoryLimiterStore(): LimiterStore {
  return new MemoryStore()
}

let loaded: Promise<Module> | undefined
function library(): Promise<Module> {
  loaded ??= import('rate-limiter-flexible')
  return loaded
}

abstract class BaseStore implements LimiterStore {
  abstract readonly kind: LimiterStore['kind']
  private Res: Module['RateLimiterRes'] | undefined

  async limiter(spec: LimiterSpec): Promise<RateLimiterAbstract> {
    const rlf = await library()
    this.Res = rlf.RateLimiterRes
    return this.make(rlf, spec)
  }

  isRejection(error: unknown): error is Rejection {
    return this.Res !== undefined && error instanceof this.Res
  }

  async start(_warn: (message: string) => void): Promise<void> {}
  async close(): Promise<void> {}

  protected abstract make(rlf: Module, spec: LimiterSpec): RateLimiterAbstract

  protected insurance(rlf: Module, spec: LimiterSpec): RateLimiterAbstract {
    return new rlf.RateLimiterMemory({
      keyPrefix: spec.name,
      points: spec.points,
      duration: spec.durationSeconds,
    })
  }
}

class MemoryStore extends BaseStore {
  readonly kind = 'memory' as const
  protected make(rlf: Module, spec: LimiterSpec): RateLimiterAbstract {
    return this.insurance(rlf, spec)
  }
}

/**
 * Counts in the `auth_limits` table (made by migration 002, in the schema the connection uses). The
 * library is given a client that runs its statements through Kysely, so it shares the service's pool
 * and search_path instead of opening connections of its own.
 */
class PostgresStore extends BaseStore {
  readonly kind = 'postgres' as const
  private sweeping = false

  constructor(private readonly database: Database) {
    super()
  }

  protected make(rlf: Module, spec: LimiterSpec): RateLimiterAbstract {
    const { db } = this.database
    const client = {
      async query(query: { text: string; values?: unknown[] }) {
        const result = await db.executeQuery(CompiledQuery.raw(query.text, query.values ?? []))
        return { rows: result.rows, rowCount: Number(result.numAffectedRows ?? result.rows.length) }
      },
    }
    // One limiter deletes expired rows (every 5 minutes, those expired an hour ago): they share the table.
    const sweep = !this.sweeping
    this.sweeping = true
    return new rlf.RateLimiterPostgres({
      storeClient: client,
      storeType: 'pool',
      tableName: AUTH_LIMITS_TABLE,
      tableCreated: true,
      clearExpiredByTimeout: sweep,
      keyPrefix: spec.name,
      points: spec.points,
      duration: spec.durationSeconds,
      insuranceLimiter: this.insurance(rlf, spec),
    })
  }
}

/** Counts in Redis (atomic Lua increments with expiry); keys are `{prefix}:{limiter}:{key}`. */
class RedisStore extends BaseStore {
  readonly kind = 'redis' as const
  private client: Promise<Redis> | undefined
  /** The client the limiters being made use (set before each is made). */
  private current: Redis | undefined
  constructor(
    private readonly url: string,
    private readonly prefix: string,
  ) {
    super()
  }

  override async start(warn: (message: string) => void): Promise<void> {
    const client = await this.connect()
    if (client.status === 'ready') return
    const ready = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), 2000)
      client.once('ready', () => {
        clearTimeout(timer)
        resolve(true)
      })
    })
    if (!ready)
      warn('Redis does not answer yet: failed authentications are counted per process until it does')
  }

  override async close(): Promise<void> {
    const connecting = this.client
    this.client = undefined
    if (connecting === undefined) return
    const client = await connecting
    await client.quit().catch(() => client.disconnect())
  }

  override async limiter(spec: LimiterSpec): Promise<RateLimiterAbstract> {
    this.current = await this.connect()
    return super.limiter(spec)
  }

  protected make(rlf: Module, spec: LimiterSpec): RateLimiterAbstract {
    return new rlf.RateLimiterRedis({
      storeClient: this.current,
      // Not ready (connecting, or Redis down): the insurance limiter counts instead of requests waiting.
      rejectIfRedisNotReady: true,
      keyPrefix: `${this.prefix}:${spec.name}`,
      points: spec.points,
      duration: spec.durationSeconds,
      insuranceLimiter: this.insurance(rlf, spec),
    })
  }

  /** One client per store, made on first use (ioredis is loaded only by deployments that use Redis). */
  private connect(): Promise<Redis> {
    this.client ??= import('ioredis').then(({ Redis }) => {
      const client = new Redis(this.url, {
        // Fail at once while disconnected (the insurance limiter answers) instead of queueing requests.
        enableOfflineQueue: false,
        maxRetriesPerRequest: 1,
        connectTimeout: 2000,
      })
      // Errors surface as rejected commands (then the insurance limiter); an unhandled 'error' event crashes.
      client.on('error', () => {})
      return client
    })
    return this.client
  }
}

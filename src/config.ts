/** Environment and flags turned into one typed Config. */
import { isIP } from 'node:net'
import { join } from 'node:path'
import { loadSecretKey } from './secrets.js'

/**
 * Which proxies may say who the client is: none (`false`), the last N hops, or the hops whose addresses
 * are in the list (addresses or CIDRs). Fastify's `trustProxy` takes each of these as it is.
 */
export type TrustProxy = false | number | string[]

export interface Config {
  databaseUrl: string
  /** Tenants are `{tenant}.{baseDomain}`. */
  baseDomain: string
  /** Used when the Host is not `{tenant}.{baseDomain}`. */
  defaultTenant: string | null
  /** Where the HR webhook URLs point, e.g. `https://{tenant}.theoptimalcloud.com`; `{tenant}` is replaced. */
  publicUrl: string | null
  /** The port the service listens on (`serve` sets the one it bound): local URLs name it. */
  port: number
  /** Lazily loaded: only connector secrets need it, and a PostgreSQL deployment must set it. */
  secretKey: () => string
  logLevel: string
  /** The proxies whose `X-Forwarded-For` entries are believed (docs/security.md). */
  trustProxy: TrustProxy
  /** How often a cached credential is re-checked against the database (revocation delay). */
  credentialRecheckMs: number
  /** Failed authentications from one address within a minute before it is answered 429. */
  authFailuresPerMinute: number
  /** Failed authentications of one account within an hour, from any addresses, before it is slowed down. */
  accountFailuresPerHour: number
  /** While an account is slowed down: one check of it every this many seconds from addresses new to it. */
  accountSlowdownSeconds: number
  /** Where the failure counts live when set (`redis://…`); else in the database (PostgreSQL) or memory (SQLite). */
  redisUrl: string | null
  /** Prefix of every Redis key, so several deployments (or test runs) can share one Redis. */
  redisKeyPrefix: string
  sqliteSynchronous: 'NORMAL' | 'FULL'
  pgSchema: string | undefined
  /** When set, GET /metrics needs `Authorization: Bearer <token>` (on any host); unset, it is served only to IP and localhost hosts. */
  metricsToken: string | null
  /**
   * OPTIMALCLOUD_ALLOW_PRIVATE_CONNECTORS=true: connectors may call plain http and private,
   * loopback and reserved addresses (local development and tests only; logged as a warning at start).
   */
  allowPrivateConnectors: boolean
  /** OPTIMALCLOUD_DELIVERY_RETENTION_DAYS: delivery-log entries (with their bodies) older than this are deleted (default 30). */
  deliveryRetentionDays: number
  /** OPTIMALCLOUD_AUDIT_RETENTION_DAYS: audit records older than this are deleted (default 365). */
  auditRetentionDays: number
}

export const DEFAULT_DATABASE_URL = 'sqlite:./data/optimalcloud.db'

/**
 * Reads OPTIMALCLOUD_* variables; `overrides` (flags, tests) win.
 *
 * @example const config = loadConfig(process.env, { databaseUrl: 'sqlite::memory:' })
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, overrides: Partial<Config> = {}): Config {
  const databaseUrl = overrides.databaseUrl ?? env.OPTIMALCLOUD_DATABASE_URL ?? DEFAULT_DATABASE_URL
  let cachedKey: string | undefined
  const secretKey = () => {
    cachedKey ??= loadSecretKey(env.OPTIMALCLOUD_SECRET_KEY, sqliteKeyFile(databaseUrl))
    return cachedKey
  }
  return {
    databaseUrl,
    baseDomain: (env.OPTIMALCLOUD_BASE_DOMAIN ?? 'localhost').toLowerCase(),
    defaultTenant: env.OPTIMALCLOUD_DEFAULT_TENANT || null,
    publicUrl: env.OPTIMALCLOUD_PUBLIC_URL || null,
    port: Number(env.PORT) || 8080,
    secretKey,
    logLevel: env.OPTIMALCLOUD_LOG_LEVEL ?? 'info',
    trustProxy: parseTrustProxy(env.OPTIMALCLOUD_TRUST_PROXY),
    credentialRecheckMs: 2000,
    authFailuresPerMinute: 30,
    accountFailuresPerHour: 100,
    accountSlowdownSeconds: 30,
    redisUrl: parseRedisUrl(env.OPTIMALCLOUD_REDIS_URL),
    redisKeyPrefix: env.OPTIMALCLOUD_REDIS_PREFIX || 'optimalcloud',
    sqliteSynchronous: env.OPTIMALCLOUD_SQLITE_SYNCHRONOUS === 'FULL' ? 'FULL' : 'NORMAL',
    pgSchema: env.OPTIMALCLOUD_PG_SCHEMA || undefined,
    metricsToken: env.OPTIMALCLOUD_METRICS_TOKEN || null,
    allowPrivateConnectors: env.OPTIMALCLOUD_ALLOW_PRIVATE_CONNECTORS === 'true',
    deliveryRetentionDays: parseDays(
      'OPTIMALCLOUD_DELIVERY_RETENTION_DAYS',
      env.OPTIMALCLOUD_DELIVERY_RETENTION_DAYS,
      30,
    ),
    auditRetentionDays: parseDays(
      'OPTIMALCLOUD_AUDIT_RETENTION_DAYS',
      env.OPTIMALCLOUD_AUDIT_RETENTION_DAYS,
      365,
    ),
    ...overrides,
  }
}

/**
 * Reads OPTIMALCLOUD_TRUST_PROXY: unset or `false` (no proxy), a hop count (`1` for one load balancer),
 * or a comma-separated list of proxy addresses and CIDRs. `true` is refused: it would believe every
 * `X-Forwarded-For` entry, so a client could choose its own address (and dodge or aim the failure limit).
 *
 * @example parseTrustProxy('10.0.0.0/8, 192.168.1.7') // ['10.0.0.0/8', '192.168.1.7']
 */
export function parseTrustProxy(value: string | undefined): TrustProxy {
  const text = (value ?? '').trim()
  if (text === '' || text.toLowerCase() === 'false' || text === '0') return false
  if (text.toLowerCase() === 'true') {
    throw new Error(
      'OPTIMALCLOUD_TRUST_PROXY=true would let any client choose its own address with X-Forwarded-For. ' +
        'Set it to the number of proxies in front of the service (e.g. 1 for one load balancer) or to ' +
        'their addresses or CIDRs, comma-separated (e.g. 10.0.0.0/8).',
    )
  }
  if (/^\d+$/.test(text)) {
    const hops = Number(text)
    if (hops > 20) throw new Error(`OPTIMALCLOUD_TRUST_PROXY=${text}: a hop count is at most 20`)
    return hops
  }
  const entries = text.split(',').map((entry) => entry.trim())
  for (const entry of entries) {
    if (!isAddressOrCidr(entry)) {
      throw new Error(
        `OPTIMALCLOUD_TRUST_PROXY: ${JSON.stringify(entry.slice(0, 60))} is not an IP address or CIDR ` +
          '(give a hop count, or proxy addresses and CIDRs separated by commas)',
      )
    }
  }
  return entries
}

/**
 * A retention window in whole days, 1 to 36500; unset is the default. Anything else is refused at
 * start, naming the setting: a typo must not silently keep everything, or delete everything.
 *
 * @example parseDays('OPTIMALCLOUD_DELIVERY_RETENTION_DAYS', '90', 30) // 90
 */
export function parseDays(name: string, value: string | undefined, fallback: number): number {
  const text = (value ?? '').trim()
  if (text === '') return fallback
  const days = /^\d{1,5}$/.test(text) ? Number(text) : Number.NaN
  if (!(days >= 1 && days <= 36_500))
    throw new Error(`${name} must be a whole number of days from 1 to 36500`)
  return days
}

/** OPTIMALCLOUD_REDIS_URL: unset, or a `redis://` / `rediss://` URL (anything else is refused, naming the setting). */
function parseRedisUrl(value: string | undefined): string | null {
  const text = (value ?? '').trim()
  if (text === '') return null
  if (!/^rediss?:\/\/[^\s]+$/.test(text))
    throw new Error('OPTIMALCLOUD_REDIS_URL must look like redis://host:6379 (or rediss:// for TLS)')
  return text
}

/**
 * The setting as Fastify takes it. A hop count becomes a function: Fastify reads a bare number as "trust
 * nothing" (it cannot tell a proxy from a client that sends enough hops itself), so the count is honoured
 * here, on the operator's word that the service is reachable only through those proxies.
 *
 * @example fastifyTrustProxy(1)('10.0.0.5', 0) // true: the load balancer in front
 */
export function fastifyTrustProxy(
  trust: TrustProxy,
): false | string[] | ((address: string, hop: number) => boolean) {
  return typeof trust === 'number' ? (_address, hop) => hop < trust : trust
}

function isAddressOrCidr(entry: string): boolean {
  const [address = '', prefix, ...rest] = entry.split('/')
  const family = isIP(address)
  if (family === 0 || rest.length > 0) return false
  if (prefix === undefined) return true
  if (!/^\d{1,3}$/.test(prefix)) return false
  return Number(prefix) <= (family === 4 ? 32 : 128)
}

/** The key file beside an SQLite database file; none for memory or PostgreSQL. */
function sqliteKeyFile(databaseUrl: string): string | null {
  if (!databaseUrl.startsWith('sqlite:')) return null
  const path = databaseUrl.slice('sqlite:'.length)
  if (path === '' || path === ':memory:') return null
  return join(path, '..', 'secret.key')
}

/**
 * The origin a tenant is reached at, as shown to administrators (HR webhook URLs, the OpenAPI server):
 * OPTIMALCLOUD_PUBLIC_URL with `{tenant}` replaced when set; on the default `localhost` base domain
 * `http://{tenant}.localhost:{port}`, which a newcomer's curl reaches as it is; else `https://{tenant}.{base domain}`.
 *
 * @example publicOrigin(config, 'acme') // 'https://acme.theoptimalcloud.com'
 */
export function publicOrigin(config: Config, tenantName: string): string {
  if (config.publicUrl !== null)
    return config.publicUrl.replaceAll('{tenant}', tenantName).replace(/\/+$/, '')
  if (config.baseDomain === 'localhost') return `http://${tenantName}.localhost:${config.port}`
  return `https://${tenantName}.${config.baseDomain}`
}

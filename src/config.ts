/** Environment and flags turned into one typed Config. */
import { join } from 'node:path'
import { loadSecretKey } from './secrets.js'

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
  /** Read the client address from X-Forwarded-For (only behind a proxy you trust). */
  trustProxy: boolean
  /** How often a cached credential is re-checked against the database (revocation delay). */
  credentialRecheckMs: number
  /** Failed authentications from one address within a minute before it is answered 429. */
  authFailuresPerMinute: number
  sqliteSynchronous: 'NORMAL' | 'FULL'
  pgSchema: string | undefined
  /** When set, GET /metrics needs `Authorization: Bearer <token>` (on any host); unset, it is served only to IP and localhost hosts. */
  metricsToken: string | null
  /**
   * OPTIMALCLOUD_ALLOW_PRIVATE_CONNECTORS=true: connectors may call plain http and private,
   * loopback and reserved addresses (local development and tests only; logged as a warning at start).
   */
  allowPrivateConnectors: boolean
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
    trustProxy: env.OPTIMALCLOUD_TRUST_PROXY === 'true',
    credentialRecheckMs: 2000,
    authFailuresPerMinute: 30,
    sqliteSynchronous: env.OPTIMALCLOUD_SQLITE_SYNCHRONOUS === 'FULL' ? 'FULL' : 'NORMAL',
    pgSchema: env.OPTIMALCLOUD_PG_SCHEMA || undefined,
    metricsToken: env.OPTIMALCLOUD_METRICS_TOKEN || null,
    allowPrivateConnectors: env.OPTIMALCLOUD_ALLOW_PRIVATE_CONNECTORS === 'true',
    ...overrides,
  }
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

/** What the HTTP layer, the CLI and the tests share: config, database, and the caches over it. */
import { Authenticator } from './auth/authenticator.js'
import { FailureLimiter } from './auth/failure-limiter.js'
import type { Config } from './config.js'
import type { Database } from './storage/database.js'
import { TenantDirectory } from './tenancy/tenants.js'

export interface Services {
  config: Config
  database: Database
  tenants: TenantDirectory
  authenticator: Authenticator
  failures: FailureLimiter
}

/** @example const services = createServices(config, openDatabase(config.databaseUrl)) */
export function createServices(config: Config, database: Database): Services {
  return {
    config,
    database,
    tenants: new TenantDirectory(database, config.credentialRecheckMs),
    authenticator: new Authenticator(database, config.credentialRecheckMs),
    failures: new FailureLimiter(config.authFailuresPerMinute),
  }
}

/** What the HTTP layer, the CLI and the tests share: config, database, and the caches over it. */
import { Authenticator } from './auth/authenticator.js'
import { FailureLimiter } from './auth/failure-limiter.js'
import { limiterStore } from './auth/limiter-store.js'
import { RefusedCalls } from './auth/refused-calls.js'
import type { Config } from './config.js'
import { type OutboundPolicy, outboundPolicy } from './connectors/http/outbound-policy.js'
import { DestinationDirectory } from './directory/destinations.js'
import type { Database } from './storage/database.js'
import type { ZendeskBackendOptions } from './support/zendesk-tickets.js'
import { TenantDirectory } from './tenancy/tenants.js'

export interface Services {
  config: Config
  database: Database
  tenants: TenantDirectory
  authenticator: Authenticator
  /** The failure limits per address and per account (docs/security.md). */
  failures: FailureLimiter
  /** Calls refused for bad credentials: counted for /metrics and per tenant and hour. */
  refusedCalls: RefusedCalls
  destinations: DestinationDirectory
  /** Where connectors may send requests (https to public hosts unless the operator allows private ones); tests may replace it. */
  outbound: OutboundPolicy
  /** Overrides of the Zendesk backend's timings (tests); unset in production. */
  zendesk?: ZendeskBackendOptions
}

/** @example const services = createServices(config, openDatabase(config.databaseUrl)) */
export function createServices(config: Config, database: Database): Services {
  const failures = new FailureLimiter(limiterStore(config, database), {
    perAddressPerMinute: config.authFailuresPerMinute,
    perAccountPerHour: config.accountFailuresPerHour,
    slowdownSeconds: config.accountSlowdownSeconds,
  })
  return {
    config,
    database,
    tenants: new TenantDirectory(database, config.credentialRecheckMs),
    authenticator: new Authenticator(database, failures, { recheckMs: config.credentialRecheckMs }),
    failures,
    refusedCalls: new RefusedCalls(database),
    destinations: new DestinationDirectory(database, config.credentialRecheckMs),
    outbound: outboundPolicy({ allowPrivate: config.allowPrivateConnectors }),
  }
}

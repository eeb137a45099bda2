/** /metrics for authentication: refused calls by surface and reason, and where failures are counted. */
import { Counter, Gauge, type Registry } from 'prom-client'
import type { Services } from '../services.js'

/**
 * Adds `optimalcloud_auth_refused_total{surface,reason}` (no tenant label: anyone can invent tenant
 * names, and a label per name would let them grow the series without bound) and
 * `optimalcloud_refused_calls_dropped_total`, read from the services at each scrape.
 *
 * @example registerAuthMetrics(registerMetrics(app), services)
 */
export function registerAuthMetrics(registry: Registry, services: Services): void {
  new Counter({
    name: 'optimalcloud_auth_refused_total',
    help: 'Calls refused at authentication, by surface (webhook, management, console) and reason (bad_credentials, rate_limited)',
    labelNames: ['surface', 'reason'] as const,
    registers: [registry],
    collect() {
      this.reset()
      for (const { surface, reason, value } of services.refusedCalls.counted())
        this.inc({ surface, reason }, value)
    },
  })
  new Gauge({
    name: 'optimalcloud_refused_calls_dropped_total',
    help: 'Refused-call counts per tenant and hour that could not be written (the database was unavailable too long)',
    registers: [registry],
    collect() {
      this.set(services.refusedCalls.dropped)
    },
  })
}

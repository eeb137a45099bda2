/** GET /metrics: Prometheus text with requests by route and status, a latency histogram and the log drops; for the operator only. */
import { timingSafeEqual } from 'node:crypto'
import { isIP } from 'node:net'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { Counter, collectDefaultMetrics, Histogram, Registry } from 'prom-client'
import type { LogDestination } from './log-destination.js'

/**
 * Registers the metrics route and the hook that counts every answered request. Each app has its own
 * registry, so several apps in one process (tests) do not mix their numbers; it is returned so other
 * parts of the service can add theirs.
 *
 * @example registerMetrics(app) // then: curl localhost:8080/metrics
 */
export function registerMetrics(
  app: FastifyInstance,
  options: { logDestination?: LogDestination; token?: string | null } = {},
): Registry {
  const registry = new Registry()
  collectDefaultMetrics({ register: registry })
  const requests = new Counter({
    name: 'optimalcloud_http_requests_total',
    help: 'HTTP requests answered, by route, method and status',
    labelNames: ['route', 'method', 'status'] as const,
    registers: [registry],
  })
  const latency = new Histogram({
    name: 'optimalcloud_http_request_duration_seconds',
    help: 'Time from request to answer, by route and method',
    labelNames: ['route', 'method'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20],
    registers: [registry],
  })

  registerLogCounters(registry, options.logDestination)

  app.addHook('onResponse', async (request, reply) => {
    // The route's pattern, not the URL: plugin ids and bad paths must not explode the label set.
    const route = request.routeOptions.url ?? 'unmatched'
    requests.inc({ route, method: request.method, status: String(reply.statusCode) })
    latency.observe({ route, method: request.method }, reply.elapsedTime / 1000)
  })
  const token = options.token ?? null
  app.get('/metrics', async (request, reply) => {
    // Refused like a path that does not exist: a tenant's host does not even learn that it is there.
    if (!mayReadMetrics(request, token)) return reply.code(404).send({ error: 'Not found' })
    reply.header('content-type', registry.contentType)
    return registry.metrics()
  })
  return registry
}

/**
 * Who may read /metrics: with a token set, whoever sends `Authorization: Bearer <token>`, on any
 * host; without one, a request to the operator's own address: a Host that is `localhost` or an IP
 * address (any port), which no tenant's host is. The Host header is the client's to choose: behind
 * a load balancer that forwards any Host, set the token (docs/operations.md).
 *
 * @example mayReadMetrics(request, null) // true for Host 127.0.0.1:8080, false for acme.example.com
 */
export function mayReadMetrics(request: FastifyRequest, token: string | null): boolean {
  if (token !== null) {
    const given = Buffer.from(request.headers.authorization ?? '')
    const expected = Buffer.from(`Bearer ${token}`)
    return given.length === expected.length && timingSafeEqual(given, expected)
  }
  return isOperatorHost(request.headers.host ?? '')
}

/** `localhost`, an IPv4 address or a bracketed IPv6 address, with or without a port. */
function isOperatorHost(host: string): boolean {
  const value = host.trim().toLowerCase()
  if (value.startsWith('[')) return /^\[[0-9a-f:.]+\](:\d{1,5})?$/.test(value)
  const name = value.replace(/:\d{1,5}$/, '')
  return name === 'localhost' || isIP(name) === 4
}

/**
 * The log destination's counts as counters, read when scraped: lines dropped (queue full or write
 * failed) and failed writes. Zero when the app logs elsewhere (tests) or not at all.
 */
function registerLogCounters(registry: Registry, destination: LogDestination | undefined): void {
  const counter = (name: string, help: string, read: (d: LogDestination) => number) => {
    let reported = 0
    return new Counter({
      name,
      help,
      registers: [registry],
      collect() {
        const now = destination === undefined ? 0 : read(destination)
        if (now > reported) this.inc(now - reported)
        reported = now
      },
    })
  }
  counter(
    'optimalcloud_log_lines_dropped_total',
    'Log lines never written: stdout was full, failing or too slow',
    (d) => d.dropped,
  )
  counter('optimalcloud_log_write_failures_total', 'Writes to stdout that failed', (d) => d.failedWrites)
}

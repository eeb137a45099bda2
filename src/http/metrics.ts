/** GET /metrics: Prometheus text with requests by route and status and a latency histogram. */
import type { FastifyInstance } from 'fastify'
import { Counter, collectDefaultMetrics, Histogram, Registry } from 'prom-client'

/**
 * Registers the metrics route and the hook that counts every answered request. Each app has its own
 * registry, so several apps in one process (tests) do not mix their numbers; it is returned so other
 * parts of the service can add theirs.
 *
 * @example registerMetrics(app) // then: curl localhost:8080/metrics
 */
export function registerMetrics(app: FastifyInstance): Registry {
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

  app.addHook('onResponse', async (request, reply) => {
    // The route's pattern, not the URL: plugin ids and bad paths must not explode the label set.
    const route = request.routeOptions.url ?? 'unmatched'
    requests.inc({ route, method: request.method, status: String(reply.statusCode) })
    latency.observe({ route, method: request.method }, reply.elapsedTime / 1000)
  })
  app.get('/metrics', async (_request, reply) => {
    reply.header('content-type', registry.contentType)
    return registry.metrics()
  })
  return registry
}

/** buildApp: the whole HTTP service as a Fastify instance, without listening. */
import { performance } from 'node:perf_hooks'
import Fastify, { type FastifyInstance, LogController } from 'fastify'
import { registerAuthMetrics } from './auth/auth-metrics.js'
import type { Principal } from './auth/authenticator.js'
import { fastifyTrustProxy } from './config.js'
import { authenticateHook } from './http/authenticate.js'
import { BODY_LIMIT } from './http/body-limit.js'
import { errorHandler } from './http/error-handler.js'
import { readBodiesAsJson } from './http/json-body.js'
import { stdoutDestination } from './http/log-destination.js'
import { clientErrorHandler, frameworkErrors, registerHostRequirement } from './http/low-level-errors.js'
import { registerMetrics } from './http/metrics.js'
import { Readiness } from './http/readiness.js'
import { registerRequestBounds } from './http/request-bounds.js'
import { requestIdFor } from './http/request-id.js'
import { managementApi } from './management/index.js'
import type { Services } from './services.js'
import type { Tenant } from './tenancy/tenants.js'
import { hrRoutes } from './webhooks/hr-routes.js'
import { ticketRoutes } from './webhooks/ticket-routes.js'

declare module 'fastify' {
  interface FastifyRequest {
    tenant: Tenant | undefined
    principal: Principal | undefined
    destinationId: string | undefined
    startedAt: number
  }
  interface FastifyContextConfig {
    /** The delivery log's name for a webhook route; routes without it are not logged as deliveries. */
    webhook?: string
    /**
     * A route that checks credentials in its handler (console sign-in): its body is the credentials, so a
     * value the database cannot hold is a failed sign-in (the uniform answer, counted), not a 400.
     */
    checksCredentials?: boolean
  }
}

/** A route as registered: what the attack suite enumerates, so routes added later are covered without editing it. */
export interface RegisteredRoute {
  method: string
  /** The path pattern, e.g. `/v5.0/mgmt/api/v1.0/users/:id`. */
  url: string
  /** The delivery log's name, for a webhook route. */
  webhook: string | undefined
}

const registeredRoutes = new WeakMap<FastifyInstance, RegisteredRoute[]>()

/**
 * Every route of an app built by buildApp (HEAD routes included), in registration order.
 *
 * @example routesOf(app).filter((route) => route.webhook !== undefined)
 */
export function routesOf(app: FastifyInstance): RegisteredRoute[] {
  return [...(registeredRoutes.get(app) ?? [])]
}

export { BODY_LIMIT } from './http/body-limit.js'
export const API_PREFIX = '/v5.0/mgmt/api/v1.0'

export interface AppOptions {
  /** pino options added to the defaults (which redact secrets), or false for silence (tests). */
  logger?: boolean | object
}

/**
 * @example const app = await buildApp(services); await app.listen({ port: 8080 })
 */
export async function buildApp(services: Services, options: AppOptions = {}): Promise<FastifyInstance> {
  // stdout through a destination that drops lines rather than block or crash (log-destination.ts),
  // unless the caller brings its own stream (tests) or no logger at all.
  const ownStream = typeof options.logger === 'object' && 'stream' in options.logger
  const logDestination = options.logger === false || ownStream ? undefined : stdoutDestination()
  const defaultLogger = {
    level: services.config.logLevel,
    ...(logDestination === undefined ? {} : { stream: logDestination }),
    redact: {
      paths: [
        'req.headers.authorization',
        'req.headers.cookie',
        '*.password',
        '*.api_token',
        '*.client_secret',
        '*.key',
      ],
      censor: '[redacted]',
    },
  }
  const app = Fastify({
    // Options given by the caller (a level, a stream) extend the defaults: the redaction stays.
    logger:
      typeof options.logger === 'object'
        ? { ...defaultLogger, ...options.logger }
        : (options.logger ?? defaultLogger),
    bodyLimit: BODY_LIMIT,
    requestIdHeader: false,
    genReqId: requestIdFor,
    // Only the hops the operator declared (a count or addresses): a client cannot pick its address.
    trustProxy: fastifyTrustProxy(services.config.trustProxy),
    // Requests that arrive while closing are still answered (SIGTERM drains; see server.ts).
    return503OnClosing: false,
    // One line per request is written by the onResponse hook below, with the fields operators need.
    logController: new LogController({ disableRequestLogging: true }),
    // What fails before a route runs answers the contract's {"error":…} shape too (low-level-errors.ts).
    http: { requireHostHeader: false },
    clientErrorHandler,
    frameworkErrors,
  })

  const routes: RegisteredRoute[] = []
  registeredRoutes.set(app, routes)
  app.addHook('onRoute', (route) => {
    const config = route.config as { webhook?: string } | undefined
    for (const method of Array.isArray(route.method) ? route.method : [route.method])
      routes.push({ method, url: route.url, webhook: config?.webhook })
  })

  app.decorateRequest('tenant', undefined)
  app.decorateRequest('principal', undefined)
  app.decorateRequest('destinationId', undefined)
  app.decorateRequest('startedAt', 0)
  app.addHook('onRequest', async (request, reply) => {
    request.startedAt = performance.now()
    reply.header('x-request-id', request.id)
  })
  registerHostRequirement(app)
  app.addHook('onResponse', async (request, reply) => {
    request.log.info(
      {
        method: request.method,
        url: request.url,
        status: reply.statusCode,
        ms: Math.round(performance.now() - request.startedAt),
      },
      'request',
    )
  })

  // Every body is read as JSON whatever its Content-Type says (or when it says nothing): helpdesks
  // are careless with the header, and anything that is not a JSON object gets the same clear 400.
  readBodiesAsJson(app, { bodyLimit: BODY_LIMIT })

  registerRequestBounds(app)
  app.setErrorHandler(errorHandler(services))
  app.setNotFoundHandler((_request, reply) => reply.code(404).send({ error: 'Not found' }))

  registerAuthMetrics(registerMetrics(app, { logDestination, token: services.config.metricsToken }), services)
  // A browser opening a tenant's address lands on its console (signed out: the sign-in page).
  app.get('/', async (_request, reply) => reply.redirect('/console/', 303))
  // The failure limiter's store is connected before the first request; counts pending for the database
  // are written before it closes (the server and the tests close the app first).
  await services.failures.start((message) => app.log.warn(message))
  app.addHook('onClose', async () => {
    await services.refusedCalls.close()
    await services.failures.close()
  })
  app.get('/healthz', async () => ({ status: 'ok' }))
  // Ready means the database takes writes, not merely answers (readiness.ts).
  const readiness = new Readiness(services.database)
  app.get('/readyz', async (_request, reply) =>
    (await readiness.isReady()) ? { status: 'ready' } : reply.code(503).send({ status: 'unavailable' }),
  )

  const authenticate = authenticateHook(services)
  await app.register(ticketRoutes(services, authenticate), {
    prefix: `${API_PREFIX}/webhooks`,
  })
  await app.register(hrRoutes(services, authenticate), { prefix: `${API_PREFIX}/webhooks` })
  await app.register(managementApi(services, authenticate), { prefix: API_PREFIX })
  // The web console: HTML pages with their own cookie and form parsers, encapsulated (docs/console.md).
  const { consolePlugin } = await import('./console/index.js')
  await app.register(consolePlugin(services), { prefix: '/console' })
  return app
}

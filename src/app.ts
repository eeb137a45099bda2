/** buildApp: the whole HTTP service as a Fastify instance, without listening. */
import { performance } from 'node:perf_hooks'
import Fastify, { type FastifyInstance, LogController } from 'fastify'
import { sql } from 'kysely'
import { registerAuthMetrics } from './auth/auth-metrics.js'
import type { Principal } from './auth/authenticator.js'
import { fastifyTrustProxy } from './config.js'
import { AppError } from './errors.js'
import { authenticateHook } from './http/authenticate.js'
import { errorHandler } from './http/error-handler.js'
import { registerMetrics } from './http/metrics.js'
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
  }
}

export const BODY_LIMIT = 1024 * 1024
export const API_PREFIX = '/v5.0/mgmt/api/v1.0'

export interface AppOptions {
  /** pino options added to the defaults (which redact secrets), or false for silence (tests). */
  logger?: boolean | object
}

/**
 * @example const app = await buildApp(services); await app.listen({ port: 8080 })
 */
export async function buildApp(services: Services, options: AppOptions = {}): Promise<FastifyInstance> {
  const defaultLogger = {
    level: services.config.logLevel,
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
  })

  app.decorateRequest('tenant', undefined)
  app.decorateRequest('principal', undefined)
  app.decorateRequest('destinationId', undefined)
  app.decorateRequest('startedAt', 0)
  app.addHook('onRequest', async (request, reply) => {
    request.startedAt = performance.now()
    reply.header('x-request-id', request.id)
  })
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
  app.removeAllContentTypeParsers()
  const parseJson = app.getDefaultJsonParser('error', 'error')
  app.addContentTypeParser('*', { parseAs: 'string', bodyLimit: BODY_LIMIT }, (request, body, done) => {
    const text = typeof body === 'string' ? body : body.toString('utf8')
    if (text === '') return done(new AppError('body_not_object'), undefined)
    parseJson(request, text, (error, value) =>
      error ? done(new AppError('body_not_object'), undefined) : done(null, value),
    )
  })

  app.setErrorHandler(errorHandler(services))
  app.setNotFoundHandler((_request, reply) => reply.code(404).send({ error: 'Not found' }))

  registerAuthMetrics(registerMetrics(app), services)
  // The failure limiter's store is connected before the first request; counts pending for the database
  // are written before it closes (the server and the tests close the app first).
  await services.failures.start((message) => app.log.warn(message))
  app.addHook('onClose', async () => {
    await services.refusedCalls.close()
    await services.failures.close()
  })
  app.get('/healthz', async () => ({ status: 'ok' }))
  app.get('/readyz', async (_request, reply) => {
    try {
      await sql`select 1`.execute(services.database.db)
      return { status: 'ready' }
    } catch {
      return reply.code(503).send({ status: 'unavailable' })
    }
  })

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

/** Runs the service: migrate, first-start bootstrap, listen, and a graceful SIGTERM. */
import type { FastifyInstance } from 'fastify'
import { buildApp } from './app.js'
import { bootstrapDemo, type DemoTenant, demoBanner } from './bootstrap.js'
import type { Config } from './config.js'
import { limitHeapGrowth } from './heap-growth.js'
import { drain, type TrackedConnections, trackConnections } from './http/drain.js'
import { RetentionSweeper, retentionRules } from './retention/sweeper.js'
import { createServices } from './services.js'
import { openDatabase } from './storage/database.js'
import { migrateToLatest } from './storage/migrate.js'

export interface ServeOptions {
  port: number
  host: string
  /** How long to keep accepting (answering with `Connection: close`) after SIGTERM before closing the listener. */
  drainMs?: number
  /** A worker of `serve --workers`: its primary has migrated the schema and runs the retention sweeper. */
  worker?: boolean
}

/**
 * @example await serve(loadConfig(), { port: 8080, host: '127.0.0.1' })
 */
export async function serve(config: Config, options: ServeOptions): Promise<FastifyInstance> {
  limitHeapGrowth()
  const database = openDatabase(config.databaseUrl, {
    sqliteSynchronous: config.sqliteSynchronous,
    pgSchema: config.pgSchema,
    sqliteCheckpointWorker: true,
  })
  const services = createServices(config, database)
  let draining = false
  let app: FastifyInstance | undefined
  // Signals are taken from the start. One that comes before the server listens ends the process at once
  // (it has accepted nothing); one that comes once it listens, while it finishes starting (the first-start
  // bootstrap), waits for that and then drains like any other. `on`, not `once`: under `--workers` a
  // Ctrl-C reaches a worker twice (from the terminal and from the primary), and a second signal without
  // a listener would end it mid-drain.
  let stop: ((signal: string) => Promise<void>) | null = null
  let signalled: string | null = null
  const onSignal = (signal: string) => {
    if (stop !== null) void stop(signal)
    else if (app?.server.listening !== true) process.exit(0)
    else signalled ??= signal
  }
  process.on('SIGTERM', () => onSignal('SIGTERM'))
  process.on('SIGINT', () => onSignal('SIGINT'))
  let demo: DemoTenant | null
  let connections: TrackedConnections
  try {
    if (options.worker !== true) await migrateToLatest(database)
    app = await buildApp(services)
    connections = trackConnections(app.server)
    app.addHook('onRequest', async (request, reply) => {
      if (!draining) return
      reply.header('connection', 'close')
      // A load balancer's readiness check takes a stopping instance out of rotation.
      if (request.url === '/readyz') return reply.code(503).send({ status: 'stopping' })
    })
    if (config.allowPrivateConnectors) {
      app.log.warn(
        'OPTIMALCLOUD_ALLOW_PRIVATE_CONNECTORS=true: connectors may call plain http and private addresses; never use this in production',
      )
    }
    await app.listen({ port: options.port, host: options.host })
    // The bound port, not the requested one: `--port 0` picks a free port, and the URLs shown
    // to administrators (curl lines, HR webhook URLs) must name the port that answers.
    const address = app.server.address()
    config.port = typeof address === 'object' && address !== null ? address.port : options.port
    // Only once listening: a first start that fails (port taken) must not spend the one showing of the
    // demo secrets. Tenants unknown a moment ago are not cached, so `demo` works as soon as it exists.
    demo = await bootstrapDemo(services)
  } catch (error) {
    // Release what was opened, or a PostgreSQL pool (or the listener) keeps the failed process alive.
    await app?.close().catch(() => {})
    await database.close().catch(() => {})
    throw error
  }
  if (demo !== null) {
    const host = options.host === '0.0.0.0' || options.host === '::' ? 'localhost' : options.host
    const origin = `http://demo.${config.baseDomain}:${config.port}`
    process.stderr.write(`${demoBanner(demo, origin)}\n  (listening on ${host}:${config.port})\n\n`)
  }

  // Old delivery-log entries, audit records and expired records go in small background batches.
  const sweeper = new RetentionSweeper(database, retentionRules(config), (message, counts) =>
    app.log.info({ deleted: counts }, message),
  )
  if (options.worker !== true) sweeper.start()

  let stopping = false
  stop = async (signal: string) => {
    if (stopping) return
    stopping = true
    app.log.info({ signal }, 'shutting down: draining connections')
    draining = true
    const left = await drain(app.server, connections, options.drainMs ?? 500)
    if (left.length > 0)
      app.log.warn({ connections: left }, 'closing connections still busy after the drain limit')
    await sweeper.stop()
    await app.close()
    await database.close()
    app.log.info('stopped')
    process.exit(0)
  }
  if (signalled !== null) void stop(signalled)
  return app
}

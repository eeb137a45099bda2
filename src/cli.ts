#!/usr/bin/env node
/** The `optimalcloud` command: serve, migrate, and the administration of tenants, keys, users, support. */
import { Command, CommanderError } from 'commander'
import { registerApiKeyCommands } from './cli/apikey-commands.js'
import { registerAuditCommands } from './cli/audit-commands.js'
import { type CommonOptions, common, configFrom } from './cli/context.js'
import { registerDeliveryCommands } from './cli/delivery-commands.js'
import { registerDestinationCommands } from './cli/destination-commands.js'
import { registerHoldCommands } from './cli/hold-commands.js'
import { registerSupportCommands } from './cli/support-commands.js'
import { registerSupportConfigureCommand } from './cli/support-configure-command.js'
import { registerTenantCommands } from './cli/tenant-commands.js'
import { registerUserCommands } from './cli/user-commands.js'
import { AppError } from './errors.js'
import { generateSecretKey } from './secrets.js'

const program = new Command('optimalcloud')
  .description('OptimalCloud webhooks: helpdesk tickets and HR provisioning for an identity cloud')
  .exitOverride()
  .showHelpAfterError()

common(
  program
    .command('serve')
    .description('run the HTTP service (logs JSON lines)')
    .option('--port <port>', 'port', process.env.PORT ?? '8080')
    .option('--host <host>', 'address to listen on', process.env.OPTIMALCLOUD_HOST ?? '127.0.0.1')
    .option(
      '--base-domain <domain>',
      'tenants are {tenant}.{domain} (default: $OPTIMALCLOUD_BASE_DOMAIN or localhost)',
    )
    .option(
      '--default-tenant <tenant>',
      'tenant for hosts that name none (default: $OPTIMALCLOUD_DEFAULT_TENANT)',
    )
    .option(
      '--workers <n>',
      'server processes sharing the port, PostgreSQL only (default: $OPTIMALCLOUD_WORKERS or 1)',
      process.env.OPTIMALCLOUD_WORKERS ?? '1',
    ),
).action(
  async (
    opts: CommonOptions & {
      port: string
      host: string
      baseDomain?: string
      defaultTenant?: string
      workers: string
    },
  ) => {
    const port = Number(opts.port)
    if (!Number.isInteger(port) || port < 0 || port > 65535)
      throw new AppError('bad_request', { message: '--port must be 0-65535' })
    const config = configFrom(opts, {
      ...(opts.baseDomain === undefined ? {} : { baseDomain: opts.baseDomain.toLowerCase() }),
      ...(opts.defaultTenant === undefined ? {} : { defaultTenant: opts.defaultTenant }),
    })
    // On PostgreSQL the key cannot be made on the fly (every instance must share it): refuse to start
    // without it, rather than fail the first Zendesk or Paylocity call.
    if (!config.databaseUrl.startsWith('sqlite:')) config.secretKey()
    const { checkWorkers, isClusterWorker, runPrimary } = await import('./cluster.js')
    const workers = checkWorkers(opts.workers, config.databaseUrl)
    if (workers > 1 && !isClusterWorker()) return runPrimary(config, workers)
    // Loaded here, not at the top: the HTTP stack (Fastify, routes, connectors) is a fifth of the start-up
    // time of every other command, which never needs it.
    const { serve } = await import('./server.js')
    // How long to keep accepting after SIGTERM: at least a load balancer's health-check interval.
    const drainMs = Number(process.env.OPTIMALCLOUD_DRAIN_MS ?? 500)
    if (!Number.isInteger(drainMs) || drainMs < 0 || drainMs > 600_000)
      throw new AppError('bad_request', { message: 'OPTIMALCLOUD_DRAIN_MS must be 0-600000' })
    await serve(config, { port, host: opts.host, drainMs, worker: isClusterWorker() })
  },
)

common(
  program
    .command('secret-key')
    .description('the key that encrypts connector secrets (OPTIMALCLOUD_SECRET_KEY)')
    .command('generate')
    .description('print a fresh random key to set as OPTIMALCLOUD_SECRET_KEY'),
).action((opts: CommonOptions) => {
  const key = generateSecretKey()
  process.stdout.write(opts.json === true ? `${JSON.stringify({ key })}\n` : `${key}\n`)
})

registerTenantCommands(program)
registerApiKeyCommands(program)
registerUserCommands(program)
registerSupportCommands(program)
registerSupportConfigureCommand(program)
registerDeliveryCommands(program)
registerDestinationCommands(program)
registerHoldCommands(program)
registerAuditCommands(program)

try {
  await program.parseAsync(process.argv)
} catch (error) {
  if (error instanceof CommanderError) {
    // Help and version are not failures; usage errors were already printed by commander.
    process.exitCode = error.exitCode
  } else {
    const message =
      error instanceof AppError ? error.message : error instanceof Error ? error.message : String(error)
    process.stderr.write(`error: ${message}\n`)
    process.exitCode = 1
  }
}

/** `optimalcloud deliveries list`: the delivery log from the command line. */
import type { Command } from 'commander'
import { listDeliveries } from '../deliveries/deliveries.js'
import { type CommonOptions, common, table, tenantNamed, withServices } from './context.js'

export function registerDeliveryCommands(program: Command): void {
  const deliveries = program.command('deliveries').description('the delivery log of webhook calls')
  common(
    deliveries
      .command('list')
      .description('webhook calls, newest first')
      .requiredOption('--tenant <tenant>', 'tenant name')
      .option('--failed', 'only calls that were not answered 2xx')
      .option('--limit <n>', 'how many', '100'),
  ).action((opts: CommonOptions & { tenant?: string; failed?: boolean; limit: string }) =>
    withServices(
      opts,
      async (services) =>
        listDeliveries(services.database.db, (await tenantNamed(services, opts.tenant)).id, {
          failed: opts.failed === true,
          limit: Math.min(Math.max(Number(opts.limit) || 100, 1), 1000),
        }),
      (rows) =>
        table(rows, ['id', 'created_at', 'endpoint', 'status', 'error', 'ticket', 'principal', 'reason']),
    ),
  )
}

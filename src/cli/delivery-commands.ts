/** `optimalcloud deliveries list|get`: the delivery log from the command line. */
import type { Command } from 'commander'
import { listDeliveries, readDelivery } from '../deliveries/deliveries.js'
import { AppError } from '../errors.js'
import { type CommonOptions, common, describe, table, tenantNamed, withServices } from './context.js'

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
  common(
    deliveries
      .command('get <id>')
      .description('one webhook call with the body it received (secret-looking fields read ********)')
      .requiredOption('--tenant <tenant>', 'tenant name'),
  ).action((id: string, opts: CommonOptions & { tenant?: string }) =>
    withServices(
      opts,
      async (services) => {
        const tenant = await tenantNamed(services, opts.tenant)
        const found = await readDelivery(services.database.db, tenant.id, id)
        if (found === null) throw new AppError('not_found', { message: `Delivery ${id} not found` })
        return found
      },
      (d) =>
        `${describe(d)}\n\n--- request body\n${d.request_body === null ? '(none)' : JSON.stringify(d.request_body, null, 2)}`,
    ),
  )
}

/** `optimalcloud deliveries list|get`: the delivery log from the command line. */
import type { Command } from 'commander'
import { type DeliveryFilters, pageDeliveries, readDelivery } from '../deliveries/deliveries.js'
import { viewDeliveries } from '../deliveries/delivery-view.js'
import { AppError } from '../errors.js'
import { readTimeRange } from '../lists/time-range.js'
import { type CommonOptions, common, describe, table, tenantNamed, withServices } from './context.js'
import { type PageOptions, pageFlags, readPages } from './paged-list.js'

type DeliveryListOptions = CommonOptions &
  PageOptions & {
    tenant?: string
    failed?: boolean
    outcome?: string
    endpoint?: string
    destination?: string
    since?: string
    until?: string
  }

/** --outcome and --failed as one filter; 400 for anything else or for both disagreeing. */
function readOutcome(opts: DeliveryListOptions): DeliveryFilters['outcome'] {
  const { outcome, failed } = opts
  if (outcome !== undefined && outcome !== 'succeeded' && outcome !== 'failed')
    throw new AppError('bad_request', { message: '--outcome must be succeeded or failed' })
  if (failed === true && outcome === 'succeeded')
    throw new AppError('bad_request', { message: 'Give --failed or --outcome succeeded, not both' })
  return failed === true ? 'failed' : outcome
}

export function registerDeliveryCommands(program: Command): void {
  const deliveries = program.command('deliveries').description('the delivery log of webhook calls')
  common(
    pageFlags(
      deliveries
        .command('list')
        .description('webhook calls, newest first, a page at a time')
        .requiredOption('--tenant <tenant>', 'tenant name')
        .option('--failed', 'only calls that were not answered 2xx (the same as --outcome failed)')
        .option('--outcome <outcome>', 'succeeded (answered 2xx) or failed')
        .option('--endpoint <endpoint>', 'servicenow, createticket, adduser, modifyuser or deleteuser')
        .option('--destination <plugin_id>', "only this provisioning destination's calls")
        .option(
          '--since <time>',
          'only calls at or after this time (e.g. 2026-12-01 or 2026-12-01T10:00:00Z)',
        )
        .option('--until <time>', 'only calls before this time'),
    ),
  ).action((opts: DeliveryListOptions) =>
    withServices(
      opts,
      async (services) => {
        const tenantId = (await tenantNamed(services, opts.tenant)).id
        const filters: DeliveryFilters = {
          outcome: readOutcome(opts),
          endpoint: opts.endpoint,
          destinationId: opts.destination,
          range: readTimeRange(opts),
        }
        const rows = await readPages(opts, (page) =>
          pageDeliveries(services.database.db, tenantId, filters, page),
        )
        return viewDeliveries(services.database.db, tenantId, rows)
      },
      (rows) =>
        table(rows, [
          'id',
          'created_at',
          'endpoint',
          'status',
          'outcome',
          'caller',
          'ticket',
          'user_email',
          'reason',
        ]),
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

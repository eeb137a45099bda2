/** `optimalcloud hold list|approve|reject`: terminations held by the mass-termination safeguard. */

import type { Command } from 'commander'
import { decideHeldChanges, listHeldChanges } from '../directory/held-changes.js'
import { CLI_ACTOR } from '../directory/user-history.js'
import { auditCli } from './audit.js'
import { type CommonOptions, common, describe, table, tenantNamed, withServices } from './context.js'
import { type PageOptions, pageFlags, readPages } from './paged-list.js'

type TenantOptions = CommonOptions & { tenant?: string }

export function registerHoldCommands(program: Command): void {
  const hold = program
    .command('hold')
    .description('terminations held by the mass-termination safeguard (termination_limit per hour)')
  common(
    pageFlags(
      hold
        .command('list')
        .description('held terminations, oldest first')
        .requiredOption('--tenant <tenant>', 'tenant name')
        .option('--destination <plugin_id>', "only this provisioning destination's"),
    ),
  ).action((opts: TenantOptions & PageOptions & { destination?: string }) =>
    withServices(
      opts,
      async (services) => {
        const tenant = await tenantNamed(services, opts.tenant)
        return readPages(opts, (request) =>
          listHeldChanges(services.database.db, tenant.id, request, opts.destination),
        )
      },
      (rows) =>
        table(rows, ['created_at', 'plugin_id', 'destination_name', 'employee_id', 'email', 'user_id']),
    ),
  )
  for (const decision of ['approve', 'reject'] as const) {
    common(
      hold
        .command(decision)
        .description(
          decision === 'approve'
            ? 'apply every held termination of a destination, oldest first'
            : 'drop every held termination of a destination (no user changes)',
        )
        .requiredOption('--tenant <tenant>', 'tenant name')
        .requiredOption('--destination <plugin_id>', 'the provisioning destination'),
    ).action((opts: TenantOptions & { destination: string }) =>
      withServices(
        opts,
        async (services) => {
          const tenant = await tenantNamed(services, opts.tenant)
          const result = await decideHeldChanges(
            services,
            tenant.id,
            opts.destination,
            decision,
            CLI_ACTOR.actor,
          )
          await auditCli(
            services,
            tenant.id,
            decision === 'approve' ? 'approveHolds' : 'rejectHolds',
            opts.destination,
            result,
          )
          return result
        },
        describe,
      ),
    )
  }
}

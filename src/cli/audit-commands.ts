/** `optimalcloud audit list`: the audit log of administrators' changes and sign-ins, newest first. */
import type { Command } from 'commander'
import { listAudit } from '../audit/audit-log.js'
import { type CommonOptions, common, table, tenantNamed, withServices } from './context.js'
import { type PageOptions, pageFlags, readPages } from './paged-list.js'

export function registerAuditCommands(program: Command): void {
  const audit = program.command('audit').description("the audit log: administrators' changes and sign-ins")
  common(
    pageFlags(
      audit
        .command('list')
        .description(
          'audit entries, newest first (read only: nothing changes them; retention deletes them after OPTIMALCLOUD_AUDIT_RETENTION_DAYS)',
        )
        .requiredOption('--tenant <tenant>', 'tenant name'),
    ),
  ).action((opts: CommonOptions & { tenant?: string } & PageOptions) =>
    withServices(
      opts,
      async (services) => {
        const tenant = await tenantNamed(services, opts.tenant)
        return readPages(opts, (request) => listAudit(services.database.db, tenant.id, request))
      },
      (rows) =>
        table(rows, [
          'created_at',
          'actor',
          'actor_name',
          'action',
          'target',
          'client_address',
          'request_id',
        ]),
    ),
  )
}

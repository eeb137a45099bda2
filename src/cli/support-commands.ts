/** `optimalcloud requester add|list`, `ticket list|get`: the built-in support system from the command line. */

import type { Command } from 'commander'
import { AppError } from '../errors.js'
import { readTimeRange } from '../lists/time-range.js'
import { addRequester, pageRequesters } from '../support/requesters.js'
import { getTicket, pageTickets } from '../support/tickets.js'
import { MAX_TICKET_NUMBER } from '../value-bounds.js'
import { auditCli } from './audit.js'
import { type CommonOptions, common, describe, table, tenantNamed, withServices } from './context.js'
import { type PageOptions, pageFlags, readPages } from './paged-list.js'

type TenantOptions = CommonOptions & { tenant?: string }

export function registerSupportCommands(program: Command): void {
  const requester = program.command('requester').description('support accounts: who may open tickets')
  common(
    requester
      .command('add')
      .description('add a support account (requester)')
      .requiredOption('--tenant <tenant>', 'tenant name')
      .requiredOption('--email <email>', 'email')
      .option('--name <name>', 'full name'),
  ).action((opts: TenantOptions & { email: string; name?: string }) =>
    withServices(
      opts,
      async (services) => {
        const tenant = await tenantNamed(services, opts.tenant)
        const added = await addRequester(services.database, tenant.id, opts.email, opts.name ?? null)
        await auditCli(services, tenant.id, 'addRequester', added.email, {
          email: opts.email,
          name: opts.name ?? null,
        })
        return added
      },
      describe,
    ),
  )
  common(
    pageFlags(
      requester
        .command('list')
        .description('list support accounts by email, a page at a time')
        .requiredOption('--tenant <tenant>', 'tenant name'),
    ),
  ).action((opts: TenantOptions & PageOptions) =>
    withServices(
      opts,
      async (services) => {
        const tenantId = (await tenantNamed(services, opts.tenant)).id
        return readPages(opts, (page) => pageRequesters(services.database.db, tenantId, page))
      },
      (rows) => table(rows, ['email', 'name', 'created_at']),
    ),
  )

  const ticket = program.command('ticket').description('support tickets')
  common(
    pageFlags(
      ticket
        .command('list')
        .description('list tickets, newest first, a page at a time')
        .requiredOption('--tenant <tenant>', 'tenant name')
        .option('--source <source>', 'servicenow or generic')
        .option('--since <time>', 'only tickets created at or after this time (e.g. 2026-12-01)')
        .option('--until <time>', 'only tickets created before this time'),
    ),
  ).action((opts: TenantOptions & PageOptions & { source?: string; since?: string; until?: string }) =>
    withServices(
      opts,
      async (services) => {
        const tenantId = (await tenantNamed(services, opts.tenant)).id
        if (opts.source !== undefined && opts.source !== 'servicenow' && opts.source !== 'generic')
          throw new AppError('bad_request', { message: '--source must be servicenow or generic' })
        const filters = { source: opts.source, range: readTimeRange(opts) }
        return readPages(opts, (page) => pageTickets(services.database.db, tenantId, filters, page))
      },
      (rows) =>
        table(rows, ['ticket', 'priority', 'subject', 'requester_email', 'external_id', 'created_at']),
    ),
  )
  common(
    ticket
      .command('get <number>')
      .description('one ticket with its comments')
      .requiredOption('--tenant <tenant>', 'tenant name'),
  ).action((number: string, opts: TenantOptions) =>
    withServices(
      opts,
      async (services) => {
        if (!/^[1-9]\d{0,15}$/.test(number) || Number(number) > MAX_TICKET_NUMBER)
          throw new AppError('bad_request', {
            message: `NUMBER must be a positive integer up to ${MAX_TICKET_NUMBER}`,
          })
        return getTicket(services.database.db, (await tenantNamed(services, opts.tenant)).id, Number(number))
      },
      (t) =>
        `${describe(t)}\n${(t.comments ?? []).map((c, i) => `\n--- comment ${i + 1} (${c.created_at})\n${c.body}`).join('\n')}`,
    ),
  )
}

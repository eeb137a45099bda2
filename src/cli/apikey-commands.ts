/** `optimalcloud apikey create|list|revoke|delete`: the API Key Manager from the command line. */

import type { Command } from 'commander'
import { createApiKey, pageApiKeys, parseDuration, revokeApiKey } from '../auth/api-keys.js'
import { deleteRevokedApiKey } from '../directory/deletions.js'
import { auditCli } from './audit.js'
import { type CommonOptions, common, table, tenantNamed, withServices } from './context.js'
import { type PageOptions, pageFlags, readPages } from './paged-list.js'

type TenantOptions = CommonOptions & { tenant?: string }

export function registerApiKeyCommands(program: Command): void {
  const apikey = program.command('apikey').description('API keys (the API Key Manager)')
  common(
    apikey
      .command('create')
      .description('create an API key; the key is printed once and never again')
      .requiredOption('--tenant <tenant>', 'tenant name')
      .requiredOption('--name <name>', 'what the key is for, e.g. servicenow')
      .option('--management', 'the Management API option (webhooks and the management API need it)')
      .option('--expires-in <duration>', 'lifetime such as 90d, 12h or 30m'),
  ).action((opts: TenantOptions & { name: string; management?: boolean; expiresIn?: string }) =>
    withServices(
      opts,
      async (services) => {
        const tenant = await tenantNamed(services, opts.tenant)
        const expiresInMs = opts.expiresIn === undefined ? null : parseDuration(opts.expiresIn)
        const created = await createApiKey(services.database, tenant.id, {
          name: opts.name,
          management: opts.management === true,
          expiresInMs,
        })
        await auditCli(services, tenant.id, 'createApiKey', created.id, {
          name: opts.name,
          management: opts.management === true,
          expires_in: opts.expiresIn ?? null,
        })
        return {
          id: created.id,
          key: created.key,
          name: created.name,
          management: created.management,
          expires_at: created.expires_at,
        }
      },
      (k) =>
        `API key ${k.id} (${k.name})${k.management ? ', Management API' : ''}${k.expires_at ? `, expires ${k.expires_at}` : ''}\n` +
        `Key (shown once, store it now): ${k.key}`,
    ),
  )
  common(
    pageFlags(
      apikey
        .command('list')
        .description('list API keys, oldest first, a page at a time')
        .requiredOption('--tenant <tenant>', 'tenant name'),
    ),
  ).action((opts: TenantOptions & PageOptions) =>
    withServices(
      opts,
      async (services) => {
        const tenantId = (await tenantNamed(services, opts.tenant)).id
        return readPages(opts, (page) => pageApiKeys(services.database.db, tenantId, page))
      },
      (rows) => table(rows, ['id', 'name', 'prefix', 'management', 'created_at', 'expires_at', 'revoked_at']),
    ),
  )
  common(
    apikey
      .command('revoke <id>')
      .description('revoke an API key (it stops working within seconds)')
      .requiredOption('--tenant <tenant>', 'tenant name'),
  ).action((id: string, opts: TenantOptions) =>
    withServices(
      opts,
      async (services) => {
        const tenant = await tenantNamed(services, opts.tenant)
        const revoked = await revokeApiKey(services.database, tenant.id, id)
        await auditCli(services, tenant.id, 'revokeApiKey', revoked.id)
        return { id: revoked.id, revoked: true }
      },
      (r) => `API key ${r.id} revoked.`,
    ),
  )
  common(
    apikey
      .command('delete <id>')
      .description('delete a revoked API key from the list for good (revoke it first)')
      .requiredOption('--tenant <tenant>', 'tenant name'),
  ).action((id: string, opts: TenantOptions) =>
    withServices(
      opts,
      async (services) => {
        const tenant = await tenantNamed(services, opts.tenant)
        const deleted = await deleteRevokedApiKey(services, tenant.id, id)
        await auditCli(services, tenant.id, 'deleteRevokedApiKey', id)
        return deleted
      },
      (r) => `API key ${r.id} deleted.`,
    ),
  )
}

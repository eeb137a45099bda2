/** `optimalcloud migrate` and `optimalcloud tenant create|list`. */

import type { Command } from 'commander'
import { CLI_ACTOR } from '../directory/user-history.js'
import { createUser } from '../directory/users.js'
import { AppError } from '../errors.js'
import { createTenant, pageTenants } from '../tenancy/tenants.js'
import { auditCli } from './audit.js'
import { type CommonOptions, common, describe, readSecretFromStdin, table, withServices } from './context.js'
import { type PageOptions, pageFlags, readPages } from './paged-list.js'

export function registerTenantCommands(program: Command): void {
  common(program.command('migrate').description('bring the database schema up to date')).action(
    (opts: CommonOptions) =>
      withServices(
        opts,
        async () => ({ ok: true }),
        () => 'Database is up to date.',
      ),
  )

  const tenant = program.command('tenant').description('tenants')
  common(
    tenant
      .command('create <name>')
      .description('create a tenant (optionally with an administrator who signs in to the console)')
      .option('--admin-email <email>', 'email of the tenant administrator')
      .option('--password-stdin', "read the administrator's password from standard input"),
  ).action(async (name: string, opts: CommonOptions & { adminEmail?: string; passwordStdin?: boolean }) => {
    if (opts.adminEmail !== undefined && opts.passwordStdin !== true) {
      throw new AppError('bad_request', { message: '--admin-email needs --password-stdin' })
    }
    const password = opts.adminEmail === undefined ? undefined : await readSecretFromStdin()
    await withServices(
      opts,
      async (services) => {
        const created = await createTenant(services.database, name)
        if (opts.adminEmail !== undefined) {
          try {
            const admin = await createUser(services.database, created.id, {
              email: opts.adminEmail,
              admin: true,
              ...(password ? { password } : {}),
              by: CLI_ACTOR,
            })
            await auditCli(services, created.id, 'createUser', admin.id, { email: admin.email, admin: true })
          } catch (error) {
            // A refused administrator (bad email, short password) must not leave the tenant behind:
            // the command failed, so nothing may have changed, and running it again must work.
            await services.database.transaction((trx) =>
              trx.deleteFrom('tenants').where('id', '=', created.id).execute(),
            )
            throw error
          }
        }
        return { name: created.name, created_at: created.createdAt }
      },
      describe,
    )
  })
  common(pageFlags(tenant.command('list').description('list tenants by name, a page at a time'))).action(
    (opts: CommonOptions & PageOptions) =>
      withServices(
        opts,
        async (services) =>
          (await readPages(opts, (page) => pageTenants(services.database, page))).map((t) => ({
            name: t.name,
            support: t.supportBackend,
            created_at: t.createdAt,
          })),
        (rows) => table(rows, ['name', 'support', 'created_at']),
      ),
  )
}

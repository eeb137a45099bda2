/** `optimalcloud user create|list|get|enable|disable|set-password|delete|history`: the User Manager from the command line. */

import type { Command } from 'commander'
import { deleteServiceAccount } from '../directory/deletions.js'
import { resetPassword } from '../directory/password-reset.js'
import { describeChanges } from '../directory/user-changes.js'
import { CLI_ACTOR, listUserHistory } from '../directory/user-history.js'
import { changeUserStatus } from '../directory/user-status.js'
import {
  createUser,
  findUserByEmail,
  findUsersByEmployeeId,
  pageUsers,
  type UserDetails,
  type UserFilters,
  type UserStatus,
} from '../directory/users.js'
import { AppError } from '../errors.js'
import type { Services } from '../services.js'
import type { Tenant } from '../tenancy/tenants.js'
import { boundedText } from '../value-bounds.js'
import { auditCli } from './audit.js'
import {
  type CommonOptions,
  common,
  describe,
  readSecretFromStdin,
  table,
  tenantNamed,
  withServices,
} from './context.js'
import { type PageOptions, pageFlags, readPages } from './paged-list.js'

type TenantOptions = CommonOptions & { tenant?: string }

const STATUSES: readonly UserStatus[] = ['active', 'terminated', 'disabled']

function readStatus(status: string | undefined): UserStatus | undefined {
  if (status === undefined) return undefined
  if (!(STATUSES as readonly string[]).includes(status))
    throw new AppError('bad_request', { message: '--status must be active, terminated or disabled' })
  return status as UserStatus
}

export function registerUserCommands(program: Command): void {
  const user = program.command('user').description('users and service accounts (the User Manager)')
  common(
    user
      .command('create')
      .description('create a user; a service account signs webhooks in with its email and password')
      .requiredOption('--tenant <tenant>', 'tenant name')
      .requiredOption('--email <email>', 'email (also the login ID)')
      .option('--first-name <name>', 'first name')
      .option('--last-name <name>', 'last name')
      .option('--service-account', 'make it a service account (needs --password-stdin)')
      .option('--admin', 'make it a console administrator of the tenant (needs --password-stdin)')
      .option('--password-stdin', 'read the password from standard input'),
  ).action(
    async (
      opts: TenantOptions & {
        email: string
        firstName?: string
        lastName?: string
        serviceAccount?: boolean
        admin?: boolean
        passwordStdin?: boolean
      },
    ) => {
      const signsIn = opts.serviceAccount === true || opts.admin === true
      if (signsIn && opts.passwordStdin !== true) {
        const flag = opts.serviceAccount === true ? '--service-account' : '--admin'
        throw new AppError('bad_request', { message: `${flag} needs --password-stdin` })
      }
      if (opts.passwordStdin === true && !signsIn) {
        // Only accounts that sign in have a password; reading one and dropping it would mislead.
        throw new AppError('bad_request', { message: '--password-stdin is for --service-account or --admin' })
      }
      const password = opts.passwordStdin === true ? await readSecretFromStdin() : undefined
      await withServices(
        opts,
        async (services) => {
          const tenant = await tenantNamed(services, opts.tenant)
          const created = await createUser(services.database, tenant.id, {
            email: opts.email,
            ...(opts.firstName === undefined ? {} : { firstName: opts.firstName }),
            ...(opts.lastName === undefined ? {} : { lastName: opts.lastName }),
            serviceAccount: opts.serviceAccount === true,
            admin: opts.admin === true,
            ...(password === undefined ? {} : { password }),
            by: CLI_ACTOR,
          })
          await auditCli(services, tenant.id, 'createUser', created.id, {
            email: created.email,
            service_account: created.service_account,
            admin: created.admin,
          })
          return created
        },
        describe,
      )
    },
  )
  common(
    pageFlags(
      user
        .command('list')
        .description('list users, oldest first, a page at a time')
        .requiredOption('--tenant <tenant>', 'tenant name')
        .option('--status <status>', 'active, terminated or disabled')
        .option('--destination <plugin_id>', 'only the users this provisioning destination made')
        .option('--search <text>', 'part of the email, display name, first or last name, without case'),
    ),
  ).action((opts: TenantOptions & PageOptions & { status?: string; destination?: string; search?: string }) =>
    withServices(
      opts,
      async (services) => {
        const tenantId = (await tenantNamed(services, opts.tenant)).id
        const filters: UserFilters = {
          status: readStatus(opts.status),
          destinationId: opts.destination,
          search: boundedText('--search', opts.search ?? ''),
        }
        return readPages(opts, (page) => pageUsers(services.database.db, tenantId, filters, page))
      },
      (rows) =>
        table(rows, ['id', 'login_id', 'email', 'display_name', 'status', 'employee_id', 'service_account']),
    ),
  )
  common(whoFlags(user.command('get').description('one user, by email or by employee id'))).action(
    (opts: TenantOptions & WhoOptions) =>
      withServices(
        opts,
        async (services) => findOne(services, await tenantNamed(services, opts.tenant), opts),
        describe,
      ),
  )
  for (const action of ['enable', 'disable'] as const) {
    common(
      whoFlags(
        user
          .command(action)
          .description(
            action === 'disable'
              ? 'disable a user: it can no longer sign in (a user its HR system terminated stays terminated)'
              : 'enable a disabled user (a user its HR system terminated is refused: only that HR system brings it back)',
          ),
      ),
    ).action((opts: TenantOptions & WhoOptions) =>
      withServices(
        opts,
        async (services) => {
          const tenant = await tenantNamed(services, opts.tenant)
          const found = await findOne(services, tenant, opts)
          const changed = await changeUserStatus(services, tenant.id, found.id, action, CLI_ACTOR)
          await auditCli(services, tenant.id, `${action}User`, found.id)
          return changed
        },
        describe,
      ),
    )
  }
  registerSetPasswordCommand(user)
  registerDeleteCommand(user)
  registerHistoryCommand(user)
}

/** `user delete`: a disabled service account, for good (other users are disabled, not deleted). */
function registerDeleteCommand(user: Command): void {
  common(
    whoFlags(user.command('delete').description('delete a disabled service account (disable it first)')),
  ).action((opts: TenantOptions & WhoOptions) =>
    withServices(
      opts,
      async (services) => {
        const tenant = await tenantNamed(services, opts.tenant)
        const found = await findOne(services, tenant, opts)
        const deleted = await deleteServiceAccount(services, tenant.id, found.id)
        await auditCli(services, tenant.id, 'deleteServiceAccount', found.id)
        return deleted
      },
      (r) => `User ${r.id} deleted.`,
    ),
  )
}

/** `user set-password`: a service account's or administrator's new password, from standard input. */
function registerSetPasswordCommand(user: Command): void {
  common(
    whoFlags(
      user
        .command('set-password')
        .description(
          'reset the password of a service account or administrator (the old one stops working within seconds)',
        )
        .option('--password-stdin', 'read the new password from standard input (required)'),
    ),
  ).action(async (opts: TenantOptions & WhoOptions & { passwordStdin?: boolean }) => {
    if (opts.passwordStdin !== true) {
      throw new AppError('bad_request', { message: 'set-password needs --password-stdin' })
    }
    const password = await readSecretFromStdin()
    await withServices(
      opts,
      async (services) => {
        const tenant = await tenantNamed(services, opts.tenant)
        const found = await findOne(services, tenant, opts)
        const changed = await resetPassword(services, tenant.id, found.id, password, CLI_ACTOR)
        await auditCli(services, tenant.id, 'setUserPassword', found.id)
        return changed
      },
      describe,
    )
  })
}

/** `user history`: every change of one user, oldest first. */
function registerHistoryCommand(user: Command): void {
  common(
    pageFlags(
      whoFlags(
        user
          .command('history')
          .description('every change of one user, oldest first: when, who, before → after'),
      ),
    ),
  ).action((opts: TenantOptions & WhoOptions & PageOptions) =>
    withServices(
      opts,
      async (services) => {
        const tenant = await tenantNamed(services, opts.tenant)
        const found = await findOne(services, tenant, opts)
        return readPages(opts, (request) =>
          listUserHistory(services.database.db, tenant.id, found.id, request),
        )
      },
      (rows) =>
        table(
          rows.map((row) => ({ ...row, changes: describeChanges(row.changes) })),
          ['created_at', 'action', 'actor_name', 'actor', 'delivery_id', 'changes'],
        ),
    ),
  )
}

type WhoOptions = { email?: string; employeeId?: string; destination?: string }

/** `--email E | --employee-id X [--destination PLUGIN_ID]`: how the CLI names one user. */
function whoFlags(command: Command): Command {
  return command
    .requiredOption('--tenant <tenant>', 'tenant name')
    .option('--email <email>', 'email (any case)')
    .option('--employee-id <id>', 'employee id given by an HR system')
    .option('--destination <plugin_id>', 'the provisioning destination that made the user')
}

/** The one user named by --email or --employee-id; 404 when none, 400 when the employee id is ambiguous. */
async function findOne(services: Services, tenant: Tenant, opts: WhoOptions): Promise<UserDetails> {
  let found: UserDetails | null
  if (opts.email !== undefined) {
    found = await findUserByEmail(services.database.db, tenant.id, opts.email)
  } else if (opts.employeeId !== undefined) {
    const matches = await findUsersByEmployeeId(
      services.database.db,
      tenant.id,
      opts.employeeId,
      opts.destination,
    )
    if (matches.length > 1) {
      throw new AppError('bad_request', {
        message: `Several users have employee id ${opts.employeeId}; name one with --destination`,
      })
    }
    found = matches[0] ?? null
  } else {
    throw new AppError('bad_request', { message: 'Give --email or --employee-id' })
  }
  if (found === null) throw new AppError('not_found', { message: 'User not found' })
  return found
}

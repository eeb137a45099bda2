/** `optimalcloud user create|list|get|enable|disable|set-password`: the User Manager from the command line. */
import type { Command } from 'commander'
import { resetPassword } from '../directory/password-reset.js'
import { changeUserStatus } from '../directory/user-status.js'
import {
  createUser,
  findUserByEmail,
  findUsersByEmployeeId,
  listUsers,
  type UserDetails,
} from '../directory/users.js'
import { AppError } from '../errors.js'
import type { Services } from '../services.js'
import type { Tenant } from '../tenancy/tenants.js'
import {
  type CommonOptions,
  common,
  describe,
  readSecretFromStdin,
  table,
  tenantNamed,
  withServices,
} from './context.js'

type TenantOptions = CommonOptions & { tenant?: string }

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
        async (services) =>
          createUser(services.database, (await tenantNamed(services, opts.tenant)).id, {
            email: opts.email,
            ...(opts.firstName === undefined ? {} : { firstName: opts.firstName }),
            ...(opts.lastName === undefined ? {} : { lastName: opts.lastName }),
            serviceAccount: opts.serviceAccount === true,
            admin: opts.admin === true,
            ...(password === undefined ? {} : { password }),
          }),
        describe,
      )
    },
  )
  common(
    user.command('list').description('list users').requiredOption('--tenant <tenant>', 'tenant name'),
  ).action((opts: TenantOptions) =>
    withServices(
      opts,
      async (services) => listUsers(services.database.db, (await tenantNamed(services, opts.tenant)).id),
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
          return changeUserStatus(services, tenant.id, found.id, action)
        },
        describe,
      ),
    )
  }
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
        return resetPassword(services, tenant.id, found.id, password)
      },
      describe,
    )
  })
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

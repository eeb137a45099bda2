/** `optimalcloud user create|list|get`: the User Manager from the command line. */
import type { Command } from 'commander'
import {
  createUser,
  findUserByEmail,
  findUsersByEmployeeId,
  listUsers,
  type UserDetails,
} from '../directory/users.js'
import { AppError } from '../errors.js'
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
      .option('--password-stdin', 'read the password from standard input'),
  ).action(
    async (
      opts: TenantOptions & {
        email: string
        firstName?: string
        lastName?: string
        serviceAccount?: boolean
        passwordStdin?: boolean
      },
    ) => {
      if (opts.serviceAccount === true && opts.passwordStdin !== true) {
        throw new AppError('bad_request', { message: '--service-account needs --password-stdin' })
      }
      if (opts.passwordStdin === true && opts.serviceAccount !== true) {
        // Only service accounts sign in with a password here; reading one and dropping it would mislead.
        throw new AppError('bad_request', { message: '--password-stdin is for --service-account' })
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
  common(
    user
      .command('get')
      .description('one user, by email or by employee id')
      .requiredOption('--tenant <tenant>', 'tenant name')
      .option('--email <email>', 'email (any case)')
      .option('--employee-id <id>', 'employee id given by an HR system')
      .option('--destination <plugin_id>', 'the provisioning destination that made the user'),
  ).action((opts: TenantOptions & { email?: string; employeeId?: string; destination?: string }) =>
    withServices(
      opts,
      async (services) => {
        const tenant = await tenantNamed(services, opts.tenant)
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
      },
      describe,
    ),
  )
}

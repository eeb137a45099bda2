/** `optimalcloud support configure`: switch a tenant between the built-in support system and Zendesk. */

import type { Command } from 'commander'
import { AppError } from '../errors.js'
import { configureSupport, parseSettingAssignments } from '../support/support-settings.js'
import { auditCli } from './audit.js'
import {
  type CommonOptions,
  common,
  describe,
  readSecretFromStdin,
  tenantNamed,
  withServices,
} from './context.js'

type ConfigureOptions = CommonOptions & {
  tenant?: string
  backend: string
  set: string[]
  apiTokenStdin?: boolean
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value]
}

export function registerSupportConfigureCommand(program: Command): void {
  const support =
    program.commands.find((command) => command.name() === 'support') ??
    program.command('support').description("the tenant's support system: builtin or Zendesk")
  common(
    support
      .command('configure')
      .description('use the built-in support system or Zendesk for a tenant (see docs/zendesk.md)')
      .requiredOption('--tenant <tenant>', 'tenant name')
      .requiredOption('--backend <backend>', 'builtin or zendesk')
      .option('--set <KEY=VALUE>', 'a Zendesk setting: url, email, api_token (repeatable)', collect, [])
      // Arguments show up in process lists and shell history; stdin does not.
      .option('--api-token-stdin', 'read the Zendesk api_token from standard input instead of --set'),
  ).action((opts: ConfigureOptions) =>
    withServices(
      opts,
      async (services) => {
        const settings = parseSettingAssignments(opts.set)
        if (opts.apiTokenStdin === true) {
          if (settings.api_token !== undefined) {
            throw new AppError('bad_request', {
              message: 'Give api_token with --set or --api-token-stdin, not both',
            })
          }
          settings.api_token = await readSecretFromStdin('api token')
        }
        const tenant = await tenantNamed(services, opts.tenant)
        const configured = await configureSupport(services, tenant, opts.backend, settings)
        await auditCli(services, tenant.id, 'configureSupport', opts.backend, {
          backend: opts.backend,
          settings,
        })
        return configured
      },
      describe,
    ),
  )
}

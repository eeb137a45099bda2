/** `optimalcloud destination create|list|get|update|enable|disable|delete`: the Provisioning Manager from the command line. */

import type { Command } from 'commander'
import { deleteDestination } from '../directory/deletions.js'
import {
  createDestination,
  type DestinationView,
  getDestination,
  pageDestinations,
  updateDestination,
} from '../directory/destinations.js'
import { AppError } from '../errors.js'
import { DESTINATION_TYPES, HR_VENDORS, settingsOf, settingsSummary } from '../hr-vendors/index.js'
import { auditCli } from './audit.js'
import {
  type CommonOptions,
  common,
  describe,
  readSecretLinesFromStdin,
  table,
  tenantNamed,
  withServices,
} from './context.js'
import { type PageOptions, pageFlags, readPages } from './paged-list.js'

type TenantOptions = CommonOptions & { tenant?: string }
type SettingOptions = { set: string[]; secretStdin: string[]; clientSecretStdin?: boolean }

/** Collects repeated `--set KEY=VALUE` flags. */
function collect(value: string, previous: string[]): string[] {
  return [...previous, value]
}

/** Every secret setting any vendor declares (the ones `--secret-stdin` may read). */
const SECRET_SETTINGS = [
  ...new Set(
    Object.values(HR_VENDORS).flatMap((vendor) =>
      settingsOf(vendor)
        .filter((spec) => spec.secret === true)
        .map((spec) => spec.key),
    ),
  ),
]

/**
 * `--set KEY=VALUE`... into an object; `--secret-stdin KEY` (repeatable) reads secret settings from
 * standard input, one line each in the order given, so they stay out of shell history and process
 * lists. `--client-secret-stdin` is `--secret-stdin client_secret`.
 */
async function readSettings(options: SettingOptions): Promise<Record<string, string>> {
  const settings: Record<string, string> = {}
  for (const pair of options.set) {
    const equals = pair.indexOf('=')
    if (equals <= 0)
      throw new AppError('bad_request', { message: `--set needs KEY=VALUE, got "${pair.split('=')[0]}"` })
    settings[pair.slice(0, equals).trim()] = pair.slice(equals + 1)
  }
  const fromStdin = [...options.secretStdin, ...(options.clientSecretStdin === true ? ['client_secret'] : [])]
  for (const key of fromStdin) {
    if (!SECRET_SETTINGS.includes(key))
      throw new AppError('bad_request', {
        message: `--secret-stdin takes a secret setting (${SECRET_SETTINGS.join(', ')}), not ${key}`,
      })
    if (settings[key] !== undefined)
      throw new AppError('bad_request', {
        message: `Give ${key} with --set or from standard input, not both`,
      })
  }
  if (fromStdin.length > 0) {
    const lines = await readSecretLinesFromStdin(fromStdin.map((key) => key.replaceAll('_', ' ')))
    fromStdin.forEach((key, index) => {
      settings[key] = lines[index] ?? ''
    })
  }
  return settings
}

/** Human output: the fields, the settings, then the three URLs to give the HR system. */
function show(view: DestinationView): string {
  const settings = Object.entries(view.settings).map(([key, value]) => `  ${key}: ${value}`)
  return [
    describe(view),
    'settings:',
    ...settings,
    'urls:',
    `  adduser:    ${view.urls.adduser}`,
    `  modifyuser: ${view.urls.modifyuser}`,
    `  deleteuser: ${view.urls.deleteuser}`,
    ...(view.urls.events === undefined ? [] : [`  events:     ${view.urls.events}`]),
  ].join('\n')
}

function settingFlags(command: Command): Command {
  return (
    command
      .option('--set <key=value>', `a setting (repeatable); ${settingsSummary()}`, collect, [])
      // Arguments show up in process lists and shell history; stdin does not.
      .option(
        '--secret-stdin <key>',
        `read a secret setting (${SECRET_SETTINGS.join(', ')}) from standard input; repeatable, one line each`,
        collect,
        [],
      )
      .option('--client-secret-stdin', 'same as --secret-stdin client_secret')
  )
}

export function registerDestinationCommands(program: Command): void {
  const destination = program.command('destination').description(
    `provisioning destinations: where HR systems (${Object.values(HR_VENDORS)
      .map((vendor) => vendor.label)
      .join(', ')}) send users`,
  )
  common(
    settingFlags(
      destination
        .command('create')
        .description('create a destination and print its three HR webhook URLs')
        .requiredOption('--tenant <tenant>', 'tenant name')
        .requiredOption('--type <type>', DESTINATION_TYPES.join(' | '))
        .requiredOption('--name <name>', 'a name for administrators'),
    ),
  ).action(async (opts: TenantOptions & SettingOptions & { type: string; name: string }) => {
    const settings = await readSettings(opts)
    await withServices(
      opts,
      async (services) => {
        const tenant = await tenantNamed(services, opts.tenant)
        const created = await createDestination(services, tenant, {
          type: opts.type,
          name: opts.name,
          settings,
        })
        await auditCli(services, tenant.id, 'createDestination', created.plugin_id, {
          type: opts.type,
          name: opts.name,
          settings,
        })
        return created
      },
      show,
    )
  })
  common(
    pageFlags(
      destination
        .command('list')
        .description('list destinations, oldest first, a page at a time (secrets are never shown)')
        .requiredOption('--tenant <tenant>', 'tenant name'),
    ),
  ).action((opts: TenantOptions & PageOptions) =>
    withServices(
      opts,
      async (services) => {
        const tenant = await tenantNamed(services, opts.tenant)
        return readPages(opts, (page) => pageDestinations(services, tenant, page))
      },
      (rows) =>
        table(
          rows.map((row) => ({ ...row, adduser_url: row.urls.adduser })),
          ['plugin_id', 'type', 'name', 'enabled', 'adduser_url'],
        ),
    ),
  )
  common(
    destination
      .command('get <plugin_id>')
      .description('one destination with its URLs')
      .requiredOption('--tenant <tenant>', 'tenant name'),
  ).action((pluginId: string, opts: TenantOptions) =>
    withServices(
      opts,
      async (services) => getDestination(services, await tenantNamed(services, opts.tenant), pluginId),
      show,
    ),
  )
  common(
    settingFlags(
      destination
        .command('update <plugin_id>')
        .description('rename or re-configure a destination; --set KEY= removes a setting')
        .requiredOption('--tenant <tenant>', 'tenant name')
        .option('--name <name>', 'a new name'),
    ),
  ).action(async (pluginId: string, opts: TenantOptions & SettingOptions & { name?: string }) => {
    const settings = await readSettings(opts)
    await withServices(
      opts,
      async (services) => {
        const tenant = await tenantNamed(services, opts.tenant)
        const change = {
          ...(opts.name === undefined ? {} : { name: opts.name }),
          ...(Object.keys(settings).length === 0 ? {} : { settings }),
        }
        const updated = await updateDestination(services, tenant, pluginId, change)
        await auditCli(services, tenant.id, 'updateDestination', updated.plugin_id, change)
        return updated
      },
      show,
    )
  })
  for (const [name, enabled] of [
    ['enable', true],
    ['disable', false],
  ] as const) {
    common(
      destination
        .command(`${name} <plugin_id>`)
        .description(enabled ? 'accept calls on the URLs again' : 'answer 404 on the URLs (users are kept)')
        .requiredOption('--tenant <tenant>', 'tenant name'),
    ).action((pluginId: string, opts: TenantOptions) =>
      withServices(
        opts,
        async (services) => {
          const tenant = await tenantNamed(services, opts.tenant)
          const updated = await updateDestination(services, tenant, pluginId, { enabled })
          await auditCli(services, tenant.id, `${name}Destination`, updated.plugin_id)
          return updated
        },
        show,
      ),
    )
  }
  common(
    destination
      .command('delete <plugin_id>')
      .description(
        'delete a disabled destination without users or held changes (one with users stays disabled)',
      )
      .requiredOption('--tenant <tenant>', 'tenant name'),
  ).action((pluginId: string, opts: TenantOptions) =>
    withServices(
      opts,
      async (services) => {
        const tenant = await tenantNamed(services, opts.tenant)
        const deleted = await deleteDestination(services, tenant, pluginId)
        await auditCli(services, tenant.id, 'deleteDestination', pluginId)
        return deleted
      },
      (r) => `Destination ${r.plugin_id} deleted.`,
    ),
  )
}

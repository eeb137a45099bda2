/** `optimalcloud destination create|list|get|update|enable|disable`: the Provisioning Manager from the command line. */
import type { Command } from 'commander'
import {
  createDestination,
  type DestinationView,
  getDestination,
  listDestinations,
  updateDestination,
} from '../directory/destinations.js'
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
type SettingOptions = { set: string[]; clientSecretStdin?: boolean }

/** Collects repeated `--set KEY=VALUE` flags. */
function collect(value: string, previous: string[]): string[] {
  return [...previous, value]
}

/**
 * `--set KEY=VALUE`... into an object; `--client-secret-stdin` reads the Paylocity client_secret from
 * standard input, so it stays out of shell history and process lists.
 */
async function readSettings(options: SettingOptions): Promise<Record<string, string>> {
  const settings: Record<string, string> = {}
  for (const pair of options.set) {
    const equals = pair.indexOf('=')
    if (equals <= 0)
      throw new AppError('bad_request', { message: `--set needs KEY=VALUE, got "${pair.split('=')[0]}"` })
    settings[pair.slice(0, equals).trim()] = pair.slice(equals + 1)
  }
  if (options.clientSecretStdin === true) {
    if (settings.client_secret !== undefined)
      throw new AppError('bad_request', {
        message: 'Give client_secret with --set or --client-secret-stdin, not both',
      })
    settings.client_secret = await readSecretFromStdin('client secret')
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
  ].join('\n')
}

function settingFlags(command: Command): Command {
  return (
    command
      .option(
        '--set <key=value>',
        'a setting (repeatable): login_id, client_id, client_secret, token_url, api_base_url',
        collect,
        [],
      )
      // Arguments show up in process lists and shell history; stdin does not.
      .option(
        '--client-secret-stdin',
        'read the Paylocity client_secret from standard input instead of --set',
      )
  )
}

export function registerDestinationCommands(program: Command): void {
  const destination = program
    .command('destination')
    .description('provisioning destinations: where HR systems (Generic HR, Paylocity) send users')
  common(
    settingFlags(
      destination
        .command('create')
        .description('create a destination and print its three HR webhook URLs')
        .requiredOption('--tenant <tenant>', 'tenant name')
        .requiredOption('--type <type>', 'generic-hr or paylocity')
        .requiredOption('--name <name>', 'a name for administrators'),
    ),
  ).action(async (opts: TenantOptions & SettingOptions & { type: string; name: string }) => {
    const settings = await readSettings(opts)
    await withServices(
      opts,
      async (services) =>
        createDestination(services, await tenantNamed(services, opts.tenant), {
          type: opts.type,
          name: opts.name,
          settings,
        }),
      show,
    )
  })
  common(
    destination
      .command('list')
      .description('list destinations (secrets are never shown)')
      .requiredOption('--tenant <tenant>', 'tenant name'),
  ).action((opts: TenantOptions) =>
    withServices(
      opts,
      async (services) => listDestinations(services, await tenantNamed(services, opts.tenant)),
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
      async (services) =>
        updateDestination(services, await tenantNamed(services, opts.tenant), pluginId, {
          ...(opts.name === undefined ? {} : { name: opts.name }),
          ...(Object.keys(settings).length === 0 ? {} : { settings }),
        }),
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
        async (services) =>
          updateDestination(services, await tenantNamed(services, opts.tenant), pluginId, { enabled }),
        show,
      ),
    )
  }
}

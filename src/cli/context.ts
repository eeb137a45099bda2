/** What every CLI command shares: the common flags, the database, output as JSON or text, errors. */
import type { Command } from 'commander'
import { type Config, loadConfig } from '../config.js'
import { AppError } from '../errors.js'
import { createServices, type Services } from '../services.js'
import { openDatabase, redactUrl } from '../storage/database.js'
import { migrateToLatest } from '../storage/migrate.js'
import { requireTenant, type Tenant } from '../tenancy/tenants.js'

export interface CommonOptions {
  databaseUrl?: string
  json?: boolean
}

/** Adds `--database-url` and `--json` to a command: every command takes them (docs/cli.md). */
export function common(command: Command): Command {
  return command
    .option(
      '--database-url <url>',
      'sqlite:PATH or postgres://… (default: $OPTIMALCLOUD_DATABASE_URL or sqlite:./data/optimalcloud.db)',
    )
    .option('--json', 'machine-readable output on stdout')
}

export function configFrom(options: CommonOptions, overrides: Partial<Config> = {}): Config {
  return loadConfig(process.env, {
    ...(options.databaseUrl === undefined ? {} : { databaseUrl: options.databaseUrl }),
    ...overrides,
  })
}

/**
 * Opens and migrates the database, runs `work`, prints what it returns, closes.
 *
 * @example await withServices(opts, (s) => listTenants(s.database), printTenants)
 */
export async function withServices<T>(
  options: CommonOptions,
  work: (services: Services) => Promise<T>,
  human: (value: T) => string,
): Promise<void> {
  const config = configFrom(options)
  let database: ReturnType<typeof openDatabase>
  try {
    database = openDatabase(config.databaseUrl, {
      sqliteSynchronous: config.sqliteSynchronous,
      pgSchema: config.pgSchema,
    })
    await migrateToLatest(database)
  } catch (error) {
    throw new AppError('bad_request', {
      message: `Cannot open the database ${redactUrl(config.databaseUrl)}: ${error instanceof Error ? error.message : String(error)}`,
    })
  }
  try {
    const value = await work(createServices(config, database))
    process.stdout.write(options.json === true ? `${JSON.stringify(value)}\n` : `${human(value)}\n`)
  } finally {
    await database.close()
  }
}

export async function tenantNamed(services: Services, name: string | undefined): Promise<Tenant> {
  if (name === undefined || name === '')
    throw new AppError('bad_request', { message: '--tenant is required' })
  return requireTenant(services.database, name)
}

/** Reads a secret from standard input (first line, without its newline): never from arguments. */
export async function readSecretFromStdin(what = 'password'): Promise<string> {
  const [line] = await readSecretLinesFromStdin([what])
  return line ?? ''
}

/**
 * One line of standard input for each secret named, in order (`--secret-stdin a --secret-stdin b`
 * reads two lines); an empty line is refused, as is input with fewer lines than asked.
 *
 * @example const [apiKey, webhookSecret] = await readSecretLinesFromStdin(['api_key', 'webhook_secret'])
 */
export async function readSecretLinesFromStdin(whats: readonly string[]): Promise<string[]> {
  const label = whats.join(', ')
  if (process.stdin.isTTY) process.stderr.write(`${label[0]?.toUpperCase() ?? ''}${label.slice(1)}: `)
  const chunks: Buffer[] = []
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer)
  const lines = Buffer.concat(chunks).toString('utf8').split(/\r?\n/)
  return whats.map((what, index) => {
    const line = lines[index] ?? ''
    if (line === '') throw new AppError('bad_request', { message: `No ${what} on standard input` })
    return line
  })
}

/** Plain text for one object: `key: value` lines. */
export function describe(value: object): string {
  return Object.entries(value)
    .filter(([, v]) => typeof v !== 'object' || v === null)
    .map(([k, v]) => `${k}: ${v ?? ''}`)
    .join('\n')
}

/** Plain text for a list: a header row and aligned columns. */
export function table<T extends object>(rows: T[], columns: Array<keyof T & string>): string {
  if (rows.length === 0) return '(none)'
  const cells = rows.map((row) => columns.map((c) => String(row[c] ?? '')))
  const widths = columns.map((c, i) => Math.max(c.length, ...cells.map((r) => r[i]?.length ?? 0)))
  const line = (values: string[]) =>
    values
      .map((v, i) => v.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd()
  return [line(columns), ...cells.map(line)].join('\n')
}

/** The Provisioning Manager: provisioning destinations (Generic HR, Paylocity), their settings and webhook URLs. */
import { type Config, publicOrigin } from '../config.js'
import { checkOutboundUrl, type OutboundPolicy } from '../connectors/http/outbound-policy.js'
import type { PaylocitySettings } from '../connectors/paylocity-client.js'
import { AppError } from '../errors.js'
import { randomToken } from '../ids.js'
import { secretBox } from '../secrets.js'
import type { Database, Db } from '../storage/database.js'
import type { DestinationTable } from '../storage/schema.js'
import type { Tenant } from '../tenancy/tenants.js'

export const DESTINATION_TYPES = ['generic-hr', 'paylocity'] as const
export type DestinationType = (typeof DESTINATION_TYPES)[number]

/** Which user field becomes the login ID of the users a destination makes. */
export type LoginIdSource = 'email' | 'employee_id'

/** The plugin_id is the destination's primary key: 32 base62 characters (about 190 bits), so it cannot be guessed. */
export const PLUGIN_ID_PATTERN = /^[A-Za-z0-9]{24,64}$/

const SECRET_KEYS = new Set(['client_secret'])
/** Settings that are addresses a connector calls: https URLs of public hosts (the outbound URL policy). */
const URL_KEYS = new Set(['token_url', 'api_base_url'])
const SETTING_KEYS: Record<DestinationType, readonly string[]> = {
  'generic-hr': ['login_id'],
  paylocity: ['login_id', 'client_id', 'client_secret', 'token_url', 'api_base_url'],
}
const MASK = '********'
const MAX_NAME = 200
const MAX_SETTING = 2000

export interface DestinationUrls {
  adduser: string
  modifyuser: string
  deleteuser: string
}

/** A destination as the CLI, the management API and the console show it: secrets never appear. */
export interface DestinationView {
  plugin_id: string
  type: DestinationType
  name: string
  enabled: boolean
  /** `client_secret`, when set, reads `********`. */
  settings: Record<string, string>
  has_client_secret: boolean
  urls: DestinationUrls
  created_at: string
  updated_at: string
}

/** What a webhook call needs of its destination; the client secret stays sealed until it is used. */
export interface ResolvedDestination {
  id: string
  tenantId: string
  type: DestinationType
  loginId: LoginIdSource
  paylocity: { clientId: string; sealedSecret: string; tokenUrl?: string; apiBaseUrl?: string } | null
}

export interface NewDestination {
  type: string
  name: string
  /** Plain values; `client_secret` is sealed before it is stored. */
  settings?: Record<string, unknown>
}

export interface DestinationChange {
  name?: string
  /** Merged into the current settings; `null` or `''` removes a key. */
  settings?: Record<string, unknown>
  enabled?: boolean
}

type DestinationServices = {
  config: Config
  database: Database
  destinations: DestinationDirectory
  outbound: OutboundPolicy
}

/**
 * The three HR webhook URLs, at the tenant's public origin (see publicOrigin).
 *
 * @example destinationUrls(config, 'acme', pluginId).adduser
 * // 'https://acme.theoptimalcloud.com/v5.0/mgmt/api/v1.0/webhooks/provisioning/<plugin_id>/adduser'
 */
export function destinationUrls(config: Config, tenantName: string, pluginId: string): DestinationUrls {
  const base = `${publicOrigin(config, tenantName)}/v5.0/mgmt/api/v1.0/webhooks/provisioning/${pluginId}`
  return { adduser: `${base}/adduser`, modifyuser: `${base}/modifyuser`, deleteuser: `${base}/deleteuser` }
}

/**
 * Creates a destination with a new unguessable plugin_id; 400 for an unknown type, a missing name,
 * or a setting that is unknown for the type or has a bad value.
 *
 * @example await createDestination(services, tenant, { type: 'paylocity', name: 'Payroll', settings: { client_id, client_secret } })
 */
export async function createDestination(
  services: DestinationServices,
  tenant: Tenant,
  input: NewDestination,
): Promise<DestinationView> {
  const type = readType(input.type)
  const name = readName(input.name)
  const settings = mergeSettings(services.config, type, {}, input.settings ?? {}, false)
  await checkUrlSettings(services.outbound, input.settings ?? {})
  const now = new Date().toISOString()
  const row: DestinationTable = {
    id: randomToken(32),
    tenant_id: tenant.id,
    type,
    name,
    settings: JSON.stringify(settings),
    enabled: 1,
    created_at: now,
    updated_at: now,
  }
  await services.database.transaction((trx) => trx.insertInto('destinations').values(row).execute())
  return toView(services.config, tenant, row)
}

export async function listDestinations(
  services: DestinationServices,
  tenant: Tenant,
): Promise<DestinationView[]> {
  const rows = await services.database.db
    .selectFrom('destinations')
    .selectAll()
    .where('tenant_id', '=', tenant.id)
    .orderBy('created_at')
    .orderBy('id')
    .execute()
  return rows.map((row) => toView(services.config, tenant, row))
}

/** One destination of the tenant (enabled or not); 404 `Provisioning destination not found`. */
export async function getDestination(
  services: DestinationServices,
  tenant: Tenant,
  pluginId: string,
): Promise<DestinationView> {
  return toView(services.config, tenant, await requireRow(services.database.db, tenant.id, pluginId))
}

/**
 * Renames, re-configures, enables or disables a destination. A disabled destination answers 404 on
 * its URLs (in this process at once, in others within the cache time) and keeps its users.
 *
 * @example await updateDestination(services, tenant, pluginId, { enabled: false })
 */
export async function updateDestination(
  services: DestinationServices,
  tenant: Tenant,
  pluginId: string,
  change: DestinationChange,
): Promise<DestinationView> {
  const name = change.name === undefined ? undefined : readName(change.name)
  // Before the transaction: the check waits on DNS.
  await checkUrlSettings(services.outbound, change.settings ?? {})
  const view = await services.database.transaction(async (trx) => {
    const row = await requireRow(trx, tenant.id, pluginId)
    const type = readType(row.type)
    const settings =
      change.settings === undefined
        ? row.settings
        : JSON.stringify(
            mergeSettings(services.config, type, parseStored(row.settings), change.settings, true),
          )
    const next: DestinationTable = {
      ...row,
      name: name ?? row.name,
      settings,
      enabled: change.enabled === undefined ? row.enabled : change.enabled ? 1 : 0,
      updated_at: new Date().toISOString(),
    }
    await trx
      .updateTable('destinations')
      .set({ name: next.name, settings: next.settings, enabled: next.enabled, updated_at: next.updated_at })
      .where('tenant_id', '=', tenant.id)
      .where('id', '=', pluginId)
      .execute()
    return toView(services.config, tenant, next)
  })
  services.destinations.forget(tenant.id, pluginId)
  return view
}

/** The Paylocity API settings with the client secret unsealed, or null when the destination has none. */
export function paylocityApiSettings(
  config: Config,
  destination: ResolvedDestination,
): PaylocitySettings | null {
  const api = destination.paylocity
  if (api === null) return null
  let clientSecret: string
  try {
    clientSecret = secretBox(config.secretKey()).decrypt(api.sealedSecret)
  } catch {
    throw new AppError('paylocity_fetch_failed', {
      reason:
        'the stored client_secret cannot be decrypted (was OPTIMALCLOUD_SECRET_KEY changed?); set it again',
    })
  }
  return {
    clientId: api.clientId,
    clientSecret,
    ...(api.tokenUrl === undefined ? {} : { tokenUrl: api.tokenUrl }),
    ...(api.apiBaseUrl === undefined ? {} : { apiBaseUrl: api.apiBaseUrl }),
  }
}

/**
 * Finds the enabled destination behind a webhook URL, with a cache of a second or two: every HR
 * webhook call needs it and destinations change rarely. Unknown and disabled ones are not cached,
 * so a destination made by the CLI works at once; a disabled one stops within the cache time in
 * other processes and at once in this one (changes made here call forget()).
 */
export class DestinationDirectory {
  private readonly cache = new Map<string, { destination: ResolvedDestination; at: number }>()

  constructor(
    private readonly database: Database,
    private readonly ttlMs = 2000,
  ) {}

  async findEnabled(tenantId: string, pluginId: string): Promise<ResolvedDestination | null> {
    if (!PLUGIN_ID_PATTERN.test(pluginId)) return null
    const key = `${tenantId}\0${pluginId}`
    const now = Date.now()
    const hit = this.cache.get(key)
    if (hit !== undefined && now - hit.at < this.ttlMs) return hit.destination
    const row = await this.database.db
      .selectFrom('destinations')
      .selectAll()
      .where('tenant_id', '=', tenantId)
      .where('id', '=', pluginId)
      .executeTakeFirst()
    if (row === undefined || row.enabled !== 1) {
      this.cache.delete(key)
      return null
    }
    const destination = resolve(row)
    if (this.cache.size > 10_000) this.cache.clear()
    this.cache.set(key, { destination, at: now })
    return destination
  }

  /** Drops what this process cached (after a change made through it). */
  forget(tenantId?: string, pluginId?: string): void {
    if (tenantId === undefined || pluginId === undefined) this.cache.clear()
    else this.cache.delete(`${tenantId}\0${pluginId}`)
  }
}

function resolve(row: DestinationTable): ResolvedDestination {
  const settings = parseStored(row.settings)
  const clientId = settings.client_id
  const sealedSecret = settings.client_secret
  return {
    id: row.id,
    tenantId: row.tenant_id,
    type: readType(row.type),
    loginId: settings.login_id === 'employee_id' ? 'employee_id' : 'email',
    paylocity:
      row.type === 'paylocity' && clientId !== undefined && sealedSecret !== undefined
        ? {
            clientId,
            sealedSecret,
            ...(settings.token_url === undefined ? {} : { tokenUrl: settings.token_url }),
            ...(settings.api_base_url === undefined ? {} : { apiBaseUrl: settings.api_base_url }),
          }
        : null,
  }
}

async function requireRow(db: Db, tenantId: string, pluginId: string): Promise<DestinationTable> {
  const row = PLUGIN_ID_PATTERN.test(pluginId)
    ? await db
        .selectFrom('destinations')
        .selectAll()
        .where('tenant_id', '=', tenantId)
        .where('id', '=', pluginId)
        .executeTakeFirst()
    : undefined
  if (row === undefined) throw new AppError('destination_not_found')
  return row
}

function toView(config: Config, tenant: Tenant, row: DestinationTable): DestinationView {
  const stored = parseStored(row.settings)
  const settings: Record<string, string> = { login_id: stored.login_id ?? 'email' }
  for (const [key, value] of Object.entries(stored)) {
    if (key !== 'login_id') settings[key] = SECRET_KEYS.has(key) ? MASK : value
  }
  return {
    plugin_id: row.id,
    type: readType(row.type),
    name: row.name,
    enabled: row.enabled === 1,
    settings,
    has_client_secret: stored.client_secret !== undefined,
    urls: destinationUrls(config, tenant.name, row.id),
    created_at: row.created_at,
    updated_at: row.updated_at,
  }
}

function parseStored(text: string): Record<string, string> {
  const parsed: unknown = JSON.parse(text)
  const out: Record<string, string> = {}
  if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) {
    for (const [key, value] of Object.entries(parsed)) if (typeof value === 'string') out[key] = value
  }
  return out
}

function readType(value: unknown): DestinationType {
  if (typeof value === 'string' && (DESTINATION_TYPES as readonly string[]).includes(value))
    return value as DestinationType
  throw new AppError('bad_request', { message: `type must be one of: ${DESTINATION_TYPES.join(', ')}` })
}

function readName(value: unknown): string {
  const name = typeof value === 'string' ? value.trim() : ''
  if (name === '' || name.length > MAX_NAME)
    throw new AppError('bad_request', { message: `name is required (1 to ${MAX_NAME} characters)` })
  return name
}

/**
 * Checks `changes` against what `type` knows and returns the settings to store (secrets sealed).
 * When `removable`, a null or empty value removes the key (updates); on creation it is an error.
 */
function mergeSettings(
  config: Config,
  type: DestinationType,
  current: Record<string, string>,
  changes: Record<string, unknown>,
  removable: boolean,
): Record<string, string> {
  const known = SETTING_KEYS[type]
  const next = { ...current }
  for (const [key, raw] of Object.entries(changes)) {
    if (!known.includes(key)) {
      throw new AppError('bad_request', {
        message: `Unknown setting "${key}" for a ${type} destination (known: ${known.join(', ')})`,
      })
    }
    if (raw === null || (typeof raw === 'string' && raw.trim() === '')) {
      if (!removable) throw new AppError('bad_request', { message: `Setting ${key} must not be empty` })
      delete next[key]
      continue
    }
    if (typeof raw !== 'string')
      throw new AppError('bad_request', { message: `Setting ${key} must be a string` })
    // Secrets are kept exactly as given (Paylocity secrets may end in '='); other values are trimmed.
    const value = SECRET_KEYS.has(key) ? raw : raw.trim()
    if (value.length > MAX_SETTING)
      throw new AppError('bad_request', {
        message: `Setting ${key} is longer than ${MAX_SETTING} characters`,
      })
    next[key] = checkValue(config, key, value)
  }
  if ((next.client_id === undefined) !== (next.client_secret === undefined)) {
    throw new AppError('bad_request', { message: 'client_id and client_secret must be set together' })
  }
  return next
}

function checkValue(config: Config, key: string, value: string): string {
  switch (key) {
    case 'login_id':
      if (value !== 'email' && value !== 'employee_id')
        throw new AppError('bad_request', { message: 'Setting login_id must be email or employee_id' })
      return value
    case 'client_secret':
      return secretBox(config.secretKey()).encrypt(value)
    default:
      return value
  }
}

/** The URL settings being set must be https URLs of public hosts (400 naming the setting otherwise). */
async function checkUrlSettings(policy: OutboundPolicy, changes: Record<string, unknown>): Promise<void> {
  for (const [key, value] of Object.entries(changes)) {
    if (URL_KEYS.has(key) && typeof value === 'string' && value.trim() !== '') {
      await checkOutboundUrl(policy, `Setting ${key}`, value)
    }
  }
}

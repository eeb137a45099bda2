/** The Provisioning Manager: provisioning destinations of every HR vendor, their settings and webhook URLs. */
import { type Config, publicOrigin } from '../config.js'
import { checkOutboundUrl, type OutboundPolicy } from '../connectors/http/outbound-policy.js'
import { AppError } from '../errors.js'
import {
  DEFAULT_TERMINATION_LIMIT,
  type DestinationType,
  HR_VENDORS,
  type HrVendor,
  hrVendor,
  type LoginIdSource,
  type SettingSpec,
  settingsOf,
} from '../hr-vendors/index.js'
import { randomToken } from '../ids.js'
import { keysetPage, MAX_LIMIT, type Page, type PageRequest } from '../lists/paging.js'
import { secretBox } from '../secrets.js'
import type { Database, Db } from '../storage/database.js'
import type { DestinationTable } from '../storage/schema.js'
import type { Tenant } from '../tenancy/tenants.js'

export { DESTINATION_TYPES, type DestinationType, type LoginIdSource } from '../hr-vendors/index.js'

/** The plugin_id is the destination's primary key: 32 base62 characters (about 190 bits), so it cannot be guessed. */
export const PLUGIN_ID_PATTERN = /^[A-Za-z0-9]{24,64}$/

const MASK = '********'
const MAX_NAME = 200
const MAX_SETTING = 2000

export interface DestinationUrls {
  adduser: string
  modifyuser: string
  deleteuser: string
  /** Only for vendors that post every event to one URL (BambooHR). */
  events?: string
}

/** A destination as the CLI, the management API and the console show it: secrets never appear. */
export interface DestinationView {
  plugin_id: string
  type: DestinationType
  name: string
  enabled: boolean
  /** Every setting that is set; secret ones (`client_secret`, ...) read `********`. */
  settings: Record<string, string>
  has_client_secret: boolean
  urls: DestinationUrls
  created_at: string
  updated_at: string
}

/** What a webhook call needs of its destination; secret settings stay sealed until they are used. */
export interface ResolvedDestination {
  id: string
  tenantId: string
  type: DestinationType
  vendor: HrVendor
  loginId: LoginIdSource
  /** Terminations per rolling hour before further ones are held; 0: no safeguard. */
  terminationLimit: number
  /** `mode=dry-run`: calls are answered as they would be and change nothing. */
  dryRun: boolean
  /** The stored settings; secret values are sealed (`enc:v1:…`), see unsealSetting. */
  settings: Readonly<Record<string, string>>
}

export interface NewDestination {
  type: string
  name: string
  /** Plain values; secret settings are sealed before they are stored. */
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
 * The HR webhook URLs of a destination of `vendor`, at the tenant's public origin (see publicOrigin).
 *
 * @example destinationUrls(config, 'acme', pluginId, HR_VENDORS.paylocity).adduser
 * // 'https://acme.theoptimalcloud.com/v5.0/mgmt/api/v1.0/webhooks/provisioning/<plugin_id>/adduser'
 */
export function destinationUrls(
  config: Config,
  tenantName: string,
  pluginId: string,
  vendor: HrVendor = HR_VENDORS['generic-hr'],
): DestinationUrls {
  const base = `${publicOrigin(config, tenantName)}/v5.0/mgmt/api/v1.0/webhooks/provisioning/${pluginId}`
  return {
    adduser: `${base}/adduser`,
    modifyuser: `${base}/modifyuser`,
    deleteuser: `${base}/deleteuser`,
    ...(vendor.endpoints.includes('events') ? { events: `${base}/events` } : {}),
  }
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
  const vendor = hrVendor(input.type)
  const name = readName(input.name)
  const settings = mergeSettings(services.config, vendor, {}, input.settings ?? {}, false)
  await checkUrlSettings(services.outbound, vendor, input.settings ?? {})
  const now = new Date().toISOString()
  const row: DestinationTable = {
    id: randomToken(32),
    tenant_id: tenant.id,
    type: vendor.type,
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
  return (await pageDestinations(services, tenant, { limit: MAX_LIMIT, cursor: null })).items
}

/**
 * One page of a tenant's destinations, oldest first. Plugin ids are random (they are secrets of a
 * kind), so the page key is the creation time and the id together: `created_at|id`.
 */
export async function pageDestinations(
  services: DestinationServices,
  tenant: Tenant,
  request: PageRequest,
): Promise<Page<DestinationView>> {
  const page = await keysetPage(
    request,
    'asc',
    (row: DestinationTable) => `${row.created_at}|${row.id}`,
    (bound, order, limit) => {
      let query = services.database.db
        .selectFrom('destinations')
        .selectAll()
        .where('tenant_id', '=', tenant.id)
      if (bound !== null) {
        const [createdAt = '', id = ''] = bound.key.split('|', 2)
        query = query.where((eb) =>
          eb.or([
            eb('created_at', bound.op, createdAt),
            eb.and([eb('created_at', '=', createdAt), eb('id', bound.op, id)]),
          ]),
        )
      }
      return query.orderBy('created_at', order).orderBy('id', order).limit(limit).execute()
    },
  )
  return { ...page, items: page.items.map((row) => toView(services.config, tenant, row)) }
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
  if (change.settings !== undefined) {
    // Before the transaction: the check waits on DNS. A destination's type never changes.
    const current = await requireRow(services.database.db, tenant.id, pluginId)
    await checkUrlSettings(services.outbound, hrVendor(current.type), change.settings)
  }
  const view = await services.database.transaction(async (trx) => {
    const row = await requireRow(trx, tenant.id, pluginId)
    const vendor = hrVendor(row.type)
    const settings =
      change.settings === undefined
        ? row.settings
        : JSON.stringify(
            mergeSettings(services.config, vendor, parseStored(row.settings), change.settings, true),
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

/**
 * A secret setting of a destination unsealed, or null when it is not set. Throws when the stored value
 * cannot be unsealed (OPTIMALCLOUD_SECRET_KEY changed): the vendor turns that into its own failure.
 *
 * @example unsealSetting(config, destination, 'client_secret')
 */
export function unsealSetting(config: Config, destination: ResolvedDestination, key: string): string | null {
  const sealed = destination.settings[key]
  if (sealed === undefined) return null
  return secretBox(config.secretKey()).decrypt(sealed)
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
  const vendor = hrVendor(row.type)
  const settings = parseStored(row.settings)
  return {
    id: row.id,
    tenantId: row.tenant_id,
    type: vendor.type as DestinationType,
    vendor,
    loginId: settings.login_id === 'employee_id' ? 'employee_id' : 'email',
    terminationLimit:
      settings.termination_limit === undefined
        ? DEFAULT_TERMINATION_LIMIT
        : Number(settings.termination_limit),
    dryRun: settings.mode === 'dry-run',
    settings,
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
  const vendor = hrVendor(row.type)
  const stored = parseStored(row.settings)
  const secret = new Set(
    settingsOf(vendor)
      .filter((spec) => spec.secret === true)
      .map((spec) => spec.key),
  )
  const settings: Record<string, string> = { login_id: stored.login_id ?? 'email' }
  for (const [key, value] of Object.entries(stored)) {
    if (key !== 'login_id') settings[key] = secret.has(key) ? MASK : value
  }
  return {
    plugin_id: row.id,
    type: vendor.type as DestinationType,
    name: row.name,
    enabled: row.enabled === 1,
    settings,
    has_client_secret: stored.client_secret !== undefined,
    urls: destinationUrls(config, tenant.name, row.id, vendor),
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

function readName(value: unknown): string {
  const name = typeof value === 'string' ? value.trim() : ''
  if (name === '' || name.length > MAX_NAME)
    throw new AppError('bad_request', { message: `name is required (1 to ${MAX_NAME} characters)` })
  return name
}

/**
 * Checks `changes` against the settings `vendor` declares and returns the settings to store (secrets
 * sealed). When `removable`, a null or empty value removes the key (updates); on creation it is an error.
 */
function mergeSettings(
  config: Config,
  vendor: HrVendor,
  current: Record<string, string>,
  changes: Record<string, unknown>,
  removable: boolean,
): Record<string, string> {
  const specs = settingsOf(vendor)
  const next = { ...current }
  for (const [key, raw] of Object.entries(changes)) {
    const spec = specs.find((candidate) => candidate.key === key)
    if (spec === undefined) {
      throw new AppError('bad_request', {
        message: `Unknown setting "${key}" for a ${vendor.type} destination (known: ${specs.map((s) => s.key).join(', ')})`,
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
    const value = spec.secret === true ? raw : raw.trim()
    if (value.length > MAX_SETTING)
      throw new AppError('bad_request', {
        message: `Setting ${key} is longer than ${MAX_SETTING} characters`,
      })
    next[key] = checkValue(config, spec, value)
  }
  for (const group of vendor.together ?? []) {
    const set = group.filter((key) => next[key] !== undefined)
    if (set.length > 0 && set.length < group.length) {
      throw new AppError('bad_request', { message: `${joinAnd(group)} must be set together` })
    }
  }
  return next
}

function joinAnd(keys: readonly string[]): string {
  return keys.length <= 1 ? (keys[0] ?? '') : `${keys.slice(0, -1).join(', ')} and ${keys.at(-1)}`
}

function checkValue(config: Config, spec: SettingSpec, value: string): string {
  if (spec.choices !== undefined && !spec.choices.includes(value))
    throw new AppError('bad_request', {
      message: `Setting ${spec.key} must be ${spec.choices.join(' or ')}`,
    })
  if (spec.integer !== undefined) {
    const { min, max } = spec.integer
    if (!/^\d{1,9}$/.test(value) || Number(value) < min || Number(value) > max)
      throw new AppError('bad_request', {
        message: `Setting ${spec.key} must be a whole number from ${min} to ${max}`,
      })
    return String(Number(value))
  }
  if (spec.secret === true) return secretBox(config.secretKey()).encrypt(value)
  return value
}

/**
 * The URL settings being set must be https URLs of public hosts (the outbound URL policy; 400 naming
 * the setting otherwise), checked outside any transaction since it waits on DNS.
 */
async function checkUrlSettings(
  policy: OutboundPolicy,
  vendor: HrVendor,
  changes: Record<string, unknown>,
): Promise<void> {
  for (const spec of settingsOf(vendor)) {
    const value = changes[spec.key]
    if (spec.url === true && typeof value === 'string' && value.trim() !== '') {
      await checkOutboundUrl(policy, `Setting ${spec.key}`, value)
    }
  }
}

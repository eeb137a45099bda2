/** Tenants: creation, listing, and the short-lived lookup by name that every request makes. */
import { AppError } from '../errors.js'
import { newId } from '../ids.js'
import { keysetPage, type Page, type PageRequest } from '../lists/paging.js'
import { type Database, isUniqueViolation } from '../storage/database.js'
import type { TenantTable } from '../storage/schema.js'

/** A tenant name is a DNS label. */
export const TENANT_NAME_PATTERN = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/

export interface Tenant {
  id: string
  name: string
  supportBackend: string
  /** JSON with secrets sealed; read through src/support/support-settings.ts. */
  supportSettings: string
  createdAt: string
}

function toTenant(
  row: Pick<TenantTable, 'id' | 'name' | 'support_backend' | 'support_settings' | 'created_at'>,
): Tenant {
  return {
    id: row.id,
    name: row.name,
    supportBackend: row.support_backend,
    supportSettings: row.support_settings,
    createdAt: row.created_at,
  }
}

/**
 * Finds tenants by name with a cache of a second or two: every request needs its tenant, and a
 * tenant changes rarely. Unknown names are cached for the same time (in a map of their own, so made-up
 * names cannot push real tenants out): a name costs the same whether its tenant exists or not, and
 * nobody learns which tenants exist from timing. A tenant made by the CLI answers within that time.
 */
export class TenantDirectory {
  private readonly cache = new Map<string, { tenant: Tenant; at: number }>()
  private readonly unknown = new Map<string, number>()

  constructor(
    private readonly database: Database,
    private readonly ttlMs = 2000,
  ) {}

  async findByName(name: string): Promise<Tenant | null> {
    const now = Date.now()
    const hit = this.cache.get(name)
    if (hit !== undefined && now - hit.at < this.ttlMs) return hit.tenant
    const missed = this.unknown.get(name)
    if (missed !== undefined && now - missed < this.ttlMs) return null
    const row = await this.database.db
      .selectFrom('tenants')
      .select(['id', 'name', 'support_backend', 'support_settings', 'created_at'])
      .where('name', '=', name)
      .executeTakeFirst()
    if (row === undefined) {
      this.cache.delete(name)
      if (this.unknown.size >= 10_000) this.unknown.clear()
      this.unknown.set(name, now)
      return null
    }
    this.unknown.delete(name)
    const tenant = toTenant(row)
    if (this.cache.size > 10_000) this.cache.clear()
    this.cache.set(name, { tenant, at: now })
    return tenant
  }

  /** Drops what this process cached (after a change made through it). */
  forget(name?: string): void {
    if (name === undefined) {
      this.cache.clear()
      this.unknown.clear()
    } else {
      this.cache.delete(name)
      this.unknown.delete(name)
    }
  }
}

/**
 * Creates a tenant; 409 when the name is taken, 400 when it is not a DNS label.
 *
 * @example await createTenant(database, 'acme')
 */
export async function createTenant(database: Database, name: string): Promise<Tenant> {
  if (!TENANT_NAME_PATTERN.test(name)) {
    throw new AppError('bad_request', {
      message: 'Tenant name must be a DNS label: lowercase letters, digits and inner hyphens, at most 63',
    })
  }
  const row: TenantTable = {
    id: newId('ten'),
    name,
    support_backend: 'builtin',
    support_settings: '{}',
    next_ticket_number: 1,
    created_at: new Date().toISOString(),
  }
  try {
    await database.transaction((trx) => trx.insertInto('tenants').values(row).execute())
  } catch (error) {
    if (isUniqueViolation(error)) throw new AppError('conflict', { message: `Tenant ${name} already exists` })
    throw error
  }
  return toTenant(row)
}

export async function listTenants(database: Database): Promise<Tenant[]> {
  const rows = await database.db.selectFrom('tenants').selectAll().orderBy('name').execute()
  return rows.map(toTenant)
}

/** One page of the tenants, by name (names are unique). */
export async function pageTenants(database: Database, request: PageRequest): Promise<Page<Tenant>> {
  const page = await keysetPage(
    request,
    'asc',
    (row: TenantTable) => row.name,
    (bound, order, limit) => {
      let query = database.db.selectFrom('tenants').selectAll()
      if (bound !== null) query = query.where('name', bound.op, bound.key)
      return query.orderBy('name', order).limit(limit).execute()
    },
  )
  return { ...page, items: page.items.map(toTenant) }
}

/** The tenant by name, or a 404 naming it (for the CLI and management tools, not for webhooks). */
export async function requireTenant(database: Database, name: string): Promise<Tenant> {
  const row = await database.db.selectFrom('tenants').selectAll().where('name', '=', name).executeTakeFirst()
  if (row === undefined) throw new AppError('not_found', { message: `Tenant ${name} not found` })
  return toTenant(row)
}

/**
 * Names for ids, for people reading a list: API keys by their name, users by their email, destinations
 * by their name. One query per kind for a whole page, each bound to the tenant (another tenant's key,
 * user or destination is never named). The audit log, user history and delivery log all name through it.
 */
import type { Db } from '../storage/database.js'

export interface IdsToName {
  apiKeys?: Iterable<string>
  users?: Iterable<string>
  destinations?: Iterable<string>
}

export interface Names {
  apiKeys: Map<string, string>
  /** A user's email. */
  users: Map<string, string>
  destinations: Map<string, string>
}

/**
 * @example (await namesById(db, tenantId, { apiKeys: ['key_1'] })).apiKeys.get('key_1') // 'servicenow'
 */
export async function namesById(db: Db, tenantId: string, ids: IdsToName): Promise<Names> {
  const lookup = async (
    table: 'api_keys' | 'users' | 'destinations',
    column: 'name' | 'email',
    wanted: Iterable<string> | undefined,
  ) => {
    const unique = [...new Set(wanted ?? [])]
    if (unique.length === 0) return new Map<string, string>()
    const rows = await db
      .selectFrom(table)
      .select(['id', `${column} as name`])
      .where('tenant_id', '=', tenantId)
      .where('id', 'in', unique)
      .execute()
    return new Map(rows.map((row) => [row.id, row.name as string]))
  }
  const [apiKeys, users, destinations] = await Promise.all([
    lookup('api_keys', 'name', ids.apiKeys),
    lookup('users', 'email', ids.users),
    lookup('destinations', 'name', ids.destinations),
  ])
  return { apiKeys, users, destinations }
}

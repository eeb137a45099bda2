/**
 * Actors by name for people: `api_key:key_0mx4…` reads as the key's name, `console_admin:usr_…` as the
 * administrator's email, `destination:<plugin_id>` as the destination's name. One query per kind for a
 * whole page, each bound to the tenant (another tenant's key or user is never named).
 */
import type { Db } from '../storage/database.js'

/** `kind:id` split at the first colon; `cli`, `system` and `anonymous` have no id. */
function splitActor(actor: string): [string, string | null] {
  const colon = actor.indexOf(':')
  return colon < 0 ? [actor, null] : [actor.slice(0, colon), actor.slice(colon + 1)]
}

/**
 * The name of each actor of `actors` that can be named (absent from the map otherwise).
 *
 * @example (await actorNames(db, tenantId, ['api_key:key_1'])).get('api_key:key_1') // 'servicenow'
 */
export async function actorNames(
  db: Db,
  tenantId: string,
  actors: Iterable<string>,
): Promise<Map<string, string>> {
  const ids: Record<'api_key' | 'user' | 'destination', Set<string>> = {
    api_key: new Set(),
    user: new Set(),
    destination: new Set(),
  }
  for (const actor of actors) {
    const [kind, id] = splitActor(actor)
    if (id === null) continue
    if (kind === 'api_key') ids.api_key.add(id)
    else if (kind === 'console_admin') ids.user.add(id)
    else if (kind === 'destination') ids.destination.add(id)
  }
  const [keys, users, destinations] = await Promise.all([
    ids.api_key.size === 0
      ? []
      : db
          .selectFrom('api_keys')
          .select(['id', 'name'])
          .where('tenant_id', '=', tenantId)
          .where('id', 'in', [...ids.api_key])
          .execute(),
    ids.user.size === 0
      ? []
      : db
          .selectFrom('users')
          .select(['id', 'email as name'])
          .where('tenant_id', '=', tenantId)
          .where('id', 'in', [...ids.user])
          .execute(),
    ids.destination.size === 0
      ? []
      : db
          .selectFrom('destinations')
          .select(['id', 'name'])
          .where('tenant_id', '=', tenantId)
          .where('id', 'in', [...ids.destination])
          .execute(),
  ])
  const names = new Map<string, string>()
  for (const row of keys) names.set(`api_key:${row.id}`, row.name)
  for (const row of users) names.set(`console_admin:${row.id}`, row.name)
  for (const row of destinations) names.set(`destination:${row.id}`, row.name)
  return names
}

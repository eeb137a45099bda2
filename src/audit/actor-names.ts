/**
 * Actors by name for people: `api_key:key_0mx4…` reads as the key's name, `console_admin:usr_…` as the
 * administrator's email, `destination:<plugin_id>` as the destination's name. One query per kind for a
 * whole page, each bound to the tenant (another tenant's key or user is never named).
 */
import { namesById } from '../directory/names.js'
import type { Page } from '../lists/paging.js'
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
  const ids = { apiKeys: [] as string[], users: [] as string[], destinations: [] as string[] }
  for (const actor of actors) {
    const [kind, id] = splitActor(actor)
    if (id === null) continue
    if (kind === 'api_key') ids.apiKeys.push(id)
    else if (kind === 'console_admin') ids.users.push(id)
    else if (kind === 'destination') ids.destinations.push(id)
  }
  const found = await namesById(db, tenantId, ids)
  const names = new Map<string, string>()
  for (const [id, name] of found.apiKeys) names.set(`api_key:${id}`, name)
  for (const [id, name] of found.users) names.set(`console_admin:${id}`, name)
  for (const [id, name] of found.destinations) names.set(`destination:${id}`, name)
  return names
}

/**
 * A page of entries with `actor_name` filled in from their `actor` (the audit log, a user's history).
 *
 * @example return withActorNames(db, tenantId, await keysetPage(...))
 */
export async function withActorNames<T extends { actor: string; actor_name: string | null }>(
  db: Db,
  tenantId: string,
  page: Page<T>,
): Promise<Page<T>> {
  const names = await actorNames(
    db,
    tenantId,
    page.items.map((entry) => entry.actor),
  )
  return {
    ...page,
    items: page.items.map((entry) => ({ ...entry, actor_name: names.get(entry.actor) ?? null })),
  }
}

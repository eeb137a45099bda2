/**
 * The delivery log as people read it: who called by name (the API key's name or the service
 * account's email, not `api_key:key_0mx4…`), the HR destination's name and the affected user's email,
 * and replays linked both ways, so a failed delivery that a replay fixed reads "replayed".
 */
import { namesById } from '../directory/names.js'
import type { Db } from '../storage/database.js'
import type { Delivery } from './deliveries.js'

export type DeliveryOutcome = 'succeeded' | 'failed' | 'replayed'

export interface DeliveryView extends Delivery {
  /**
   * The caller by name: the API key's name, the service account's or console administrator's email,
   * or the destination's name for a signed HR call (null when unknown).
   */
  caller: string | null
  /** The provisioning destination's name (HR webhooks). */
  destination_name: string | null
  /** The affected user's email (HR webhooks). */
  user_email: string | null
  /** The replay of this delivery: the one that succeeded, else the latest. */
  replayed_by: string | null
  /** succeeded (2xx), failed, or replayed (failed, and a replay of it succeeded). */
  outcome: DeliveryOutcome
}

/**
 * Adds names and replay links to a page of deliveries: one query per kind of name, whatever the
 * page's size, each bound to the tenant (another tenant's key or user is never named).
 *
 * @example const views = await viewDeliveries(db, tenantId, page.items)
 */
export async function viewDeliveries(
  db: Db,
  tenantId: string,
  deliveries: Delivery[],
): Promise<DeliveryView[]> {
  if (deliveries.length === 0) return []
  const keyIds = new Set<string>()
  const userIds = new Set<string>()
  const destinationIds = new Set<string>()
  for (const delivery of deliveries) {
    const [kind, id] = splitPrincipal(delivery.principal)
    if (kind === 'api_key' && id !== null) keyIds.add(id)
    if ((kind === 'service_account' || kind === 'console_admin') && id !== null) userIds.add(id)
    if (kind === 'signature' && id !== null) destinationIds.add(id)
    if (delivery.user_id !== null) userIds.add(delivery.user_id)
    if (delivery.destination_id !== null) destinationIds.add(delivery.destination_id)
  }
  const [names, replays] = await Promise.all([
    namesById(db, tenantId, { apiKeys: keyIds, users: userIds, destinations: destinationIds }),
    db
      .selectFrom('deliveries')
      .select(['id', 'replay_of', 'status_code'])
      .where('tenant_id', '=', tenantId)
      .where(
        'replay_of',
        'in',
        deliveries.map((delivery) => delivery.id),
      )
      .orderBy('id')
      .execute(),
  ])
  const { apiKeys: keyNames, users: emails, destinations: destinationNames } = names
  // Per original: the replay that succeeded (the first one), else the latest attempt.
  const replayOf = new Map<string, { id: string; succeeded: boolean }>()
  for (const replay of replays) {
    if (replay.replay_of === null) continue
    const succeeded = isSuccess(replay.status_code)
    const known = replayOf.get(replay.replay_of)
    if (known === undefined || !known.succeeded) replayOf.set(replay.replay_of, { id: replay.id, succeeded })
  }
  return deliveries.map((delivery) => {
    const [kind, id] = splitPrincipal(delivery.principal)
    const replay = replayOf.get(delivery.id)
    const names = kind === 'api_key' ? keyNames : kind === 'signature' ? destinationNames : emails
    const caller = id === null ? null : (names.get(id) ?? null)
    return {
      ...delivery,
      caller,
      destination_name:
        delivery.destination_id === null ? null : (destinationNames.get(delivery.destination_id) ?? null),
      user_email: delivery.user_id === null ? null : (emails.get(delivery.user_id) ?? null),
      replayed_by: replay?.id ?? null,
      outcome: isSuccess(delivery.status) ? 'succeeded' : replay?.succeeded === true ? 'replayed' : 'failed',
    }
  })
}

/** One delivery with its names and replay links. */
export async function viewDelivery(db: Db, tenantId: string, delivery: Delivery): Promise<DeliveryView> {
  const [view] = await viewDeliveries(db, tenantId, [delivery])
  if (view === undefined) throw new Error('viewDeliveries answered nothing for one delivery')
  return view
}

function isSuccess(status: number): boolean {
  return status >= 200 && status < 300
}

const PRINCIPAL_KINDS = new Set(['api_key', 'service_account', 'console_admin', 'signature'])

/** `api_key:key_…` → ['api_key', 'key_…'] (see principalName); anything else names no one. */
function splitPrincipal(principal: string | null): [string | null, string | null] {
  if (principal === null) return [null, null]
  const at = principal.indexOf(':')
  const kind = principal.slice(0, at)
  if (at < 0 || !PRINCIPAL_KINDS.has(kind)) return [null, null]
  return [kind, principal.slice(at + 1)]
}

/** Calls refused at authentication: totals for /metrics, and counts per tenant and hour written off the request path. */
import type { Database, Db } from '../storage/database.js'
import type { RefusedCallTable } from '../storage/schema.js'

/** Where a refusal happened: a webhook, the Management API, or the console's sign-in. */
export type Surface = 'webhook' | 'management' | 'console'
/** Why: bad credentials (401) or a failure limit (429). */
export type RefusalReason = 'bad_credentials' | 'rate_limited'

/** Refused webhook calls of one tenant in one hour at one endpoint. */
export interface RefusedCount {
  /** The start of the hour, ISO-8601 UTC. */
  hour: string
  endpoint: string
  count: number
}

const HOUR_MS = 3_600_000
/** Rows per write: small transactions that never hold the writer for long. */
const BATCH_ROWS = 100
/** Counts waiting to be written, at most: tenants × hours × endpoints, so only a long outage reaches it. */
const MAX_PENDING = 10_000
/** Hourly counts older than this are deleted. */
const RETENTION_MS = 30 * 24 * HOUR_MS

/**
 * A refused call costs a map update on the request path, whether its tenant exists or not (nobody can
 * tell them apart by timing), and writes nothing to the tenant's delivery log. The counts per tenant,
 * hour and endpoint are added to `refused_calls` within about `flushMs`, in batches of upserts.
 *
 * @example services.refusedCalls.record(tenant.id, 'createticket')
 */
export class RefusedCalls {
  private readonly totals = new Map<string, number>()
  private pending = new Map<string, RefusedCallTable>()
  private timer: NodeJS.Timeout | undefined
  private flushing: Promise<void> = Promise.resolve()
  private lastSweep = 0
  /** Counts lost because the database could not take them for a long time (`MAX_PENDING`). */
  dropped = 0

  constructor(
    private readonly database: Database,
    private readonly flushMs = 1000,
  ) {}

  /** Counts a refusal for /metrics: by surface and reason only (tenant names are the caller's to invent). */
  count(surface: Surface, reason: RefusalReason): void {
    const key = `${surface} ${reason}`
    this.totals.set(key, (this.totals.get(key) ?? 0) + 1)
  }

  /** Every refusal counted so far, by surface and reason. */
  counted(): Array<{ surface: Surface; reason: RefusalReason; value: number }> {
    return [...this.totals].map(([key, value]) => {
      const [surface, reason] = key.split(' ') as [Surface, RefusalReason]
      return { surface, reason, value }
    })
  }

  /** Counts a webhook call of an existing tenant refused for bad credentials; written within about a second. */
  record(tenantId: string, endpoint: string, at = Date.now()): void {
    const hour = new Date(Math.floor(at / HOUR_MS) * HOUR_MS).toISOString()
    this.add({ tenant_id: tenantId, hour, endpoint, refused: 1 })
    this.schedule()
  }

  /** Writes what is pending now (also what the timer does); resolves once it is committed or put back. */
  flush(): Promise<void> {
    this.flushing = this.flushing.then(() => this.write())
    return this.flushing
  }

  /** Stops the timer and writes what is pending (the app's onClose, before the database closes). */
  async close(): Promise<void> {
    if (this.timer !== undefined) clearTimeout(this.timer)
    this.timer = undefined
    await this.flush()
  }

  private add(row: RefusedCallTable): void {
    const key = `${row.tenant_id}\0${row.hour}\0${row.endpoint}`
    const existing = this.pending.get(key)
    if (existing !== undefined) existing.refused += row.refused
    else if (this.pending.size < MAX_PENDING) this.pending.set(key, { ...row })
    else this.dropped += row.refused
  }

  private schedule(): void {
    if (this.timer !== undefined) return
    this.timer = setTimeout(() => {
      this.timer = undefined
      void this.flush()
    }, this.flushMs)
    this.timer.unref()
  }

  private async write(): Promise<void> {
    const rows = [...this.pending.values()]
    this.pending = new Map()
    for (let i = 0; i < rows.length; i += BATCH_ROWS) {
      const batch = rows.slice(i, i + BATCH_ROWS)
      try {
        await this.database.transaction((trx) =>
          trx
            .insertInto('refused_calls')
            .values(batch)
            .onConflict((conflict) =>
              conflict.columns(['tenant_id', 'hour', 'endpoint']).doUpdateSet((eb) => ({
                refused: eb('refused_calls.refused', '+', eb.ref('excluded.refused')),
              })),
            )
            .execute(),
        )
      } catch {
        // The database is unavailable (or closing): keep the counts for the next try.
        for (const row of batch) this.add(row)
      }
    }
    if (this.pending.size > 0) this.schedule()
    await this.sweep()
  }

  /** At most once an hour, deletes counts past their retention. */
  private async sweep(): Promise<void> {
    const now = Date.now()
    if (now - this.lastSweep < HOUR_MS) return
    this.lastSweep = now
    const cutoff = new Date(now - RETENTION_MS).toISOString()
    await this.database
      .transaction((trx) => trx.deleteFrom('refused_calls').where('hour', '<', cutoff).execute())
      .catch(() => undefined)
  }
}

/**
 * A tenant's refused webhook calls in the last `hours` hours (the current one included), newest first.
 *
 * @example await listRefusedCalls(db, tenant.id, 24)
 */
export async function listRefusedCalls(
  db: Db,
  tenantId: string,
  hours: number,
  now = Date.now(),
): Promise<RefusedCount[]> {
  const start = new Date((Math.floor(now / HOUR_MS) - (hours - 1)) * HOUR_MS).toISOString()
  const rows = await db
    .selectFrom('refused_calls')
    .select(['hour', 'endpoint', 'refused'])
    .where('tenant_id', '=', tenantId)
    .where('hour', '>=', start)
    .orderBy('hour', 'desc')
    .orderBy('endpoint')
    .execute()
  return rows.map((row) => ({ hour: row.hour, endpoint: row.endpoint, count: Number(row.refused) }))
}

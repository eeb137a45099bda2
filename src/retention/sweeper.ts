/**
 * Retention: rows past their window are deleted in the background, in small batches (one short
 * transaction each, with a pause between), so the sweeper never holds the writer for long; the
 * webhooks' own transactions go between its batches. What is kept how long is one list of rules.
 */
import { sql } from 'kysely'
import type { Config } from '../config.js'
import type { Database } from '../storage/database.js'

/** Rows of `table` whose `timeColumn` (ISO-8601 UTC text) is older than `days` are deleted. */
export interface RetentionRule {
  table: string
  timeColumn: string
  /** The window in days; 0 deletes a row as soon as its time has passed (expiry times). */
  days: number
}

const DAY_MS = 86_400_000

/**
 * What is kept how long. A table that does not exist yet (a feature whose migration has not run) is
 * skipped, so a rule can be added before its table. Add a line here for any new table that grows.
 */
export function retentionRules(
  config: Pick<Config, 'deliveryRetentionDays' | 'auditRetentionDays'>,
): RetentionRule[] {
  return [
    // The delivery log with its stored request bodies: most of the database.
    { table: 'deliveries', timeColumn: 'created_at', days: config.deliveryRetentionDays },
    { table: 'audit_log', timeColumn: 'created_at', days: config.auditRetentionDays },
    // A user's history is an administrator's record like the audit log, and kept as long.
    { table: 'user_history', timeColumn: 'created_at', days: config.auditRetentionDays },
    // A held termination nobody decided on goes with the delivery that brought it.
    { table: 'held_changes', timeColumn: 'created_at', days: config.deliveryRetentionDays },
    // The safeguard counts terminations of the last hour; a day later a row counts for nothing.
    { table: 'hr_terminations', timeColumn: 'created_at', days: 1 },
    // A repeated Idempotency-Key is honoured for 24 hours; a day later its record is useless.
    { table: 'idempotency_keys', timeColumn: 'created_at', days: 2 },
    { table: 'sessions', timeColumn: 'expires_at', days: 0 },
  ]
}

export interface SweepOptions {
  /** Rows per transaction (default 500). */
  batchSize?: number
  /** The pause between two batches, in ms (default 50): room for other writers. */
  pauseMs?: number
  /** The time the windows count back from (default now). */
  now?: Date
  /** Checked between batches: true stops the sweep (shutdown). */
  stopped?: () => boolean
  /** Waits between batches; a sweeper replaces it with a pause that shutdown can cut short. */
  pause?: (ms: number) => Promise<void>
}

/**
 * One pass over every rule: deletes, batch by batch, the rows past each window. Answers how many
 * rows each table lost.
 *
 * @example await sweepOnce(database, retentionRules(config)) // { deliveries: 1200, audit_log: 0, … }
 */
export async function sweepOnce(
  database: Database,
  rules: RetentionRule[],
  options: SweepOptions = {},
): Promise<Record<string, number>> {
  const batchSize = options.batchSize ?? 500
  const pauseMs = options.pauseMs ?? 50
  const now = (options.now ?? new Date()).getTime()
  const pause = options.pause ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)))
  const deleted: Record<string, number> = {}
  for (const rule of rules) {
    if (options.stopped?.() === true) break
    if (!(await tableExists(database, rule.table))) continue
    const cutoff = new Date(now - rule.days * DAY_MS).toISOString()
    deleted[rule.table] = 0
    for (;;) {
      if (options.stopped?.() === true) break
      const count = await deleteBatch(database, rule, cutoff, batchSize)
      deleted[rule.table] = (deleted[rule.table] ?? 0) + count
      if (count < batchSize) break
      await pause(pauseMs)
    }
  }
  return deleted
}

/**
 * Deletes at most `limit` rows older than `cutoff` in one transaction. Rows are picked by their
 * physical address (SQLite's rowid, PostgreSQL's ctid), so one statement fits every table whatever
 * its key; the time column's index finds them.
 */
async function deleteBatch(
  database: Database,
  rule: RetentionRule,
  cutoff: string,
  limit: number,
): Promise<number> {
  const table = sql.table(rule.table)
  const column = sql.ref(rule.timeColumn)
  const statement =
    database.dialect === 'sqlite'
      ? sql`delete from ${table} where rowid in (select rowid from ${table} where ${column} < ${cutoff} limit ${limit})`
      : sql`delete from ${table} where ctid = any(array(select ctid from ${table} where ${column} < ${cutoff} limit ${limit}))`
  const result = await database.transaction((trx) => statement.execute(trx))
  return Number(result.numAffectedRows ?? 0n)
}

async function tableExists(database: Database, table: string): Promise<boolean> {
  const found =
    database.dialect === 'sqlite'
      ? await sql<{
          name: string
        }>`select name from sqlite_master where type = 'table' and name = ${table}`.execute(database.db)
      : await sql<{ name: string }>`select table_name as name from information_schema.tables
          where table_schema = current_schema() and table_name = ${table}`.execute(database.db)
  return found.rows.length > 0
}

/**
 * Runs sweepOnce on a timer (first a minute after start, then every hour) until stopped. One sweep at a
 * time; `stop()` ends the current sweep after its batch in flight and resolves once it has.
 *
 * @example const sweeper = new RetentionSweeper(database, retentionRules(config), log); sweeper.start(); … await sweeper.stop()
 */
export class RetentionSweeper {
  private timer: NodeJS.Timeout | undefined
  private running: Promise<void> | undefined
  private stopping = false
  private wake: (() => void) | undefined

  constructor(
    private readonly database: Database,
    private readonly rules: RetentionRule[],
    private readonly log: (message: string, counts?: Record<string, number>) => void,
    private readonly timing: { firstMs: number; everyMs: number; batchSize?: number; pauseMs?: number } = {
      firstMs: 60_000,
      everyMs: 3_600_000,
    },
  ) {}

  start(): void {
    if (this.timer !== undefined || this.stopping) return
    this.schedule(this.timing.firstMs)
  }

  /** Stops the timer and the sweep in progress (after its current batch); resolves when nothing runs. */
  async stop(): Promise<void> {
    this.stopping = true
    if (this.timer !== undefined) clearTimeout(this.timer)
    this.timer = undefined
    this.wake?.()
    await this.running
  }

  /** One sweep now (the timer's work), logged; never throws: the next sweep tries again. */
  async sweep(): Promise<Record<string, number>> {
    try {
      const counts = await sweepOnce(this.database, this.rules, {
        ...(this.timing.batchSize === undefined ? {} : { batchSize: this.timing.batchSize }),
        ...(this.timing.pauseMs === undefined ? {} : { pauseMs: this.timing.pauseMs }),
        stopped: () => this.stopping,
        pause: (ms) => this.pause(ms),
      })
      if (Object.values(counts).some((count) => count > 0)) this.log('retention: old rows deleted', counts)
      return counts
    } catch (error) {
      this.log(
        `retention: sweep failed (${error instanceof Error ? error.message : String(error)}); next time again`,
      )
      return {}
    }
  }

  private schedule(ms: number): void {
    this.timer = setTimeout(() => {
      this.timer = undefined
      this.running = this.sweep().then(() => {
        this.running = undefined
        if (!this.stopping) this.schedule(this.timing.everyMs)
      })
    }, ms)
    this.timer.unref()
  }

  /** A pause between batches that stop() cuts short. */
  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms)
      const self = this
      function done() {
        clearTimeout(timer)
        self.wake = undefined
        resolve()
      }
      this.wake = done
    })
  }
}

/** Group commit for SQLite: the writes of concurrent requests share one transaction and one commit. */
import type { Kysely } from 'kysely'
import { runDirect, type StatementSource, withDirectConnection } from './direct-sqlite.js'
import type { Schema } from './schema.js'

interface Unit {
  work: (trx: Kysely<Schema>) => Promise<unknown>
  resolve: (value: unknown) => void
  reject: (error: unknown) => void
}

/**
 * Queues units of work and runs each queued batch in one transaction, one savepoint a unit.
 * A unit's promise settles only after the batch has committed, so an answer sent on it is durable.
 * SQLite has one writer anyway; this turns N commits (N WAL syncs and lock cycles) into one.
 */
export class GroupCommitter {
  private queue: Unit[] = []
  private running: Promise<void> | null = null

  /**
   * `raw` is the connection behind `db`: the batch's transaction control and the units' prepared
   * statements run on it directly (direct-sqlite.ts) while the batch holds `db`'s connection.
   * `writerHeld` tells when another connection holds the write lock for a while (the checkpoint
   * thread's RESTART or TRUNCATE): null when none does, else a promise that settles when it lets go.
   */
  constructor(
    private readonly db: Kysely<Schema>,
    private readonly raw: StatementSource,
    private readonly writerHeld: () => Promise<unknown> | null = () => null,
  ) {}

  run<T>(work: (trx: Kysely<Schema>) => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ work, resolve: resolve as (value: unknown) => void, reject })
      if (this.running === null) this.running = this.loop()
    })
  }

  /** Resolves when every queued unit has settled. */
  async drain(): Promise<void> {
    while (this.running !== null) await this.running
  }

  private async loop(): Promise<void> {
    // Let the requests that arrived in this turn of the event loop join the first batch.
    await new Promise((resolve) => setImmediate(resolve))
    while (this.queue.length > 0) {
      // Waited for here, with the event loop free, rather than in BEGIN's busy handler, which sleeps
      // the thread; the requests that arrive meanwhile join this batch.
      const held = this.writerHeld()
      if (held !== null) await held
      const batch = this.queue
      this.queue = []
      await this.commit(batch)
    }
    this.running = null
  }

  private async commit(batch: Unit[]): Promise<void> {
    const settled: Array<() => void> = []
    try {
      await this.db.connection().execute((connection) =>
        withDirectConnection(connection, this.raw, async () => {
          // IMMEDIATE takes the write lock up front (waiting out busy_timeout if the CLI holds it);
          // a deferred transaction that reads first could fail at its first write instead.
          this.exec('begin immediate')
          try {
            await this.runUnits(connection, batch, settled)
            this.exec('commit')
          } catch (error) {
            try {
              this.exec('rollback')
            } catch {}
            throw error
          }
        }),
      )
    } catch (error) {
      // The lone unit failed (its own error), or the commit itself failed (every unit fails).
      for (const unit of batch) unit.reject(error)
      return
    }
    for (const settle of settled) settle()
  }

  private async runUnits(
    connection: Kysely<Schema>,
    batch: Unit[],
    settled: Array<() => void>,
  ): Promise<void> {
    const [lone] = batch
    if (batch.length === 1 && lone !== undefined) {
      // One unit needs no savepoint: its failure rolls back the whole (its own) transaction.
      const value = await lone.work(connection)
      settled.push(() => lone.resolve(value))
      return
    }
    for (const unit of batch) {
      this.exec('savepoint unit')
      try {
        const value = await unit.work(connection)
        this.exec('release savepoint unit')
        settled.push(() => unit.resolve(value))
      } catch (error) {
        this.exec('rollback to savepoint unit')
        this.exec('release savepoint unit')
        settled.push(() => unit.reject(error))
      }
    }
  }

  /** A transaction-control statement, on the connection the batch holds. */
  private exec(sql: string): void {
    runDirect(this.raw, sql, [])
  }
}

/** Group commit for SQLite: the writes of concurrent requests share one transaction and one commit. */
import { type Kysely, sql, type Transaction } from 'kysely'
import type { Schema } from './schema.js'

interface Unit {
  work: (trx: Transaction<Schema>) => Promise<unknown>
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

  constructor(private readonly db: Kysely<Schema>) {}

  run<T>(work: (trx: Transaction<Schema>) => Promise<T>): Promise<T> {
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
      const batch = this.queue
      this.queue = []
      await this.commit(batch)
    }
    this.running = null
  }

  private async commit(batch: Unit[]): Promise<void> {
    const settled: Array<() => void> = []
    let loneFailure: { error: unknown } | null = null
    try {
      await this.db.transaction().execute(async (trx) => {
        if (batch.length === 1 && batch[0]) {
          // One unit needs no savepoint: its failure rolls back the whole (its own) transaction.
          const unit = batch[0]
          try {
            const value = await unit.work(trx)
            settled.push(() => unit.resolve(value))
          } catch (error) {
            loneFailure = { error }
            throw error
          }
          return
        }
        for (const unit of batch) {
          await sql`savepoint unit`.execute(trx)
          try {
            const value = await unit.work(trx)
            await sql`release savepoint unit`.execute(trx)
            settled.push(() => unit.resolve(value))
          } catch (error) {
            await sql`rollback to savepoint unit`.execute(trx)
            await sql`release savepoint unit`.execute(trx)
            settled.push(() => unit.reject(error))
          }
        }
      })
    } catch (error) {
      // Either the lone unit failed (its own error), or the commit itself failed (every unit fails).
      const cause = loneFailure === null ? error : (loneFailure as { error: unknown }).error
      for (const unit of batch) unit.reject(cause)
      return
    }
    for (const settle of settled) settle()
  }
}

/**
 * The better-sqlite3 connection behind a Kysely that a group-commit batch runs on, so hot-path
 * statements can run on it directly.
 *
 * better-sqlite3 is synchronous, yet through Kysely every statement passes four async layers (executor,
 * connection provider, its queue, the driver), each a promise, plus a result object with BigInt
 * conversions. For a webhook's five statements in a batch (savepoint, three inserts, release) that was a
 * measurable share of the request's CPU time. Only the batch's own Kysely is registered, and only while
 * the batch holds the connection: nothing else can run on it meanwhile.
 */
import type { Kysely } from 'kysely'
import type { Schema } from './schema.js'

/** What the batch's statements need of a connection: a prepared statement by its SQL (cached). */
export interface StatementSource {
  prepare(sql: string): {
    readonly reader: boolean
    run(...parameters: unknown[]): unknown
    all(...parameters: unknown[]): unknown[]
  }
}

const connections = new WeakMap<Kysely<Schema>, StatementSource>()

/** Registers `raw` as the connection behind `db` for the duration of `work`. */
export async function withDirectConnection<T>(
  db: Kysely<Schema>,
  raw: StatementSource,
  work: () => Promise<T>,
): Promise<T> {
  connections.set(db, raw)
  try {
    return await work()
  } finally {
    connections.delete(db)
  }
}

/** The connection registered behind `db`, or undefined when `db` is not a batch's (PostgreSQL, reads). */
export function directConnection(db: Kysely<Schema>): StatementSource | undefined {
  return connections.get(db)
}

/** Runs `sql` on `raw` as Kysely's SQLite driver would: rows for a statement that returns any, else none. */
export function runDirect<R>(raw: StatementSource, sql: string, parameters: readonly unknown[]): R[] {
  const statement = raw.prepare(sql)
  if (statement.reader) return statement.all(...parameters) as R[]
  statement.run(...parameters)
  return []
}

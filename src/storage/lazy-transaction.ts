/**
 * PostgreSQL transactions that cost as few round trips as their work allows.
 *
 * A webhook's transaction is mostly plain inserts (ticket, comment, delivery-log entry) after a few
 * reads. Run as written, that is BEGIN, one round trip per statement, COMMIT: five or six waits on the
 * network and on the server, with row locks held across all of them. Here instead:
 *
 * - a plain SELECT (no FOR UPDATE/SHARE, no WITH) before anything was written runs on its own,
 *   autocommitted: under READ COMMITTED every statement of a transaction takes a fresh snapshot
 *   anyway, and a plain SELECT takes no row locks, so it sees and holds exactly what it would inside;
 * - a plain INSERT (no RETURNING, no ON CONFLICT, a VALUES list) is held back and reported as
 *   inserting its rows; the held inserts are sent together as ONE statement (data-modifying CTEs),
 *   which PostgreSQL runs atomically: a transaction of reads and inserts is one autocommitted
 *   statement, with no BEGIN/COMMIT at all;
 * - anything else (UPDATE, DELETE, SELECT … FOR UPDATE, raw SQL, a read after a held insert) opens a
 *   real transaction first (BEGIN, then the held inserts), and COMMIT sends what is still held.
 *
 * What callers see: a held insert's failure (a unique violation) surfaces when the transaction
 * commits, not at the insert; since a failed statement aborts a PostgreSQL transaction anyway, no
 * caller could go on after it, and the transaction still fails as a whole.
 */
import { createHash } from 'node:crypto'
import type { CompiledQuery, DatabaseConnection, QueryResult } from 'kysely'
import type pg from 'pg'
import type { SessionClient, SessionPool } from './read-only-sessions.js'

/**
 * Held inserts are sent as named prepared statements: PostgreSQL parses and plans each text once per
 * connection instead of on every request. Only inserts without RETURNING are named: they return no
 * rows, so a column added by a migration while the service runs cannot break their cached plan.
 */
const names = new Map<string, string>()

function statementFor(sql: string, values: unknown[]): pg.QueryConfig {
  let name = names.get(sql)
  if (name === undefined) {
    name = `oc_${createHash('sha256').update(sql).digest('base64url').slice(0, 24)}`
    if (names.size >= 1000) names.clear()
    names.set(sql, name)
  }
  return { name, text: sql, values }
}

/** Kysely's PostgreSQL result shape for a pg result. */
function toResult<R>(result: pg.QueryResult): QueryResult<R> {
  const { command, rowCount, rows } = result
  const writes = command === 'INSERT' || command === 'UPDATE' || command === 'DELETE' || command === 'MERGE'
  return {
    ...(writes ? { numAffectedRows: BigInt(rowCount ?? 0) } : {}),
    rows: (rows ?? []) as R[],
  }
}

type Node = CompiledQuery['query'] & Record<string, unknown>

/** A SELECT built with Kysely that locks nothing and writes nothing. */
function isPlainSelect(query: CompiledQuery): boolean {
  const node = query.query as Node
  if (node.kind !== 'SelectQueryNode') return false
  const end = node.endModifiers as unknown[] | undefined
  return node.with === undefined && (end === undefined || end.length === 0)
}

/** The rows a plain INSERT … VALUES writes (it writes all of them or fails), or null for any other statement. */
function heldInsertRows(query: CompiledQuery): number | null {
  const node = query.query as Node
  if (node.kind !== 'InsertQueryNode') return null
  if (node.returning !== undefined || node.onConflict !== undefined || node.with !== undefined) return null
  const values = node.values as { kind?: string; values?: unknown[] } | undefined
  if (values?.kind !== 'ValuesNode' || values.values === undefined) return null
  // Statements are joined by renumbering their $n parameters: a quote could hide a `$` in a literal.
  if (query.sql.includes("'")) return null
  return values.values.length
}

/**
 * The held inserts as one statement: `with w1 as (insert …), w2 as (insert …) insert …`. Every
 * data-modifying CTE runs exactly once, referenced or not; foreign keys are checked at the end of the
 * statement, so a comment may reference the ticket inserted beside it.
 */
export function joinInserts(queries: readonly CompiledQuery[]): { sql: string; parameters: unknown[] } {
  const parameters: unknown[] = []
  const parts = queries.map((query) => {
    const offset = parameters.length
    parameters.push(...query.parameters)
    return offset === 0
      ? query.sql
      : query.sql.replace(/\$(\d+)/g, (_, n: string) => `$${Number(n) + offset}`)
  })
  const last = parts.pop() ?? ''
  if (parts.length === 0) return { sql: last, parameters }
  return { sql: `with ${parts.map((part, i) => `w${i} as (${part})`).join(', ')} ${last}`, parameters }
}

export class LazyTransaction implements DatabaseConnection {
  private held: CompiledQuery[] = []
  private client: SessionClient | null = null
  /** The BEGIN under way: two queries of one transaction sent at once must not open two. */
  private opening: Promise<void> | null = null

  constructor(private readonly pool: SessionPool) {}

  async executeQuery<R>(query: CompiledQuery): Promise<QueryResult<R>> {
    if (this.client === null) {
      if (this.held.length === 0 && isPlainSelect(query))
        return toResult<R>(await this.pool.query(query.sql, [...query.parameters]))
      const rows = heldInsertRows(query)
      if (rows !== null) {
        this.held.push(query)
        return { numAffectedRows: BigInt(rows), rows: [] }
      }
      this.opening ??= this.open().finally(() => {
        this.opening = null
      })
      await this.opening
    }
    await this.sendHeld()
    return toResult<R>(await this.openClient().query(query.sql, [...query.parameters]))
  }

  // biome-ignore lint/correctness/useYield: Kysely's interface; nothing here streams
  async *streamQuery<R>(): AsyncIterableIterator<QueryResult<R>> {
    throw new Error('Streaming is not supported inside a transaction')
  }

  /** Sends what is held: as one autocommitted statement when no transaction was opened, else then COMMIT. */
  async commit(): Promise<void> {
    if (this.client === null) {
      if (this.held.length === 0) return
      const { sql, parameters } = joinInserts(this.held)
      this.held = []
      await this.pool.query(statementFor(sql, parameters))
      return
    }
    // On a failure the caller rolls back, which releases the connection.
    await this.sendHeld()
    await this.client.query('commit')
    this.release()
  }

  async rollback(): Promise<void> {
    this.held = []
    if (this.client === null) return
    try {
      await this.client.query('rollback')
      this.release()
    } catch (error) {
      // A connection that cannot roll back is not handed to the next caller.
      this.release(error)
    }
  }

  private async open(): Promise<void> {
    const client = await this.pool.connect()
    try {
      await client.query('begin')
    } catch (error) {
      client.release(true)
      throw error
    }
    this.client = client
  }

  private async sendHeld(): Promise<void> {
    if (this.held.length === 0) return
    const { sql, parameters } = joinInserts(this.held)
    this.held = []
    await this.openClient().query(statementFor(sql, parameters))
  }

  private openClient(): SessionClient {
    if (this.client === null) throw new Error('LazyTransaction: no open transaction')
    return this.client
  }

  private release(error?: unknown): void {
    const client = this.client
    this.client = null
    client?.release(error instanceof Error)
  }
}

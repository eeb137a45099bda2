/** PostgreSQL sessions opened while the database was read-only are not kept once it is writable again. */
import type { PostgresPool, PostgresPoolClient } from 'kysely'
import type pg from 'pg'

/** PostgreSQL's read_only_sql_transaction: a write in a read-only transaction. */
const READ_ONLY_SQL_TRANSACTION = '25006'

interface Session {
  /** Sessions are numbered in the order the pool opened them. */
  serial: number
  client: PostgresPoolClient & SessionClient
}

/**
 * The pool Kysely uses, minus the sessions that were open when a write was refused as read-only.
 *
 * `ALTER DATABASE … SET default_transaction_read_only = on` (or the same on a role) reaches only sessions
 * opened after it, and so does its `RESET`: a session opened while it was on stays read-only for its
 * whole life. A pool kept busy (a load balancer's `/readyz` every second is enough) never lets such a
 * session go idle long enough to be closed, so the service would answer 503 for good after the database
 * became writable again. Every refusal as read-only therefore retires every session open at that moment:
 * each is closed instead of being reused the next time the pool hands it out, and a new one is opened.
 * While the database stays read-only this opens a session per refused write; once it is writable, the
 * first new session works.
 *
 * @example new PostgresDialect({ pool: withoutStaleReadOnlySessions(new pg.Pool({ connectionString })) })
 */
/** A session as the lazy transactions use it: pg's own query (text and values, or a named statement). */
export interface SessionClient {
  query(statement: string | pg.QueryConfig, values?: unknown[]): Promise<pg.QueryResult>
  /** `true` closes the session instead of returning it to the pool. */
  release(destroy?: boolean): void
}

/** The pool Kysely uses, and the lazy transactions' sessions and one-statement queries (see lazy-transaction.ts). */
export interface SessionPool extends PostgresPool {
  connect(): Promise<PostgresPoolClient & SessionClient>
  /** One statement on a session of the pool, autocommitted (pg's `pool.query`, through this pool's sessions). */
  query(statement: string | pg.QueryConfig, values?: unknown[]): Promise<pg.QueryResult>
}

export function withoutStaleReadOnlySessions(pool: pg.Pool): SessionPool {
  const sessions = new WeakMap<pg.PoolClient, Session>()
  let opened = 0
  /** Sessions numbered up to this one were open when a write was refused as read-only. */
  let retiredUpTo = 0

  const watch = (client: pg.PoolClient): PostgresPoolClient & SessionClient => {
    return {
      query: ((...args: unknown[]) => {
        // Looked up at each call, not bound once: whatever wraps pg's query later (tracing) still sees it.
        const result = (client.query as (...a: unknown[]) => unknown).apply(client, args)
        if (!(result instanceof Promise)) return result // a cursor
        return result.catch((error: unknown) => {
          if ((error as { code?: unknown } | null)?.code === READ_ONLY_SQL_TRANSACTION) retiredUpTo = opened
          throw error
        })
      }) as PostgresPoolClient['query'] & SessionClient['query'],
      release: (destroy?: boolean) => client.release(destroy),
    }
  }

  return {
    async connect() {
      for (;;) {
        const client = await pool.connect()
        let session = sessions.get(client)
        if (session === undefined) {
          opened += 1
          session = { serial: opened, client: watch(client) }
          sessions.set(client, session)
        }
        if (session.serial > retiredUpTo) return session.client
        client.release(true) // closes it; the pool opens a new session for the next connect()
      }
    },
    async query(statement: string | pg.QueryConfig, values?: unknown[]) {
      const client = await this.connect()
      try {
        return await client.query(statement, values)
      } finally {
        client.release()
      }
    },
    end: () => pool.end(),
  }
}

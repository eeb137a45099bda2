/** Opens the database named by a URL (SQLite file or PostgreSQL) behind one Kysely interface. */
import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import BetterSqlite3 from 'better-sqlite3'
import { Kysely, PostgresDialect, SqliteDialect } from 'kysely'
import pg from 'pg'
import { CHECKPOINT_AT_BYTES, startCheckpointWorker } from './checkpoint-worker.js'
import { GroupCommitter } from './group-commit.js'
import { LazyTransaction } from './lazy-transaction.js'
import { withoutStaleReadOnlySessions } from './read-only-sessions.js'
import type { Schema } from './schema.js'
import { isStorageFailure } from './storage-errors.js'

export type Dialect = 'sqlite' | 'postgres'
/** A connection inside a transaction (Kysely's Transaction on PostgreSQL, the batch's connection on SQLite). */
export type Tx = Kysely<Schema>
export type Db = Kysely<Schema>

export interface Database {
  readonly dialect: Dialect
  /** For reads. On SQLite this is its own connection, so reads never wait behind a write batch. */
  readonly db: Db
  /**
   * Runs `work` in a transaction and resolves once it is committed. On SQLite, the work of
   * concurrent callers is grouped into one transaction (each in its own savepoint), so many
   * requests share one commit; a failing `work` rolls back only its own part.
   * `work` must not wait on anything but this database: it may share its transaction with others.
   */
  transaction<T>(work: (trx: Tx) => Promise<T>): Promise<T>
  /**
   * Proves the database takes writes now: one small committed write (and, when `thorough`, one
   * that needs room to grow). On SQLite a failure reopens the connections first and tries again:
   * a file that was read-only when opened stays read-only on its connection even once it is made
   * writable. Throws when the database cannot be written. See http/readiness.ts.
   */
  probeWrite(thorough: boolean): Promise<void>
  /** When (Date.now()) a transaction last failed because the database could not be written or reached; 0 if never. */
  lastStorageFailureAt(): number
  /** Runs `hook` at the start of close(), while the database still takes writes (e.g. to give back unused ticket numbers). */
  onClose(hook: () => Promise<void>): void
  close(): Promise<void>
}

/** The close hooks of a database: each runs once, in order; a failing hook does not stop the close. */
function closeHooks() {
  const hooks: Array<() => Promise<void>> = []
  return {
    add: (hook: () => Promise<void>) => void hooks.push(hook),
    async run() {
      for (const hook of hooks.splice(0)) await hook().catch(() => {})
    },
  }
}

export interface DatabaseOptions {
  /** SQLite `synchronous`: NORMAL survives a killed process (WAL is written before commit returns); FULL also survives power loss. */
  sqliteSynchronous?: 'NORMAL' | 'FULL'
  /** PostgreSQL schema to use (tests use a fresh one per run). */
  pgSchema?: string
  pgPoolSize?: number
  /**
   * SQLite file: run WAL checkpoints on a worker thread instead of on the committing connection (see
   * checkpoint-worker.ts). For the long-running server; a short CLI command keeps SQLite's own.
   */
  sqliteCheckpointWorker?: boolean
}

/**
 * Opens `sqlite:./data/x.db`, `sqlite::memory:`, or `postgres://…`.
 *
 * @example const database = openDatabase('sqlite:./data/optimalcloud.db')
 */
export function openDatabase(url: string, options: DatabaseOptions = {}): Database {
  if (url.startsWith('postgres://') || url.startsWith('postgresql://')) return openPostgres(url, options)
  if (url.startsWith('sqlite:')) return openSqlite(url.slice('sqlite:'.length), options)
  throw new Error(`Unsupported database URL (use sqlite:PATH or postgres://…): ${redactUrl(url)}`)
}

/** A database URL fit for messages: any password is replaced. */
export function redactUrl(url: string): string {
  return url.replace(/\/\/([^:/@]+):[^@]*@/, '//$1:***@')
}

/** True when `error` is a unique or primary-key violation, in either database. */
export function isUniqueViolation(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false
  const code = (error as { code?: unknown }).code
  return code === '23505' || code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY'
}

function openSqlite(path: string, options: DatabaseOptions): Database {
  const memory = path === ':memory:' || path === ''
  if (!memory) mkdirSync(dirname(path), { recursive: true })
  const checkpoints =
    !memory && options.sqliteCheckpointWorker === true
      ? startCheckpointWorker(path, options.sqliteSynchronous ?? 'NORMAL', () => {
          // Without the thread the WAL would only grow: the connections checkpoint again themselves.
          for (const connection of [writer, reader])
            connection.pragma(`wal_autocheckpoint = ${AUTOCHECKPOINT_PAGES}`)
        })
      : null
  const ownCheckpoints = { ...options, sqliteCheckpointWorker: checkpoints !== null }
  const writer = withStatementCache(connectSqlite(memory ? ':memory:' : path, ownCheckpoints))
  const writeDb = new Kysely<Schema>({ dialect: new SqliteDialect({ database: writer }) })
  const reader = memory ? writer : withStatementCache(connectSqlite(path, ownCheckpoints))
  const readDb = memory ? writeDb : new Kysely<Schema>({ dialect: new SqliteDialect({ database: reader }) })
  const committer = new GroupCommitter(writeDb, writer, () => checkpoints?.writerHeld() ?? null)
  const failures = new StorageFailures()
  const hooks = closeHooks()
  const probe = (thorough: boolean) => committer.run((trx) => writeProbe(trx, thorough))
  /** New connections in place of the old ones, each swapped while Kysely holds its connection (no query runs on it). */
  const reopen = async () => {
    await writeDb.connection().execute(async () => writer.swap(connectSqlite(path, ownCheckpoints)))
    if (readDb !== writeDb)
      await readDb.connection().execute(async () => reader.swap(connectSqlite(path, ownCheckpoints)))
  }
  return {
    dialect: 'sqlite',
    db: readDb,
    transaction: (work) => failures.watch(committer.run(work)),
    async probeWrite(thorough) {
      try {
        await probe(thorough)
      } catch (error) {
        // Only a connection opened while the file was read-only heals by reopening; a full disk does not.
        if (memory || !/^SQLITE_(READONLY|CANTOPEN)/.test(String((error as { code?: unknown }).code)))
          throw error
        await reopen()
        await probe(thorough)
      }
    },
    lastStorageFailureAt: () => failures.lastAt,
    onClose: hooks.add,
    async close() {
      await hooks.run()
      await committer.drain()
      await checkpoints?.stop()
      if (readDb !== writeDb) await readDb.destroy()
      await writeDb.destroy()
    },
  }
}

/** SQLite's own checkpoints, when the connection runs them: every this many WAL pages (~40 MiB). */
const AUTOCHECKPOINT_PAGES = 10000

/**
 * A better-sqlite3 connection with the service's pragmas. Exported for the bench's `floor` target, which
 * writes the service's rows through a connection set up exactly like the service's own.
 */
export function connectSqlite(path: string, options: DatabaseOptions): BetterSqlite3.Database {
  const connection = new BetterSqlite3(path)
  connection.pragma('journal_mode = WAL')
  connection.pragma(`synchronous = ${options.sqliteSynchronous ?? 'NORMAL'}`)
  // The CLI and the server may write the same file at once: wait for the lock rather than fail.
  connection.pragma('busy_timeout = 5000')
  connection.pragma('foreign_keys = ON')
  // The savepoint journal of a group commit and the table behind RETURNING are temporary files by
  // default: a dozen pwrite calls per webhook and a file opened per batch. Kept in memory instead.
  connection.pragma('temp_store = MEMORY')
  // With the checkpoint thread, never here. Otherwise every ~40 MiB of WAL instead of ~4 MiB: pages
  // written by many batches (counters, index roots) are copied once per checkpoint, so fewer
  // checkpoints means less copying.
  connection.pragma(
    `wal_autocheckpoint = ${options.sqliteCheckpointWorker === true ? 0 : AUTOCHECKPOINT_PAGES}`,
  )
  // When the writer starts the WAL over, it cuts the file back to this size (else it stays at its largest).
  // Above what the checkpoint thread lets the WAL reach (twice CHECKPOINT_AT_BYTES, then RESTART): a file
  // cut back to 16 MiB at every restart had to be grown again block by block, which cost 6 % of a
  // createticket's CPU and some of its tail (bench: 66-67 -> 62-63 µs, max 63-66 -> 39-49 ms). The thread
  // still truncates the WAL to nothing once writes stop.
  if (options.sqliteCheckpointWorker === true)
    connection.pragma(`journal_size_limit = ${CHECKPOINT_AT_BYTES * 4}`)
  return connection
}

/**
 * better-sqlite3 compiles a statement on every `prepare`; Kysely prepares every query. Keeping the
 * compiled statements (the service issues a few dozen distinct queries) saves most of that cost.
 * `swap` replaces the connection (and forgets its statements), for a reopen.
 */
function withStatementCache(first: BetterSqlite3.Database) {
  let connection = first
  const statements = new Map<string, BetterSqlite3.Statement>()
  return {
    close: () => connection.close(),
    pragma: (text: string) => connection.pragma(text),
    prepare(sql: string) {
      let statement = statements.get(sql)
      if (statement === undefined) {
        statement = connection.prepare(sql)
        if (statements.size >= 1000) statements.clear()
        statements.set(sql, statement)
      }
      return statement
    },
    swap(next: BetterSqlite3.Database) {
      const old = connection
      connection = next
      statements.clear()
      old.close()
    },
  }
}

/** The readiness probe's own row; `grow` rows live only inside one probe's transaction. */
const PROBE_ROW = 'probe'
/** What the thorough probe writes: enough pages that a database which cannot grow refuses it. */
const GROWTH_FILLER = 'x'.repeat(64 * 1024)

/** One small committed write; when `thorough`, also a 64 KiB row written and deleted in the same transaction. */
async function writeProbe(trx: Tx, thorough: boolean): Promise<void> {
  const at = new Date().toISOString()
  await trx
    .insertInto('readiness_probe')
    .values({ id: PROBE_ROW, at, filler: null })
    .onConflict((c) => c.column('id').doUpdateSet({ at }))
    .execute()
  if (thorough) {
    const id = `grow-${process.pid}-${Date.now()}`
    await trx.insertInto('readiness_probe').values({ id, at, filler: GROWTH_FILLER }).execute()
    await trx.deleteFrom('readiness_probe').where('id', '=', id).execute()
  }
}

/** Remembers when a transaction last failed because the database could not be written or reached. */
class StorageFailures {
  lastAt = 0

  watch<T>(work: Promise<T>): Promise<T> {
    return work.catch((error: unknown) => {
      if (isStorageFailure(error)) this.lastAt = Date.now()
      throw error
    })
  }
}

function openPostgres(url: string, options: DatabaseOptions): Database {
  const pool = new pg.Pool({
    connectionString: url,
    max: options.pgPoolSize ?? 10,
    ...(options.pgSchema ? { options: `-c search_path=${options.pgSchema}` } : {}),
  })
  // An idle client's error (server restart) must not crash the process; the next query reconnects.
  pool.on('error', () => {})
  const sessions = withoutStaleReadOnlySessions(pool)
  const dialect = new PostgresDialect({ pool: sessions })
  const config = { dialect }
  const db = new Kysely<Schema>(config)
  const driver = dialect.createDriver()
  const failures = new StorageFailures()
  const hooks = closeHooks()
  /** The work on a Kysely whose every query goes through one LazyTransaction (see lazy-transaction.ts). */
  const lazily = async <T>(work: (trx: Tx) => Promise<T>): Promise<T> => {
    const transaction = new LazyTransaction(sessions)
    const executor = db.getExecutor().withConnectionProvider({
      provideConnection: (consumer) => consumer(transaction),
    })
    const trx = new Kysely<Schema>({ config, dialect, driver, executor })
    try {
      const value = await work(trx)
      await transaction.commit()
      return value
    } catch (error) {
      await transaction.rollback()
      throw error
    }
  }
  return {
    dialect: 'postgres',
    db,
    transaction: (work) => failures.watch(lazily(work)),
    // PostgreSQL grows its own files; one committed write shows read-only, permission and disk failures.
    probeWrite: () => db.transaction().execute((trx) => writeProbe(trx, false)),
    lastStorageFailureAt: () => failures.lastAt,
    onClose: hooks.add,
    async close() {
      await hooks.run()
      await db.destroy()
    },
  }
}

/** Brings a database's schema up to date with the migrations in this folder. */
import { type Migration, type MigrationProvider, Migrator, sql } from 'kysely'
import type { Database } from './database.js'
import * as initial from './migrations/001-initial.js'
import * as authLimits from './migrations/002-auth-limits.js'
import * as bodyNotesAndReadiness from './migrations/004-body-notes-and-readiness.js'
import * as heldTerminations from './migrations/005-held-terminations.js'
import * as userHistoryAndAudit from './migrations/006-user-history-and-audit.js'
import * as listIndexes from './migrations/007-list-indexes.js'
import * as retentionIndexes from './migrations/009-retention-indexes.js'
import * as partialIndexes from './migrations/010-partial-indexes.js'

/** Migrations are listed in code (not read from disk) so the compiled and the tsx-run service agree. */
const migrations: Record<string, Migration> = {
  '001-initial': initial,
  '002-auth-limits': authLimits,
  '004-body-notes-and-readiness': bodyNotesAndReadiness,
  '005-held-terminations': heldTerminations,
  '006-user-history-and-audit': userHistoryAndAudit,
  '007-list-indexes': listIndexes,
  '009-retention-indexes': retentionIndexes,
  '010-partial-indexes': partialIndexes,
}

const provider: MigrationProvider = { getMigrations: async () => migrations }

/**
 * Applies every pending migration; safe to run from several processes at once (Kysely takes a lock).
 *
 * @example await migrateToLatest(database)
 */
export async function migrateToLatest(database: Database): Promise<void> {
  // Kysely looks for its own tables in every schema of the database unless told which one: with
  // another schema holding them (a second deployment, parallel test runs), it would skip creating
  // them here and then fail. So on PostgreSQL they live in the schema this connection uses.
  const schema =
    database.dialect === 'postgres'
      ? (await sql<{ schema: string }>`select current_schema() as schema`.execute(database.db)).rows[0]
          ?.schema
      : undefined
  const migrator = new Migrator({
    db: database.db,
    provider,
    ...(schema === undefined ? {} : { migrationTableSchema: schema }),
  })
  for (let attempt = 1; ; attempt++) {
    const { error, results } = await migrator.migrateToLatest()
    const failed = results?.find((r) => r.status === 'Error')
    if (error === undefined && failed === undefined) return
    // Kysely reads the tables of every schema of the database before migrating; a schema that another
    // process drops during that read makes PostgreSQL answer that it (or one of its tables or columns)
    // does not exist. Migrations run in a transaction, so trying again is safe: read again.
    if (isCatalogRace(error) && attempt < 10) {
      await new Promise((resolve) => setTimeout(resolve, 50 * attempt))
      continue
    }
    const reason = error instanceof Error ? error.message : String(error ?? 'unknown error')
    throw new Error(`Migration ${failed?.migrationName ?? ''} failed: ${reason}`)
  }
}

/**
 * What PostgreSQL answers when a catalog object vanishes under a read: a schema (3F000), a table
 * (42P01) or a column (42703) that existed when the read began. The message does not always say
 * whose object it was; a real fault of our own migration answers the same after the last try.
 */
const VANISHED = new Set(['3F000', '42P01', '42703'])

function isCatalogRace(error: unknown): boolean {
  return (
    typeof error === 'object' && error !== null && VANISHED.has(String((error as { code?: unknown }).code))
  )
}

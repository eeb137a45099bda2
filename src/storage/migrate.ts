/** Brings a database's schema up to date with the migrations in this folder. */
import { type Migration, type MigrationProvider, Migrator } from 'kysely'
import type { Database } from './database.js'
import * as initial from './migrations/001-initial.js'

/** Migrations are listed in code (not read from disk) so the compiled and the tsx-run service agree. */
const migrations: Record<string, Migration> = {
  '001-initial': initial,
}

const provider: MigrationProvider = { getMigrations: async () => migrations }

/**
 * Applies every pending migration; safe to run from several processes at once (Kysely takes a lock).
 *
 * @example await migrateToLatest(database)
 */
export async function migrateToLatest(database: Database): Promise<void> {
  const migrator = new Migrator({ db: database.db, provider })
  const { error, results } = await migrator.migrateToLatest()
  const failed = results?.find((r) => r.status === 'Error')
  if (error !== undefined || failed !== undefined) {
    const reason = error instanceof Error ? error.message : String(error ?? 'unknown error')
    throw new Error(`Migration ${failed?.migrationName ?? ''} failed: ${reason}`)
  }
}

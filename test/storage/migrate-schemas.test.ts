/** Migrations on PostgreSQL keep their bookkeeping in the schema they migrate, whatever other schemas hold. */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { sql } from 'kysely'
import { migrateToLatest } from '../../src/storage/migrate.js'
import { freshDatabase, postgresAvailable } from '../helpers/databases.js'

const pgUp = await postgresAvailable()

describe('migrateToLatest (postgres)', { skip: !pgUp && 'no PostgreSQL' }, () => {
  it('migrates a new schema while another schema of the database is already migrated', async () => {
    // Before the fix, Kysely saw the first schema's kysely_migration_lock, skipped creating its own,
    // and the second migration failed: parallel test runs and side-by-side deployments broke.
    const first = await freshDatabase('postgres')
    try {
      const second = await freshDatabase('postgres')
      try {
        const tables = await sql<{ table_name: string }>`
          select table_name from information_schema.tables
          where table_schema = ${second.pgSchema ?? ''} and table_name like 'kysely_%'
          order by table_name`.execute(second.database.db)
        assert.deepEqual(
          tables.rows.map((row) => row.table_name),
          ['kysely_migration', 'kysely_migration_lock'],
        )
        // Running again changes nothing and does not fail.
        await migrateToLatest(second.database)
        await migrateToLatest(first.database)
      } finally {
        await second.dispose()
      }
    } finally {
      await first.dispose()
    }
  })
})

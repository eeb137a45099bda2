/** Migrating on PostgreSQL while other processes drop their schemas (parallel test runs, other deployments). */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import pg from 'pg'
import { openDatabase } from '../../src/storage/database.js'
import { migrateToLatest } from '../../src/storage/migrate.js'
import { freshDatabase, PG_URL, postgresAvailable } from '../helpers/databases.js'

const pgUp = await postgresAvailable()

describe('migrateToLatest beside dropped schemas (postgres)', { skip: !pgUp && 'no PostgreSQL' }, () => {
  it('is not failed by another schema dropped while Kysely reads the catalog', async () => {
    const churn = new pg.Client({ connectionString: PG_URL })
    await churn.connect()
    let stop = false
    // Another "test run": schemas with tables, made and dropped as fast as PostgreSQL allows.
    const churning = (async () => {
      for (let i = 0; !stop && i < 2000; i++) {
        const name = `t_churn_${process.pid}_${i}`
        await churn.query(`create schema ${name}`)
        await churn.query(`create table ${name}.a (id serial primary key, b text, c text, d text)`)
        await churn.query(`drop schema ${name} cascade`)
        // About as often as a busy parallel test run drops its schemas.
        await new Promise((resolve) => setTimeout(resolve, 5))
      }
    })()
    const migrated = await freshDatabase('postgres')
    try {
      for (let i = 0; i < 30; i++) await migrateToLatest(migrated.database)
    } finally {
      stop = true
      // Our connections first: a failed migration must not leave the churn waiting on a lock of ours.
      await migrated.database.close()
      await churning
      await churn.end()
      await migrated.dispose().catch(() => {})
    }
    assert.ok(true, '30 migrations beside a churning schema all succeeded')
  })
})

describe('instances starting together on an empty database (postgres)', {
  skip: !pgUp && 'no PostgreSQL',
}, () => {
  it('four processes migrating one empty schema at once all succeed (serve --workers, instances behind a balancer)', async () => {
    for (let round = 0; round < 5; round++) {
      const schema = `t_together_${process.pid}_${round}_${Math.random().toString(36).slice(2, 8)}`
      const admin = new pg.Client({ connectionString: PG_URL })
      await admin.connect()
      await admin.query(`create schema ${schema}`)
      const instances = Array.from({ length: 4 }, () => openDatabase(PG_URL, { pgSchema: schema }))
      try {
        const results = await Promise.allSettled(instances.map((database) => migrateToLatest(database)))
        assert.deepEqual(
          results.map((result) => (result.status === 'fulfilled' ? 'ok' : String(result.reason))),
          ['ok', 'ok', 'ok', 'ok'],
        )
        const tables = await admin.query(
          'select count(*)::int as n from information_schema.tables where table_schema = $1 and table_name = $2',
          [schema, 'tickets'],
        )
        assert.equal(tables.rows[0].n, 1)
      } finally {
        await Promise.all(instances.map((database) => database.close()))
        await admin.query(`drop schema if exists ${schema} cascade`)
        await admin.end()
      }
    }
  })
})

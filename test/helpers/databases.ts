/** Test databases: a fresh SQLite file or a fresh PostgreSQL schema per test app, on both dialects. */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'
import { type Database, type Dialect, openDatabase } from '../../src/storage/database.js'
import { migrateToLatest } from '../../src/storage/migrate.js'

export const PG_URL = process.env.OPTIMALCLOUD_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test'

let pgAvailable: Promise<boolean> | undefined

/** Whether PostgreSQL answers; under CI=true an unreachable server fails the run instead of skipping. */
export function postgresAvailable(): Promise<boolean> {
  pgAvailable ??= (async () => {
    const client = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 3000 })
    try {
      await client.connect()
      await client.query('select 1')
      return true
    } catch (error) {
      if (process.env.CI === 'true')
        throw new Error(`PostgreSQL is required under CI but unreachable at ${PG_URL}: ${String(error)}`)
      return false
    } finally {
      await client.end().catch(() => {})
    }
  })()
  return pgAvailable
}

/** The dialects to run a suite on: SQLite always, PostgreSQL when it answers (always under CI). */
export const DIALECTS: Dialect[] = ['sqlite', 'postgres']

export interface TestDatabase {
  database: Database
  url: string
  /** Options to open the same database again (another "instance" or the CLI). */
  pgSchema: string | undefined
  dispose(): Promise<void>
}

/** A migrated, empty database of `dialect`, removed by dispose(). */
export async function freshDatabase(dialect: Dialect): Promise<TestDatabase> {
  if (dialect === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'oc-test-'))
    const url = `sqlite:${join(dir, 'test.db')}`
    const database = openDatabase(url)
    await migrateToLatest(database)
    return {
      database,
      url,
      pgSchema: undefined,
      async dispose() {
        await database.close()
        rmSync(dir, { recursive: true, force: true })
      },
    }
  }
  const schema = `t_${process.pid}_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`
  const admin = new pg.Client({ connectionString: PG_URL })
  await admin.connect()
  await admin.query(`create schema ${schema}`)
  await admin.end()
  const database = openDatabase(PG_URL, { pgSchema: schema })
  await migrateToLatest(database)
  return {
    database,
    url: PG_URL,
    pgSchema: schema,
    async dispose() {
      await database.close()
      const cleanup = new pg.Client({ connectionString: PG_URL })
      await cleanup.connect()
      await cleanup.query(`drop schema if exists ${schema} cascade`)
      await cleanup.end()
    },
  }
}

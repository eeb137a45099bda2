/** SQLite checkpoints on a worker thread: the WAL stays bounded under writes, shrinks when idle, loses nothing. */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import BetterSqlite3 from 'better-sqlite3'
import { sql } from 'kysely'
import { startCheckpointWorker } from '../../src/storage/checkpoint-worker.js'
import { openDatabase } from '../../src/storage/database.js'
import { migrateToLatest } from '../../src/storage/migrate.js'
import { createTenant } from '../../src/tenancy/tenants.js'

const walSize = (file: string) => {
  try {
    return statSync(`${file}-wal`).size
  } catch {
    return 0
  }
}

async function until(what: string, condition: () => boolean, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

function withDir(work: (dir: string) => Promise<void>) {
  return async () => {
    const dir = mkdtempSync(join(tmpdir(), 'oc-checkpoint-'))
    try {
      await work(dir)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  }
}

describe('checkpoint worker', () => {
  it(
    'keeps the WAL bounded while writes go on, truncates it when they stop, and every row is in the file',
    withDir(async (dir) => {
      const file = join(dir, 'wal.db')
      const writer = new BetterSqlite3(file)
      writer.pragma('journal_mode = WAL')
      writer.pragma('wal_autocheckpoint = 0')
      writer.pragma('busy_timeout = 5000')
      writer.exec('create table t (id integer primary key, filler text)')
      const checkpointAt = 256 * 1024
      writer.pragma(`journal_size_limit = ${checkpointAt}`)
      let batches = 0
      const worker = startCheckpointWorker(
        file,
        'NORMAL',
        (error) => assert.fail(String(error)),
        checkpointAt,
      )
      try {
        const insert = writer.prepare('insert into t (filler) values (?)')
        const filler = 'x'.repeat(2000)
        // ~40 KiB a transaction, yielding between them (as a server does) so the thread gets its turns.
        const writeBatch = async () => {
          writer.transaction(() => {
            for (let i = 0; i < 20; i++) insert.run(filler)
          })()
          await new Promise((resolve) => setTimeout(resolve, 5))
        }
        // Until the thread has started and checkpointed (its start-up takes a moment on a busy machine).
        while (worker.counts.passive < 2) {
          await writeBatch()
          batches++
          assert.ok(batches < 5000, 'no checkpoint ran')
        }
        const reached = walSize(file)
        let largest = reached
        // 8 MiB more: without checkpoints the WAL would grow by all of it; checkpointed, it is reused.
        for (let i = 0; i < 200; i++) {
          await writeBatch()
          batches++
          largest = Math.max(largest, walSize(file))
        }
        assert.ok(
          largest - reached < 4 * 1024 * 1024,
          `the WAL stayed bounded (${reached} bytes once checkpoints ran, then at most ${largest})`,
        )
        await until('the idle WAL is truncated', () => worker.counts.truncate >= 1 && walSize(file) === 0)
      } finally {
        await worker.stop()
      }
      const rows = batches * 20
      assert.equal((writer.prepare('select count(*) as n from t').get() as { n: number }).n, rows)
      writer.close()
      const again = new BetterSqlite3(file, { readonly: true })
      assert.equal((again.prepare('select count(*) as n from t').get() as { n: number }).n, rows)
      again.close()
    }),
  )

  it(
    'tells the writer while a RESTART holds the write lock, and when it lets go',
    withDir(async (dir) => {
      const file = join(dir, 'held.db')
      // No busy wait: this thread also holds the reader that RESTART waits for.
      const writer = new BetterSqlite3(file, { timeout: 0 })
      writer.pragma('journal_mode = WAL')
      writer.pragma('wal_autocheckpoint = 0')
      writer.exec('create table t (id integer primary key, filler text)')
      const checkpointAt = 64 * 1024
      const worker = startCheckpointWorker(
        file,
        'NORMAL',
        (error) => assert.fail(String(error)),
        checkpointAt,
      )
      // A reader on an old snapshot: no checkpoint can copy past it, so the WAL grows to RESTART's
      // size, and RESTART then waits (holding the write lock) until the reader is done.
      const reader = new BetterSqlite3(file)
      reader.exec('begin')
      reader.prepare('select count(*) from t').get()
      try {
        assert.equal(worker.writerHeld(), null, 'nothing holds the lock yet')
        const insert = writer.prepare('insert into t (filler) values (?)')
        const filler = 'x'.repeat(2000)
        let held: Promise<unknown> | null = null
        const deadline = Date.now() + 15_000
        while (held === null) {
          assert.ok(Date.now() < deadline, 'no RESTART held the lock')
          // Until RESTART takes the lock; after that a write fails at once (SQLITE_BUSY, no busy wait).
          try {
            writer.transaction(() => {
              for (let i = 0; i < 10; i++) insert.run(filler)
            })()
          } catch (error) {
            assert.equal((error as { code?: string }).code, 'SQLITE_BUSY')
          }
          await new Promise((resolve) => setTimeout(resolve, 5))
          held = worker.writerHeld()
        }
        let settled = false
        void held.then(() => {
          settled = true
        })
        await new Promise((resolve) => setTimeout(resolve, 50))
        assert.equal(settled, false, 'still held while the reader keeps its snapshot')
        reader.exec('commit')
        assert.equal(await held, 'ok')
        await until('the RESTART is counted', () => worker.counts.restart >= 1)
        assert.equal(worker.writerHeld(), null)
      } finally {
        if (reader.inTransaction) reader.exec('commit')
        reader.close()
        await worker.stop()
        writer.close()
      }
    }),
  )

  it(
    'the service database with the worker: its connections never checkpoint, commits read back after reopening',
    withDir(async (dir) => {
      const url = `sqlite:${join(dir, 'service.db')}`
      const database = openDatabase(url, { sqliteCheckpointWorker: true })
      await migrateToLatest(database)
      await Promise.all(Array.from({ length: 20 }, (_, i) => createTenant(database, `tenant${i}`)))
      const { rows } = await sql<{ wal_autocheckpoint: number }>`pragma wal_autocheckpoint`.execute(
        database.db,
      )
      assert.equal(rows[0]?.wal_autocheckpoint, 0)
      await database.close()
      const reopened = openDatabase(url)
      const count = await reopened.db
        .selectFrom('tenants')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .executeTakeFirstOrThrow()
      assert.equal(Number(count.n), 20)
      await reopened.close()
    }),
  )
})

/** database.transaction under concurrency, on both dialects: every unit commits or fails alone (group commit on SQLite). */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import BetterSqlite3 from 'better-sqlite3'
import { Kysely, SqliteDialect, sql } from 'kysely'
import { type Database, isUniqueViolation, type Tx } from '../../src/storage/database.js'
import { directConnection, type StatementSource } from '../../src/storage/direct-sqlite.js'
import { GroupCommitter } from '../../src/storage/group-commit.js'
import { preparedQuery } from '../../src/storage/prepared-query.js'
import type { RequesterTable, Schema } from '../../src/storage/schema.js'
import { DIALECTS, freshDatabase, postgresAvailable, type TestDatabase } from '../helpers/databases.js'
import {
  countRows,
  insertRequesterRow,
  insertTenantRow,
  requesterEmails,
  requesterRow,
} from '../helpers/rows.js'

const pgUp = await postgresAvailable()

/** The same insert as insertRequesterRow, as a prepared query: inside a SQLite batch it runs on the connection directly. */
const insertPrepared = preparedQuery((db, row: RequesterTable) => db.insertInto('requesters').values(row))
const preparedRow = (trx: Tx, tenantId: string, email: string) =>
  insertPrepared(trx, requesterRow(tenantId, email))

for (const dialect of DIALECTS) {
  describe(`database.transaction (${dialect})`, {
    skip: dialect === 'postgres' && !pgUp && 'no PostgreSQL',
  }, () => {
    let testDb: TestDatabase
    let database: Database
    before(async () => {
      testDb = await freshDatabase(dialect)
      database = testDb.database
    })
    after(() => testDb.dispose())

    /** A tenant of its own per test, so counts start at 0. */
    async function tenant(): Promise<string> {
      return insertTenantRow(database)
    }

    it('commits many concurrent transactions, each resolving with its own value once committed', async () => {
      const tenantId = await tenant()
      const seenAtResolve: boolean[] = []
      const units = Array.from({ length: 100 }, (_, i) =>
        database
          .transaction(async (trx) => {
            await insertRequesterRow(trx, tenantId, `u${String(i).padStart(3, '0')}@x.com`)
            return i
          })
          .then(async (value) => {
            // Another connection sees the write as soon as the unit resolves: resolved means committed.
            const row = await database.db
              .selectFrom('requesters')
              .select('email')
              .where('tenant_id', '=', tenantId)
              .where('email_key', '=', `u${String(i).padStart(3, '0')}@x.com`)
              .executeTakeFirst()
            seenAtResolve.push(row !== undefined)
            return value
          }),
      )
      assert.deepEqual(
        await Promise.all(units),
        Array.from({ length: 100 }, (_, i) => i),
      )
      assert.equal(await countRows(database.db, 'requesters', tenantId), 100)
      assert.ok(seenAtResolve.every(Boolean))
    })

    it('rolls back only the writes of a unit that throws; the others commit', async () => {
      const tenantId = await tenant()
      const boom = new Error('boom')
      const results = await Promise.allSettled(
        Array.from({ length: 10 }, (_, i) =>
          database.transaction(async (trx) => {
            await insertRequesterRow(trx, tenantId, `a${i}@x.com`)
            if (i === 4) {
              await insertRequesterRow(trx, tenantId, `b${i}@x.com`)
              throw boom
            }
            await insertRequesterRow(trx, tenantId, `b${i}@x.com`)
            return i
          }),
        ),
      )
      for (const [i, result] of results.entries()) {
        if (i === 4) {
          assert.equal(result.status, 'rejected')
          assert.equal(result.status === 'rejected' && result.reason, boom, 'its own error')
        } else {
          assert.deepEqual(result, { status: 'fulfilled', value: i })
        }
      }
      const expected = [0, 1, 2, 3, 5, 6, 7, 8, 9].flatMap((i) => [`a${i}@x.com`, `b${i}@x.com`]).sort()
      assert.deepEqual(await requesterEmails(database.db, tenantId), expected)
    })

    it('keeps a unique violation to its unit: the others commit, even one with the same key before it', async () => {
      const tenantId = await tenant()
      await database.transaction((trx) => insertRequesterRow(trx, tenantId, 'taken@x.com'))
      const results = await Promise.allSettled([
        database.transaction((trx) => insertRequesterRow(trx, tenantId, 'one@x.com')),
        database.transaction(async (trx) => {
          await insertRequesterRow(trx, tenantId, 'written-first@x.com')
          await insertRequesterRow(trx, tenantId, 'taken@x.com')
        }),
        database.transaction((trx) => insertRequesterRow(trx, tenantId, 'twice@x.com')),
        database.transaction((trx) => insertRequesterRow(trx, tenantId, 'twice@x.com')),
        database.transaction((trx) => insertRequesterRow(trx, tenantId, 'two@x.com')),
      ])
      const statuses = results.map((result) => result.status)
      assert.deepEqual([statuses[0], statuses[1], statuses[4]], ['fulfilled', 'rejected', 'fulfilled'])
      // The two units with one key race (on PostgreSQL in any order): exactly one of them wins.
      assert.deepEqual([statuses[2], statuses[3]].sort(), ['fulfilled', 'rejected'])
      for (const result of results) {
        if (result.status === 'rejected') assert.ok(isUniqueViolation(result.reason), String(result.reason))
      }
      assert.deepEqual(await requesterEmails(database.db, tenantId), [
        'one@x.com',
        'taken@x.com',
        'twice@x.com',
        'two@x.com',
      ])
    })

    it('a lone failing unit writes nothing and rejects with its own error; later units still commit', async () => {
      const tenantId = await tenant()
      const own = new Error('alone')
      await assert.rejects(
        database.transaction(async (trx) => {
          await insertRequesterRow(trx, tenantId, 'lone@x.com')
          throw own
        }),
        (error: unknown) => error === own,
      )
      assert.deepEqual(await requesterEmails(database.db, tenantId), [])
      await database.transaction((trx) => insertRequesterRow(trx, tenantId, 'after@x.com'))
      assert.deepEqual(await requesterEmails(database.db, tenantId), ['after@x.com'])
    })

    it('lets a unit read its own writes and the committed writes of earlier units', async () => {
      const tenantId = await tenant()
      await database.transaction((trx) => insertRequesterRow(trx, tenantId, 'earlier@x.com'))
      const seen = await database.transaction(async (trx) => {
        await insertRequesterRow(trx, tenantId, 'mine@x.com')
        const rows = await trx
          .selectFrom('requesters')
          .select('email')
          .where('tenant_id', '=', tenantId)
          .execute()
        return rows.map((row) => row.email).sort()
      })
      assert.deepEqual(seen, ['earlier@x.com', 'mine@x.com'])
    })

    it("runs prepared statements in the unit's savepoint: rolled back with it, unique violations kept to it", async () => {
      const tenantId = await tenant()
      await database.transaction((trx) => preparedRow(trx, tenantId, 'taken@x.com'))
      const boom = new Error('boom')
      let batchTrx: Tx | undefined
      const results = await Promise.allSettled([
        database.transaction(async (trx) => {
          batchTrx = trx
          // Direct on SQLite: a batch's statements run on its connection, not through Kysely's queue.
          assert.equal(directConnection(trx) !== undefined, dialect === 'sqlite')
          await preparedRow(trx, tenantId, 'kept@x.com')
          const rows = await trx
            .selectFrom('requesters')
            .select('email')
            .where('tenant_id', '=', tenantId)
            .where('email', '=', 'kept@x.com')
            .execute()
          return rows.map((row) => row.email)
        }),
        database.transaction(async (trx) => {
          await preparedRow(trx, tenantId, 'prepared-then-thrown@x.com')
          await insertRequesterRow(trx, tenantId, 'kysely-then-thrown@x.com')
          throw boom
        }),
        database.transaction(async (trx) => {
          await preparedRow(trx, tenantId, 'before-clash@x.com')
          await preparedRow(trx, tenantId, 'taken@x.com')
        }),
        database.transaction((trx) => preparedRow(trx, tenantId, 'after@x.com')),
      ])
      assert.deepEqual(
        results[0],
        { status: 'fulfilled', value: ['kept@x.com'] },
        'a unit reads its own direct write',
      )
      assert.equal(results[1].status === 'rejected' && results[1].reason, boom)
      assert.ok(
        results[2].status === 'rejected' && isUniqueViolation(results[2].reason),
        'the clash is its own',
      )
      assert.equal(results[3].status, 'fulfilled')
      assert.deepEqual(await requesterEmails(database.db, tenantId), [
        'after@x.com',
        'kept@x.com',
        'taken@x.com',
      ])
      // Registered only while its batch holds the connection.
      assert.ok(batchTrx !== undefined)
      assert.equal(directConnection(batchTrx), undefined)
    })
  })
}

describe('group commit while another connection holds the write lock (the checkpoint thread)', () => {
  it('runs no statement until it lets go, keeps the event loop free meanwhile, and batches what arrived', async () => {
    const raw = new BetterSqlite3(':memory:')
    raw.exec('create table t (v text not null)')
    const statements: string[] = []
    const source: StatementSource = {
      prepare: (text) => {
        statements.push(text)
        return raw.prepare(text)
      },
    }
    let letGo = () => {}
    let held: Promise<void> | null = new Promise<void>((resolve) => {
      letGo = resolve
    })
    const db = new Kysely<Schema>({ dialect: new SqliteDialect({ database: raw }) })
    const committer = new GroupCommitter(db, source, () => held)
    const insert = (v: string) =>
      committer.run(async (trx) => {
        await sql`insert into t (v) values (${v})`.execute(trx)
        return v
      })
    const first = insert('first')
    // Turns of the event loop (timers, I/O: other requests being read) go on while the lock is held.
    let turns = 0
    while (turns < 5) {
      await new Promise((resolve) => setTimeout(resolve, 2))
      turns++
    }
    assert.equal(statements.length, 0, 'no BEGIN while the lock is held')
    const second = insert('second')
    held = null
    letGo()
    assert.deepEqual(await Promise.all([first, second]), ['first', 'second'])
    assert.equal(statements.filter((text) => text.startsWith('begin')).length, 1, 'both in one batch')
    assert.deepEqual(raw.prepare('select v from t order by v').all(), [{ v: 'first' }, { v: 'second' }])
    await db.destroy()
  })
})

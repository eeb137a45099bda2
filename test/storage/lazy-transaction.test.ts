/**
 * PostgreSQL's lazy transactions (src/storage/lazy-transaction.ts): the round trips they save never
 * change what commits. Counted by the statements pg sends; checked against the rows.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { CompiledQuery } from 'kysely'
import pg from 'pg'
import { type Database, isUniqueViolation } from '../../src/storage/database.js'
import { joinInserts } from '../../src/storage/lazy-transaction.js'
import { freshDatabase, postgresAvailable, type TestDatabase } from '../helpers/databases.js'
import { insertRequesterRow, insertTenantRow, requesterEmails } from '../helpers/rows.js'

const pgUp = await postgresAvailable()

describe('joinInserts', () => {
  it('numbers the parameters of each statement after those before it, the last statement outside the WITH', () => {
    const joined = joinInserts([
      CompiledQuery.raw('insert into a (x, y) values ($1, $2)', [1, 2]),
      CompiledQuery.raw('insert into b (x) values ($1)', [3]),
      CompiledQuery.raw('insert into c (x, y) values ($1, $2)', [4, 5]),
    ])
    assert.equal(
      joined.sql,
      'with w0 as (insert into a (x, y) values ($1, $2)), w1 as (insert into b (x) values ($3)) insert into c (x, y) values ($4, $5)',
    )
    assert.deepEqual(joined.parameters, [1, 2, 3, 4, 5])
  })
  it('leaves a lone statement as it is', () => {
    assert.deepEqual(joinInserts([CompiledQuery.raw('insert into a (x) values ($1)', [1])]), {
      sql: 'insert into a (x) values ($1)',
      parameters: [1],
    })
  })
})

describe('lazy transactions (postgres)', { skip: !pgUp && 'no PostgreSQL' }, () => {
  let testDb: TestDatabase
  let database: Database
  /** The statements pg sent since the last reset, as their first words. */
  const sent: string[] = []
  const original = pg.Client.prototype.query
  before(async () => {
    testDb = await freshDatabase('postgres')
    database = testDb.database
    pg.Client.prototype.query = function counted(this: pg.Client, ...args: unknown[]) {
      const config = args[0] as string | { text?: string }
      const text = typeof config === 'string' ? config : (config?.text ?? '')
      sent.push(text.split(/\s+/).slice(0, 2).join(' ').toLowerCase())
      return (original as (...a: unknown[]) => unknown).apply(this, args)
    } as typeof original
  })
  after(async () => {
    pg.Client.prototype.query = original
    await testDb.dispose()
  })

  it('a read and three inserts: the read alone, the inserts as one statement, no BEGIN or COMMIT', async () => {
    const tenantId = await insertTenantRow(database)
    sent.length = 0
    const result = await database.transaction(async (trx) => {
      const before = await trx
        .selectFrom('requesters')
        .select('email')
        .where('tenant_id', '=', tenantId)
        .execute()
      const inserted = await insertRequesterRow(trx, tenantId, 'a@x.example')
      await insertRequesterRow(trx, tenantId, 'b@x.example')
      await insertRequesterRow(trx, tenantId, 'c@x.example')
      return { before: before.length, affected: inserted[0]?.numInsertedOrUpdatedRows }
    })
    assert.deepEqual(result, { before: 0, affected: 1n })
    assert.deepEqual(sent, ['select "email"', 'with w0'])
    assert.deepEqual(await requesterEmails(database.db, tenantId), [
      'a@x.example',
      'b@x.example',
      'c@x.example',
    ])
  })

  it('one failing insert of the joined statement: none of them is written, the caller sees the unique violation', async () => {
    const tenantId = await insertTenantRow(database)
    await database.transaction((trx) => insertRequesterRow(trx, tenantId, 'taken@x.example'))
    await assert.rejects(
      database.transaction(async (trx) => {
        await insertRequesterRow(trx, tenantId, 'new@x.example')
        await insertRequesterRow(trx, tenantId, 'taken@x.example')
      }),
      (error: unknown) => isUniqueViolation(error),
    )
    assert.deepEqual(await requesterEmails(database.db, tenantId), ['taken@x.example'])
  })

  it('an update opens a real transaction: held inserts go first, a later failure rolls everything back', async () => {
    const tenantId = await insertTenantRow(database)
    sent.length = 0
    await assert.rejects(
      database.transaction(async (trx) => {
        await insertRequesterRow(trx, tenantId, 'held@x.example')
        await trx.updateTable('tenants').set({ next_ticket_number: 7 }).where('id', '=', tenantId).execute()
        throw new Error('the work fails after its writes')
      }),
      /the work fails/,
    )
    assert.deepEqual(sent.slice(0, 3), ['begin', 'insert into', 'update "tenants"'])
    assert.equal(sent.at(-1), 'rollback')
    assert.deepEqual(await requesterEmails(database.db, tenantId), [])
    const row = await database.db
      .selectFrom('tenants')
      .select('next_ticket_number')
      .where('id', '=', tenantId)
      .executeTakeFirst()
    assert.equal(row?.next_ticket_number, 1)
  })

  it('a read after a held insert sees it (the transaction opens, the insert is sent first)', async () => {
    const tenantId = await insertTenantRow(database)
    const seen = await database.transaction(async (trx) => {
      await insertRequesterRow(trx, tenantId, 'mine@x.example')
      const rows = await trx
        .selectFrom('requesters')
        .select('email')
        .where('tenant_id', '=', tenantId)
        .execute()
      return rows.map((r) => r.email)
    })
    assert.deepEqual(seen, ['mine@x.example'])
  })

  it('SELECT … FOR UPDATE locks inside the transaction: a second writer of the row waits for the commit', async () => {
    const tenantId = await insertTenantRow(database)
    const order: string[] = []
    let locked = () => {}
    const isLocked = new Promise<void>((resolve) => {
      locked = resolve
    })
    const first = database.transaction(async (trx) => {
      await trx.selectFrom('tenants').select('id').where('id', '=', tenantId).forUpdate().execute()
      locked()
      await new Promise((resolve) => setTimeout(resolve, 300))
      order.push('first commits')
      await trx.updateTable('tenants').set({ next_ticket_number: 2 }).where('id', '=', tenantId).execute()
    })
    await isLocked
    const second = database.transaction(async (trx) => {
      await trx.updateTable('tenants').set({ next_ticket_number: 3 }).where('id', '=', tenantId).execute()
      order.push('second wrote')
    })
    await Promise.all([first, second])
    assert.deepEqual(order, ['first commits', 'second wrote'])
  })

  it('nothing written: no statement at all', async () => {
    sent.length = 0
    assert.equal(await database.transaction(async () => 42), 42)
    assert.deepEqual(sent, [])
  })
})

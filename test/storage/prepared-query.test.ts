/** preparedQuery on both dialects: compiled once, right values every call, misuse caught, plugins respected. */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { type KyselyPlugin, sql } from 'kysely'
import type { Database } from '../../src/storage/database.js'
import { preparedQuery } from '../../src/storage/prepared-query.js'
import type { RequesterTable } from '../../src/storage/schema.js'
import { DIALECTS, freshDatabase, postgresAvailable, type TestDatabase } from '../helpers/databases.js'
import { insertTenantRow } from '../helpers/rows.js'

const pgUp = await postgresAvailable()

for (const dialect of DIALECTS) {
  describe(`preparedQuery (${dialect})`, { skip: dialect === 'postgres' && !pgUp && 'no PostgreSQL' }, () => {
    let testDb: TestDatabase
    let database: Database
    before(async () => {
      testDb = await freshDatabase(dialect)
      database = testDb.database
    })
    after(() => testDb.dispose())

    async function tenant(): Promise<string> {
      return insertTenantRow(database, 7)
    }

    function requester(tenantId: string, email: string, name: string | null): RequesterTable {
      return {
        tenant_id: tenantId,
        email_key: email.toLowerCase(),
        email,
        name,
        created_at: '2026-01-01T00:00:00Z',
      }
    }

    it('builds the query once per connection and binds each call its own values', async () => {
      let builds = 0
      const insert = preparedQuery((db, row: RequesterTable) => {
        builds++
        return db.insertInto('requesters').values(row)
      })
      const find = preparedQuery((db, p: { tenantId: string; emailKey: string }) => {
        builds++
        return db
          .selectFrom('requesters')
          .select(['email', 'name'])
          .where('tenant_id', '=', p.tenantId)
          .where('email_key', '=', p.emailKey)
      })
      const tenantId = await tenant()
      for (const email of ['a@x.com', 'b@x.com', 'c@x.com'])
        await database.transaction((trx) => insert(trx, requester(tenantId, email, `name ${email}`)))
      for (const email of ['a@x.com', 'b@x.com', 'c@x.com'])
        assert.deepEqual(await find(database.db, { tenantId, emailKey: email }), [
          { email, name: `name ${email}` },
        ])
      assert.deepEqual(await find(database.db, { tenantId, emailKey: 'nobody@x.com' }), [])
      // One build for the insert and one for the select (SQLite: its write and read connections differ, still one each).
      assert.equal(builds, 2)
    })

    it('keeps constants of the query and fills a parameter used twice', async () => {
      const tenantId = await tenant()
      const other = await tenant()
      const bump = preparedQuery((db, p: { tenantId: string }) =>
        db
          .updateTable('tenants')
          .set((eb) => ({ next_ticket_number: eb('next_ticket_number', '+', 3) }))
          .where('id', '=', p.tenantId)
          .returning('next_ticket_number'),
      )
      assert.deepEqual(await database.transaction((trx) => bump(trx, { tenantId })), [
        { next_ticket_number: 10 },
      ])
      assert.deepEqual(await database.transaction((trx) => bump(trx, { tenantId })), [
        { next_ticket_number: 13 },
      ])
      assert.deepEqual(await database.transaction((trx) => bump(trx, { tenantId: other })), [
        { next_ticket_number: 10 },
      ])

      const either = preparedQuery((db, p: { tenantId: string; a: string; b: string }) =>
        db
          .selectFrom('requesters')
          .select('email')
          .where((eb) =>
            eb.or([
              eb.and([eb('tenant_id', '=', p.tenantId), eb('email_key', '=', p.a)]),
              eb.and([eb('tenant_id', '=', p.tenantId), eb('email_key', '=', p.b)]),
            ]),
          )
          .orderBy('email'),
      )
      await database.transaction(async (trx) => {
        await trx
          .insertInto('requesters')
          .values(requester(tenantId, 'a@x.com', null))
          .execute()
        await trx
          .insertInto('requesters')
          .values(requester(tenantId, 'b@x.com', null))
          .execute()
        await trx
          .insertInto('requesters')
          .values(requester(other, 'a@x.com', null))
          .execute()
      })
      assert.deepEqual(await either(database.db, { tenantId, a: 'a@x.com', b: 'b@x.com' }), [
        { email: 'a@x.com' },
        { email: 'b@x.com' },
      ])
      assert.deepEqual(await either(database.db, { tenantId: other, a: 'a@x.com', b: 'b@x.com' }), [
        { email: 'a@x.com' },
      ])
    })

    it('binds an undefined value as null', async () => {
      const tenantId = await tenant()
      const insert = preparedQuery((db, row: RequesterTable) => db.insertInto('requesters').values(row))
      await database.transaction((trx) => insert(trx, requester(tenantId, 'a@x.com', 'Ann')))
      const row = { ...requester(tenantId, 'b@x.com', null), name: undefined as unknown as null }
      await database.transaction((trx) => insert(trx, row))
      const names = await database.db
        .selectFrom('requesters')
        .select(['email', 'name'])
        .where('tenant_id', '=', tenantId)
        .orderBy('email')
        .execute()
      assert.deepEqual(names, [
        { email: 'a@x.com', name: 'Ann' },
        { email: 'b@x.com', name: null },
      ])
    })

    it('throws on first use when a value is changed inside build', async () => {
      const tenantId = await tenant()
      const lowered = preparedQuery((db, p: { email: string }) =>
        db.selectFrom('requesters').select('email').where('email_key', '=', p.email.toLowerCase()),
      )
      await assert.rejects(lowered(database.db, { email: 'A@x.com' }), /parameter was changed/)
      const trimmed = preparedQuery((db, p: { email: string }) =>
        db.selectFrom('requesters').select('email').where('email_key', '=', p.email.trim()),
      )
      await assert.rejects(trimmed(database.db, { email: 'a@x.com' }), /parameter was changed/)
      const templated = preparedQuery((db, p: { tenantId: string }) =>
        db.selectFrom('requesters').select('email').where('email_key', '=', `x-${p.tenantId}`),
      )
      await assert.rejects(templated(database.db, { tenantId }), /parameter was changed/)
    })

    it('throws on first use when a value is written into the SQL text', async () => {
      const inlined = preparedQuery((db, p: { email: string }) =>
        db
          .selectFrom('requesters')
          .select('email')
          .where('email_key', '=', sql.raw<string>(`'${p.email}'`)),
      )
      await assert.rejects(inlined(database.db, { email: 'a@x.com' }), /written into the SQL text/)
    })

    it('builds every time on a Kysely with plugins, and the plugin sees each query', async () => {
      const tenantId = await tenant()
      await database.transaction((trx) =>
        trx
          .insertInto('requesters')
          .values(requester(tenantId, 'a@x.com', 'Ann'))
          .execute(),
      )
      let seen = 0
      const counting: KyselyPlugin = {
        transformQuery: ({ node }) => {
          seen++
          return node
        },
        transformResult: async ({ result }) => result,
      }
      const find = preparedQuery((db, p: { tenantId: string }) =>
        db.selectFrom('requesters').select('name').where('tenant_id', '=', p.tenantId),
      )
      const withPlugin = database.db.withPlugin(counting)
      assert.deepEqual(await find(withPlugin, { tenantId }), [{ name: 'Ann' }])
      assert.deepEqual(await find(withPlugin, { tenantId }), [{ name: 'Ann' }])
      assert.equal(seen, 2)
    })
  })
}

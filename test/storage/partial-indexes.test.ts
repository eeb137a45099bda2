/**
 * The indexes over mostly-empty columns are partial (migration 010), and the queries that filter on
 * those columns still use them, on both databases. Uniqueness of the dedupe key is unchanged: two
 * tickets may leave it empty, two may not share a value.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { type Compilable, CompiledQuery, sql } from 'kysely'
import { newId } from '../../src/ids.js'
import { type Database, isUniqueViolation } from '../../src/storage/database.js'
import { DIALECTS, freshDatabase, postgresAvailable, type TestDatabase } from '../helpers/databases.js'
import { insertTenantRow } from '../helpers/rows.js'

const pgUp = await postgresAvailable()

const PARTIAL = ['deliveries_tenant_destination', 'deliveries_replay_of', 'tickets_dedupe']

for (const dialect of DIALECTS) {
  describe(`partial indexes (${dialect})`, {
    skip: dialect === 'postgres' && !pgUp && 'no PostgreSQL',
  }, () => {
    let testDb: TestDatabase
    let database: Database
    let tenantId: string
    before(async () => {
      testDb = await freshDatabase(dialect)
      database = testDb.database
      tenantId = await insertTenantRow(database)
      await seedRealisticLog()
    })
    after(() => testDb.dispose())

    /** The definition of each index, as the database keeps it. */
    async function definitions(): Promise<Map<string, string>> {
      const rows =
        dialect === 'sqlite'
          ? await sql<{ name: string; definition: string }>`
              select name, sql as definition from sqlite_master where type = 'index' and sql is not null`.execute(
              database.db,
            )
          : await sql<{ name: string; definition: string }>`
              select indexname as name, indexdef as definition from pg_indexes where schemaname = current_schema()`.execute(
              database.db,
            )
      return new Map(rows.rows.map((row) => [row.name, row.definition]))
    }

    /**
     * A log as a busy tenant has it: thousands of createticket entries and tickets with no destination,
     * replay or dedupe key, a few with; then statistics, so each planner chooses as it would in production.
     */
    async function seedRealisticLog(): Promise<void> {
      const at = '2026-12-01T00:00:00.000Z'
      for (let chunk = 0; chunk < 15; chunk++) {
        const deliveries = Array.from({ length: 200 }, (_, i) => {
          const sparse = chunk === 0 && i < 5
          return {
            id: newId('dlv'),
            tenant_id: tenantId,
            endpoint: sparse ? 'adduser' : 'createticket',
            destination_id: sparse ? 'some-plugin-id' : null,
            principal: null,
            status_code: 201,
            error: null,
            reason: null,
            ticket_number: null,
            user_id: null,
            request_id: `req-${chunk}-${i}`,
            idempotency_key: null,
            duration_ms: 1,
            request_body: '{}',
            request_body_note: null,
            replay_of: sparse ? 'dlv_a' : null,
            created_at: at,
          }
        })
        const tickets = Array.from({ length: 200 }, (_, i) => ticket(1000 + chunk * 200 + i, null))
        await database.transaction(async (trx) => {
          await trx.insertInto('deliveries').values(deliveries).execute()
          await trx.insertInto('tickets').values(tickets).execute()
        })
      }
      await sql`analyze`.execute(database.db)
    }

    function ticket(number: number, dedupeKey: string | null) {
      return {
        id: newId('tkt'),
        tenant_id: tenantId,
        number,
        subject: 's',
        priority: 'normal',
        requester_email: 'a@b.c',
        external_id: null,
        source: 'generic',
        dedupe_key: dedupeKey,
        source_fields: '{}',
        backend: 'builtin',
        created_at: '2026-12-01T00:00:00.000Z',
        updated_at: '2026-12-01T00:00:00.000Z',
      }
    }

    /** The plan of `query`, as text naming the indexes it reads. */
    async function indexesUsedBy(query: Compilable<unknown>): Promise<string> {
      const { sql: text, parameters } = query.compile()
      if (dialect === 'sqlite') {
        const plan = await database.db.executeQuery<{ detail: string }>(
          CompiledQuery.raw(`explain query plan ${text}`, [...parameters]),
        )
        return plan.rows.map((row) => row.detail).join('\n')
      }
      const plan = await database.db.executeQuery<{ 'QUERY PLAN': string }>(
        CompiledQuery.raw(`explain ${text}`, [...parameters]),
      )
      return plan.rows.map((row) => row['QUERY PLAN']).join('\n')
    }

    it('keeps only the rows with a value in the three sparse indexes', async () => {
      const defs = await definitions()
      for (const name of PARTIAL) {
        const definition = defs.get(name)
        assert.ok(definition !== undefined, `${name} exists`)
        assert.match(definition, /where .* is not null/i, `${name} is partial: ${definition}`)
      }
      assert.match(defs.get('tickets_dedupe') ?? '', /unique/i)
    })

    it('answers the delivery log filtered by destination from its index', async () => {
      const plan = await indexesUsedBy(
        database.db
          .selectFrom('deliveries')
          .selectAll()
          .where('tenant_id', '=', tenantId)
          .where('destination_id', '=', 'some-plugin-id')
          .orderBy('id', 'desc')
          .limit(100),
      )
      assert.match(plan, /deliveries_tenant_destination/)
    })

    it('finds the replays of a page of deliveries from its index', async () => {
      const plan = await indexesUsedBy(
        database.db
          .selectFrom('deliveries')
          .select(['id', 'replay_of', 'status_code'])
          .where('tenant_id', '=', tenantId)
          .where('replay_of', 'in', ['dlv_a', 'dlv_b'])
          .orderBy('id'),
      )
      assert.match(plan, /deliveries_replay_of/)
    })

    it('finds a ticket by its dedupe key from its index, and the key stays unique per tenant', async () => {
      const plan = await indexesUsedBy(
        database.db
          .selectFrom('tickets')
          .selectAll()
          .where('tenant_id', '=', tenantId)
          .where('dedupe_key', '=', 'INC0010001'),
      )
      assert.match(plan, /tickets_dedupe/)

      await database.transaction((trx) =>
        trx
          .insertInto('tickets')
          .values([ticket(1, null), ticket(2, null), ticket(3, 'INC1')])
          .execute(),
      )
      const clash = await database
        .transaction((trx) => trx.insertInto('tickets').values(ticket(4, 'INC1')).execute())
        .then(
          () => null,
          (error: unknown) => error,
        )
      assert.ok(isUniqueViolation(clash), `a second INC1 is refused: ${String(clash)}`)
      const rows = await database.db
        .selectFrom('tickets')
        .select('number')
        .where('tenant_id', '=', tenantId)
        .where('number', '<', 1000)
        .orderBy('number')
        .execute()
      assert.deepEqual(
        rows.map((row) => row.number),
        [1, 2, 3],
      )
    })
  })
}

/**
 * The indexes over mostly-empty columns are partial (migration 010), and the queries that filter on
 * those columns still use them, on both databases. Uniqueness of the dedupe key is unchanged: two
 * tickets may leave it empty, two may not share a value.
 */
import assert from 'node:assert/strict'
import { it } from 'node:test'
import { type Compilable, CompiledQuery, sql } from 'kysely'
import { recordDelivery } from '../../src/deliveries/deliveries.js'
import { isUniqueViolation } from '../../src/storage/database.js'
import { ticketRow } from '../../src/support/tickets.js'
import { onEachDatabase, type Suite } from '../helpers/suite.js'

const PARTIAL = ['deliveries_tenant_destination', 'deliveries_replay_of', 'tickets_dedupe']

/** A generic ticket's row as the service writes it, with the given number and dedupe key. */
function ticket(tenantId: string, number: number, dedupeKey: string | null) {
  const command = {
    source: 'generic' as const,
    subject: 's',
    requesterEmail: 'a@b.c',
    priority: 'normal' as const,
    firstComment: '',
    externalId: null,
    dedupeKey,
    fields: {},
  }
  return ticketRow(tenantId, command, 'builtin', number)
}

/**
 * A log as a busy tenant has it: thousands of createticket entries and tickets with no destination,
 * replay or dedupe key, a few with; then statistics, so each planner chooses as it would in production.
 */
async function seedRealisticLog(s: Suite): Promise<void> {
  const tenantId = s.acme.tenant.id
  for (let chunk = 0; chunk < 15; chunk++) {
    await s.services.database.transaction(async (trx) => {
      for (let i = 0; i < 200; i++) {
        const sparse = chunk === 0 && i < 5
        await recordDelivery(trx, {
          tenantId,
          endpoint: sparse ? 'adduser' : 'createticket',
          destinationId: sparse ? 'some-plugin-id' : null,
          principal: null,
          statusCode: 201,
          error: null,
          requestId: `req-${chunk}-${i}`,
          durationMs: 1,
          requestBody: {},
          replayOf: sparse ? 'dlv_a' : null,
        })
      }
      const tickets = Array.from({ length: 200 }, (_, i) => ticket(tenantId, 1000 + chunk * 200 + i, null))
      await trx.insertInto('tickets').values(tickets).execute()
    })
  }
  await sql`analyze`.execute(s.db)
}

onEachDatabase('partial indexes', { tenants: ['acme'], setup: seedRealisticLog }, (s) => {
  const tenantId = () => s.acme.tenant.id

  /** The definition of each index, as the database keeps it. */
  async function definitions(): Promise<Map<string, string>> {
    const rows =
      s.dialect === 'sqlite'
        ? await sql<{ name: string; definition: string }>`
            select name, sql as definition from sqlite_master where type = 'index' and sql is not null`.execute(
            s.db,
          )
        : await sql<{ name: string; definition: string }>`
            select indexname as name, indexdef as definition from pg_indexes where schemaname = current_schema()`.execute(
            s.db,
          )
    return new Map(rows.rows.map((row) => [row.name, row.definition]))
  }

  /** The plan of `query`, as text naming the indexes it reads. */
  async function indexesUsedBy(query: Compilable<unknown>): Promise<string> {
    const { sql: text, parameters } = query.compile()
    if (s.dialect === 'sqlite') {
      const plan = await s.db.executeQuery<{ detail: string }>(
        CompiledQuery.raw(`explain query plan ${text}`, [...parameters]),
      )
      return plan.rows.map((row) => row.detail).join('\n')
    }
    const plan = await s.db.executeQuery<{ 'QUERY PLAN': string }>(
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
      s.db
        .selectFrom('deliveries')
        .selectAll()
        .where('tenant_id', '=', tenantId())
        .where('destination_id', '=', 'some-plugin-id')
        .orderBy('id', 'desc')
        .limit(100),
    )
    assert.match(plan, /deliveries_tenant_destination/)
  })

  it('finds the replays of a page of deliveries from its index', async () => {
    const plan = await indexesUsedBy(
      s.db
        .selectFrom('deliveries')
        .select(['id', 'replay_of', 'status_code'])
        .where('tenant_id', '=', tenantId())
        .where('replay_of', 'in', ['dlv_a', 'dlv_b'])
        .orderBy('id'),
    )
    assert.match(plan, /deliveries_replay_of/)
  })

  it('finds a ticket by its dedupe key from its index, and the key stays unique per tenant', async () => {
    const plan = await indexesUsedBy(
      s.db
        .selectFrom('tickets')
        .selectAll()
        .where('tenant_id', '=', tenantId())
        .where('dedupe_key', '=', 'INC0010001'),
    )
    assert.match(plan, /tickets_dedupe/)

    await s.services.database.transaction((trx) =>
      trx
        .insertInto('tickets')
        .values([ticket(tenantId(), 1, null), ticket(tenantId(), 2, null), ticket(tenantId(), 3, 'INC1')])
        .execute(),
    )
    const clash = await s.services.database
      .transaction((trx) =>
        trx
          .insertInto('tickets')
          .values(ticket(tenantId(), 4, 'INC1'))
          .execute(),
      )
      .then(
        () => null,
        (error: unknown) => error,
      )
    assert.ok(isUniqueViolation(clash), `a second INC1 is refused: ${String(clash)}`)
    const rows = await s.db
      .selectFrom('tickets')
      .select('number')
      .where('tenant_id', '=', tenantId())
      .where('number', '<', 1000)
      .orderBy('number')
      .execute()
    assert.deepEqual(
      rows.map((row) => row.number),
      [1, 2, 3],
    )
  })
})

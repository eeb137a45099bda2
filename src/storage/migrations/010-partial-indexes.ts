/**
 * Indexes over columns that most rows leave empty, made partial: they hold only the rows that have a
 * value, so the webhook hot path (a createticket has no destination, no replay, no dedupe key) no
 * longer writes to them. Every query that uses them compares the column to a value, which implies it
 * is not null, so both databases still choose them (test/storage/partial-indexes.test.ts shows it).
 * A unique index never compared nulls anyway: the dedupe key's uniqueness is unchanged.
 */
import { type Kysely, sql } from 'kysely'

/** Each index as 007 and 001 made it, and the column whose value puts a row in it. */
const INDEXES: Array<[name: string, table: string, columns: string[], sparse: string, unique: boolean]> = [
  [
    'deliveries_tenant_destination',
    'deliveries',
    ['tenant_id', 'destination_id', 'id'],
    'destination_id',
    false,
  ],
  ['deliveries_replay_of', 'deliveries', ['tenant_id', 'replay_of'], 'replay_of', false],
  ['tickets_dedupe', 'tickets', ['tenant_id', 'dedupe_key'], 'dedupe_key', true],
]

// biome-ignore lint/suspicious/noExplicitAny: migrations must not depend on the current schema type
export async function up(db: Kysely<any>): Promise<void> {
  for (const [name, table, columns, sparse, unique] of INDEXES) {
    await db.schema.dropIndex(name).execute()
    const index = db.schema.createIndex(name).on(table).columns(columns)
    await (unique ? index.unique() : index).where(sql.ref(sparse), 'is not', null).execute()
  }
}

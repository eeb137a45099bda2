/** A note on delivery-log bodies that were not kept as received, and the row /readyz writes to prove the database takes writes. */
import type { Kysely } from 'kysely'

// Kysely<any> is the documented type for migrations: they must not depend on the current schema type.
// biome-ignore lint/suspicious/noExplicitAny: see above
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('deliveries').addColumn('request_body_note', 'text').execute()
  await db.schema
    .createTable('readiness_probe')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('at', 'text', (c) => c.notNull())
    .addColumn('filler', 'text')
    .execute()
}

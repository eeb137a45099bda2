/** The mass-termination safeguard: terminations applied per destination (the rolling hour) and the ones held for an administrator. */
import type { Kysely } from 'kysely'

// Kysely<any> is the documented type for migrations: they must not depend on the current schema type.
// biome-ignore lint/suspicious/noExplicitAny: see above
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('hr_terminations')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('destination_id', 'text', (c) => c.notNull())
    .addColumn('user_id', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute()
  await db.schema
    .createIndex('hr_terminations_window')
    .on('hr_terminations')
    .columns(['tenant_id', 'destination_id', 'created_at'])
    .execute()

  await db.schema
    .createTable('held_changes')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('destination_id', 'text', (c) => c.notNull())
    .addColumn('user_id', 'text', (c) => c.notNull())
    .addColumn('company_id', 'text', (c) => c.notNull())
    .addColumn('employee_id', 'text', (c) => c.notNull())
    .addColumn('delivery_id', 'text')
    .addColumn('reason', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute()
  await db.schema
    .createIndex('held_changes_destination')
    .on('held_changes')
    .columns(['tenant_id', 'destination_id', 'id'])
    .execute()
  await db.schema.createIndex('held_changes_tenant').on('held_changes').columns(['tenant_id', 'id']).execute()
}

/**
 * The retention sweeper finds old rows of every table that grows by its time column, across all
 * tenants: each such table gets an index on that column (the delivery log's and idempotency records'
 * come with the list indexes).
 */
import type { Kysely } from 'kysely'

const INDEXES: Array<[name: string, table: string, column: string]> = [
  ['audit_log_created', 'audit_log', 'created_at'],
  ['user_history_created', 'user_history', 'created_at'],
  ['held_changes_created', 'held_changes', 'created_at'],
  ['hr_terminations_created', 'hr_terminations', 'created_at'],
]

// Kysely<any> is the documented type for migrations: they must not depend on the current schema type.
// biome-ignore lint/suspicious/noExplicitAny: see above
export async function up(db: Kysely<any>): Promise<void> {
  for (const [name, table, column] of INDEXES)
    await db.schema.createIndex(name).on(table).column(column).execute()
}

/**
 * Indexes for the paged, filtered lists and for retention. Every list pages on its id (ids sort by
 * creation time), so each filter gets an index that ends in the id: a page is one index range read
 * however deep it is. The retention sweeper finds old rows by created_at across all tenants.
 */
import type { Kysely } from 'kysely'

const INDEXES: Array<[name: string, table: string, columns: string[]]> = [
  ['deliveries_tenant_id', 'deliveries', ['tenant_id', 'id']],
  ['deliveries_tenant_endpoint', 'deliveries', ['tenant_id', 'endpoint', 'id']],
  ['deliveries_tenant_destination', 'deliveries', ['tenant_id', 'destination_id', 'id']],
  ['deliveries_replay_of', 'deliveries', ['tenant_id', 'replay_of']],
  ['deliveries_created', 'deliveries', ['created_at']],
  ['tickets_tenant_id', 'tickets', ['tenant_id', 'id']],
  ['tickets_tenant_source', 'tickets', ['tenant_id', 'source', 'id']],
  ['users_tenant_status', 'users', ['tenant_id', 'status', 'id']],
  ['users_tenant_destination', 'users', ['tenant_id', 'destination_id', 'id']],
  ['idempotency_keys_created', 'idempotency_keys', ['created_at']],
]

// Kysely<any> is the documented type for migrations: they must not depend on the current schema type.
// biome-ignore lint/suspicious/noExplicitAny: see above
export async function up(db: Kysely<any>): Promise<void> {
  for (const [name, table, columns] of INDEXES) {
    await db.schema.createIndex(name).on(table).columns(columns).execute()
  }
}

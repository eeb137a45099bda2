/** Counting a tenant's rows straight from the database, to prove what a call did or did not change. */
import type { Db } from '../../src/storage/database.js'

type TenantTableName = 'tickets' | 'ticket_comments' | 'deliveries' | 'idempotency_keys' | 'requesters'

/**
 * How many rows of `table` belong to the tenant.
 *
 * @example assert.equal(await countRows(db, 'tickets', tenant.id), 1)
 */
export async function countRows(db: Db, table: TenantTableName, tenantId: string): Promise<number> {
  const row = await db
    .selectFrom(table)
    .select((eb) => eb.fn.countAll<number | string | bigint>().as('n'))
    .where('tenant_id', '=', tenantId)
    .executeTakeFirstOrThrow()
  return Number(row.n)
}

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

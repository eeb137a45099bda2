/** Counting a tenant's rows straight from the database, to prove what a call did or did not change. */
import { newId } from '../../src/ids.js'
import type { Database, Db } from '../../src/storage/database.js'

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

/**
 * A tenant row of its own (a fresh id and name), for storage tests below the domain functions.
 *
 * @example const tenantId = await insertTenantRow(database)
 */
export async function insertTenantRow(database: Database, nextTicketNumber = 1): Promise<string> {
  const id = newId('ten')
  await database.transaction((trx) =>
    trx
      .insertInto('tenants')
      .values({
        id,
        name: id.replace('_', '-').toLowerCase(),
        support_backend: 'builtin',
        support_settings: '{}',
        next_ticket_number: nextTicketNumber,
        created_at: new Date().toISOString(),
      })
      .execute(),
  )
  return id
}

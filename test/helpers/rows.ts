/** Counting a tenant's rows straight from the database, to prove what a call did or did not change. */
import { newId } from '../../src/ids.js'
import type { Database, Db, Tx } from '../../src/storage/database.js'
import type { RequesterTable } from '../../src/storage/schema.js'

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

/** A requester row (unique per tenant and email) for the storage tests' plain inserts. */
export function requesterRow(tenantId: string, email: string): RequesterTable {
  return { tenant_id: tenantId, email_key: email, email, name: null, created_at: new Date().toISOString() }
}

/**
 * A requester row inserted with `trx`, for storage tests that need a plain insert (unique per tenant and email).
 *
 * @example await database.transaction((trx) => insertRequesterRow(trx, tenantId, 'a@x.example'))
 */
export function insertRequesterRow(trx: Tx, tenantId: string, email: string) {
  return trx.insertInto('requesters').values(requesterRow(tenantId, email)).execute()
}

/** The tenant's requester emails, sorted: what the storage tests' transactions committed. */
export async function requesterEmails(db: Db, tenantId: string): Promise<string[]> {
  const rows = await db
    .selectFrom('requesters')
    .select('email')
    .where('tenant_id', '=', tenantId)
    .orderBy('email')
    .execute()
  return rows.map((row) => row.email)
}

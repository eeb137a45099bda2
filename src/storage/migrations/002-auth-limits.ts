/** Failure counts every instance shares (PostgreSQL), and refused webhook calls counted per tenant and hour. */
import { type Kysely, sql } from 'kysely'

/** The table the failure limiter counts in on PostgreSQL (src/auth/limiter-store.ts names it too). */
export const AUTH_LIMITS_TABLE = 'auth_limits'

// Kysely<any> is the documented type for migrations: they must not depend on the current schema type.
// biome-ignore lint/suspicious/noExplicitAny: see above
export async function up(db: Kysely<any>): Promise<void> {
  // rate-limiter-flexible's RateLimiterPostgres layout (key, points, expire in epoch ms), made here rather
  // than by the library at run time. UNLOGGED: a count that lasts a minute or an hour needs no WAL, so
  // a failed attempt costs no fsync; a crash forgets the counts, which is what their windows do anyway.
  // SQLite counts in memory (one process), so it gets no such table.
  if (await isPostgres(db)) {
    await db.schema
      .createTable(AUTH_LIMITS_TABLE)
      .modifyFront(sql`unlogged`)
      .addColumn('key', 'varchar(255)', (c) => c.primaryKey())
      .addColumn('points', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('expire', 'bigint')
      .execute()
    await db.schema.createIndex('auth_limits_expire').on(AUTH_LIMITS_TABLE).column('expire').execute()
  }

  await db.schema
    .createTable('refused_calls')
    .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id'))
    // The hour, as an ISO time truncated to the hour (`2025-01-31T14:00:00.000Z`).
    .addColumn('hour', 'text', (c) => c.notNull())
    .addColumn('endpoint', 'text', (c) => c.notNull())
    .addColumn('refused', 'integer', (c) => c.notNull())
    .addPrimaryKeyConstraint('refused_calls_pk', ['tenant_id', 'hour', 'endpoint'])
    .execute()
  await db.schema.createIndex('refused_calls_hour').on('refused_calls').column('hour').execute()
}

/** `version()` exists on PostgreSQL only; on SQLite the failed probe changes nothing. */
// biome-ignore lint/suspicious/noExplicitAny: a migration's Kysely, as above
async function isPostgres(db: Kysely<any>): Promise<boolean> {
  try {
    await sql`select version()`.execute(db)
    return true
  } catch {
    return false
  }
}

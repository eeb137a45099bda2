/**
 * How much storage a day of traffic costs: sends webhooks through the whole service (as a helpdesk and
 * an HR system would) and measures what the database grew by, per call, on SQLite and PostgreSQL.
 * The figures in docs/operations.md come from this script:
 *
 *   node --import tsx scripts/measure-storage.ts [calls per kind, default 1000]
 *
 * PostgreSQL is the one of OPTIMALCLOUD_TEST_PG_URL (default postgres://postgres@127.0.0.1:5432/test).
 */
import { readFileSync } from 'node:fs'
import { sql } from 'kysely'
import { createDestination } from '../src/directory/destinations.js'
import type { Database } from '../src/storage/database.js'
import { DIALECTS } from '../test/helpers/databases.js'
import { post, type SeededTenant, seedTenant, startTestApp, TICKETS } from '../test/helpers/test-app.js'
import { PROVISIONING } from '../test/helpers/webhook-routes.js'

const CALLS = Number(process.argv[2] ?? 1000)
const fixture = (name: string) =>
  JSON.parse(readFileSync(new URL(`../test/fixtures/${name}`, import.meta.url), 'utf8')) as Record<
    string,
    unknown
  >

/** Bytes the database uses now: SQLite's pages in use (after a checkpoint), PostgreSQL's tables and indexes. */
async function usedBytes(database: Database): Promise<number> {
  if (database.dialect === 'sqlite') {
    await sql`pragma wal_checkpoint(TRUNCATE)`.execute(database.db)
    const pages = await sql<{ page_count: number }>`pragma page_count`.execute(database.db)
    const free = await sql<{ freelist_count: number }>`pragma freelist_count`.execute(database.db)
    const size = await sql<{ page_size: number }>`pragma page_size`.execute(database.db)
    return (
      ((pages.rows[0]?.page_count ?? 0) - (free.rows[0]?.freelist_count ?? 0)) *
      (size.rows[0]?.page_size ?? 0)
    )
  }
  const total = await sql<{ bytes: string }>`select coalesce(sum(pg_total_relation_size(c.oid)), 0) as bytes
    from pg_class c join pg_namespace n on n.oid = c.relnamespace
    where n.nspname = current_schema() and c.relkind = 'r'`.execute(database.db)
  return Number(total.rows[0]?.bytes ?? 0)
}

/** Bytes of the delivery log alone on PostgreSQL (its table, indexes and TOAST). */
async function deliveryLogBytes(database: Database): Promise<number> {
  const size = await sql<{ bytes: string }>`select pg_total_relation_size('deliveries') as bytes`.execute(
    database.db,
  )
  return Number(size.rows[0]?.bytes ?? 0)
}

for (const dialect of DIALECTS) {
  const t = await startTestApp(dialect)
  try {
    const acme: SeededTenant = await seedTenant(t.services, 'acme')
    const auth = `Bearer ${acme.key}`
    const destination = await createDestination(t.services, acme.tenant, { type: 'generic-hr', name: 'HR' })
    const kinds: Array<[string, (i: number) => Promise<number>]> = [
      [
        'createticket (ticket + comment + delivery log entry)',
        async (i) =>
          (
            await post(t.app, `${TICKETS}/createticket`, {
              host: acme.host,
              auth,
              body: {
                ...fixture('generic-ticket.json'),
                requester_email: acme.requester,
                title: `Printer ${i}`,
              },
            })
          ).statusCode,
      ],
      [
        'servicenow (ticket + comment + delivery log entry)',
        async (i) =>
          (
            await post(t.app, `${TICKETS}/servicenow`, {
              host: acme.host,
              auth,
              body: {
                ...fixture('servicenow-incident.json'),
                requester_email: acme.requester,
                sys_id: `sys${i}`,
                number: `INC${i}`,
              },
            })
          ).statusCode,
      ],
      [
        'adduser (user + delivery log entry)',
        async (i) =>
          (
            await post(t.app, `${PROVISIONING}/${destination.plugin_id}/adduser`, {
              host: acme.host,
              auth,
              body: {
                ...fixture('generic-hr-adduser.json'),
                employee_id: `E${i}`,
                email: `user${i}@acme.example.com`,
              },
            })
          ).statusCode,
      ],
    ]
    for (const [kind, send] of kinds) {
      const database = t.services.database
      const before = await usedBytes(database)
      const logBefore = dialect === 'postgres' ? await deliveryLogBytes(database) : 0
      for (let i = 0; i < CALLS; i++) {
        const status = await send(i)
        if (status !== 201) throw new Error(`${kind}: call ${i} answered ${status}`)
      }
      const grown = await usedBytes(database)
      const perCall = Math.round((grown - before) / CALLS)
      // The delivery log's share (what retention gives back): on SQLite the pages its rows free, on
      // PostgreSQL its relations' growth (deleted rows free space only for reuse after a vacuum).
      let logShare: number
      if (dialect === 'postgres') {
        logShare = Math.round(((await deliveryLogBytes(database)) - logBefore) / CALLS)
      } else {
        await database.transaction((trx) => trx.deleteFrom('deliveries').execute())
        logShare = Math.round((grown - (await usedBytes(database))) / CALLS)
      }
      process.stdout.write(`${dialect}\t${kind}\t${perCall} bytes/call\t(delivery log: ~${logShare})\n`)
    }
  } finally {
    await t.close()
  }
}

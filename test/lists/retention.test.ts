/**
 * Retention: rows past their window are deleted in small batches and the rest kept, on both
 * databases; a table that does not exist yet is skipped; the sweeper stops cleanly mid-sweep.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { loadConfig, parseDays } from '../../src/config.js'
import { recordDelivery } from '../../src/deliveries/deliveries.js'
import { RetentionSweeper, retentionRules, sweepOnce } from '../../src/retention/sweeper.js'
import type { Database } from '../../src/storage/database.js'
import { as } from '../helpers/management-routes.js'
import { onEachDatabase } from '../helpers/suite.js'

const DAY_MS = 86_400_000

/** Writes `count` deliveries of a tenant dated `daysAgo` days back; answers their ids. */
async function deliveriesAged(database: Database, tenantId: string, count: number, daysAgo: number) {
  const ids: string[] = []
  const at = new Date(Date.now() - daysAgo * DAY_MS).toISOString()
  await database.transaction(async (trx) => {
    for (let i = 0; i < count; i++) {
      const id = await recordDelivery(trx, {
        tenantId,
        endpoint: 'createticket',
        principal: null,
        statusCode: 201,
        error: null,
        requestId: `aged-${daysAgo}-${i}`,
        durationMs: 1,
        requestBody: { title: 'x'.repeat(200) },
      })
      await trx.updateTable('deliveries').set({ created_at: at }).where('id', '=', id).execute()
      ids.push(id)
    }
  })
  return ids
}

async function idempotencyAged(database: Database, tenantId: string, key: string, daysAgo: number) {
  await database.transaction((trx) =>
    trx
      .insertInto('idempotency_keys')
      .values({
        tenant_id: tenantId,
        key,
        request_hash: 'h',
        status_code: 201,
        response_body: '{}',
        created_at: new Date(Date.now() - daysAgo * DAY_MS).toISOString(),
      })
      .execute(),
  )
}

describe('retention settings', () => {
  it('default to 30 days of deliveries and 365 of audit records; a bad value is refused naming the setting', () => {
    const defaults = loadConfig({})
    assert.equal(defaults.deliveryRetentionDays, 30)
    assert.equal(defaults.auditRetentionDays, 365)
    const set = loadConfig({
      OPTIMALCLOUD_DELIVERY_RETENTION_DAYS: '7',
      OPTIMALCLOUD_AUDIT_RETENTION_DAYS: '730',
    })
    assert.equal(set.deliveryRetentionDays, 7)
    assert.equal(set.auditRetentionDays, 730)
    for (const bad of ['0', '-1', '1.5', 'thirty', '36501']) {
      assert.throws(
        () => parseDays('OPTIMALCLOUD_DELIVERY_RETENTION_DAYS', bad, 30),
        /OPTIMALCLOUD_DELIVERY_RETENTION_DAYS must be a whole number of days from 1 to 36500/,
      )
    }
    assert.deepEqual(
      retentionRules(set).map((rule) => [rule.table, rule.days]),
      [
        ['deliveries', 7],
        ['audit_log', 730],
        ['user_history', 730],
        ['held_changes', 7],
        ['hr_terminations', 1],
        ['idempotency_keys', 2],
        ['sessions', 0],
      ],
    )
  })
})

onEachDatabase('retention', (s) => {
  it('deletes deliveries past the window in batches, keeps newer ones and every other tenant’s newer ones; the API no longer shows them', async () => {
    const old = await deliveriesAged(s.services.database, s.acme.tenant.id, 23, 31)
    const kept = await deliveriesAged(s.services.database, s.acme.tenant.id, 5, 29)
    const otherOld = await deliveriesAged(s.services.database, s.other.tenant.id, 4, 45)
    const otherKept = await deliveriesAged(s.services.database, s.other.tenant.id, 2, 1)
    await idempotencyAged(s.services.database, s.acme.tenant.id, 'old-key', 3)
    await idempotencyAged(s.services.database, s.acme.tenant.id, 'new-key', 0)
    let pauses = 0
    const counts = await sweepOnce(
      s.services.database,
      [
        ...retentionRules({ deliveryRetentionDays: 30, auditRetentionDays: 365 }),
        { table: 'no_such_table', timeColumn: 'created_at', days: 1 },
      ],
      {
        batchSize: 5,
        pause: async () => {
          pauses += 1
        },
      },
    )
    assert.equal(counts.deliveries, 27)
    assert.equal(counts.idempotency_keys, 1)
    assert.equal(counts.no_such_table, undefined)
    // 27 rows in batches of 5: five full batches, each followed by a pause, then a short one.
    assert.equal(pauses, 5)
    const left = await s.db.selectFrom('deliveries').select('id').execute()
    assert.deepEqual(left.map((row) => row.id).sort(), [...kept, ...otherKept].sort())
    assert.ok(old.concat(otherOld).every((id) => !left.some((row) => row.id === id)))
    const keys = await s.db.selectFrom('idempotency_keys').select('key').execute()
    assert.deepEqual(
      keys.map((row) => row.key),
      ['new-key'],
    )
    const listed = await as<Array<{ id: string }>>(s.app, s.acme, 'GET', '/deliveries?limit=1000')
    assert.deepEqual(listed.body.map((row) => row.id).sort(), [...kept].sort())
    const gone = await as(s.app, s.acme, 'GET', `/deliveries/${old[0]}`)
    assert.equal(gone.status, 404)
    // A second pass finds nothing more.
    const again = await sweepOnce(
      s.services.database,
      retentionRules({ deliveryRetentionDays: 30, auditRetentionDays: 365 }),
    )
    assert.equal(again.deliveries, 0)
  })

  it('deletes audit records, user history, undecided held terminations and counted terminations past their windows, and keeps newer ones', async () => {
    const tenantId = s.acme.tenant.id
    const daysAgo = (days: number) => new Date(Date.now() - days * DAY_MS).toISOString()
    /** One row of each table, `days` old; `tag` marks the row's id. */
    const rowsAged = async (tag: string, days: number) => {
      const at = daysAgo(days)
      const id = `${tag}-${days}`
      await s.services.database.transaction(async (trx) => {
        await trx
          .insertInto('audit_log')
          .values({
            id,
            tenant_id: tenantId,
            actor: 'cli',
            action: 'apikey.create',
            target: null,
            details: null,
            client_address: null,
            request_id: null,
            created_at: at,
          })
          .execute()
        await trx
          .insertInto('user_history')
          .values({
            id,
            tenant_id: tenantId,
            user_id: 'u',
            action: 'modify',
            actor: 'cli',
            delivery_id: null,
            changes: '{}',
            created_at: at,
          })
          .execute()
        await trx
          .insertInto('held_changes')
          .values({
            id,
            tenant_id: tenantId,
            destination_id: 'd',
            user_id: 'u',
            company_id: 'c',
            employee_id: 'e',
            delivery_id: null,
            reason: 'limit',
            created_at: at,
          })
          .execute()
        await trx
          .insertInto('hr_terminations')
          .values({ id, tenant_id: tenantId, destination_id: 'd', user_id: 'u', created_at: at })
          .execute()
      })
    }
    for (const days of [400, 40, 2]) await rowsAged('aged', days)
    const counts = await sweepOnce(
      s.services.database,
      retentionRules({ deliveryRetentionDays: 30, auditRetentionDays: 365 }),
    )
    assert.equal(counts.audit_log, 1)
    assert.equal(counts.user_history, 1)
    assert.equal(counts.held_changes, 2)
    assert.equal(counts.hr_terminations, 3)
    const ids = async (table: 'audit_log' | 'user_history' | 'held_changes' | 'hr_terminations') =>
      (await s.db.selectFrom(table).select('id').where('id', 'like', 'aged-%').orderBy('id').execute()).map(
        (r) => r.id,
      )
    assert.deepEqual(await ids('audit_log'), ['aged-2', 'aged-40'])
    assert.deepEqual(await ids('user_history'), ['aged-2', 'aged-40'])
    assert.deepEqual(await ids('held_changes'), ['aged-2'])
    assert.deepEqual(await ids('hr_terminations'), [])
  })

  it('keeps a sweeper’s work small and stops it cleanly in the middle of a sweep', async () => {
    await deliveriesAged(s.services.database, s.acme.tenant.id, 6, 100)
    const logged: string[] = []
    const sweeper = new RetentionSweeper(
      s.services.database,
      [{ table: 'deliveries', timeColumn: 'created_at', days: 30 }],
      (message) => logged.push(message),
      // One row per batch and a long pause: stop() must not wait for the pause to end.
      { firstMs: 0, everyMs: 3_600_000, batchSize: 1, pauseMs: 3_600_000 },
    )
    sweeper.start()
    const oldCount = async () =>
      Number(
        (
          await s.db
            .selectFrom('deliveries')
            .select(s.db.fn.countAll().as('n'))
            .where('created_at', '<', new Date(Date.now() - 30 * DAY_MS).toISOString())
            .executeTakeFirstOrThrow()
        ).n,
      )
    while ((await oldCount()) === 6) await new Promise((resolve) => setTimeout(resolve, 10))
    await sweeper.stop()
    // The first batch went; the pause was cut short, and no further batch ran.
    assert.equal(await oldCount(), 5)
    assert.deepEqual(logged, ['retention: old rows deleted'])
    // Stopped for good: starting again does nothing.
    sweeper.start()
    await sweeper.stop()
    assert.equal(await oldCount(), 5)
  })
})

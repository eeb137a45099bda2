/**
 * Ticket numbers in blocks (src/support/ticket-numbers.ts): unique per tenant across instances, given
 * back on a clean close, on both databases.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { type Database, openDatabase } from '../../src/storage/database.js'
import { addRequester } from '../../src/support/requesters.js'
import { TICKET_NUMBER_BLOCK } from '../../src/support/ticket-numbers.js'
import { type CreateTicket, createBuiltinTicket } from '../../src/support/tickets.js'
import { createTenant } from '../../src/tenancy/tenants.js'
import { DIALECTS, freshDatabase, postgresAvailable, type TestDatabase } from '../helpers/databases.js'

const pgUp = await postgresAvailable()
const REQUESTER = 'r@numbers.example.com'

function command(subject: string): CreateTicket {
  return {
    source: 'generic',
    subject,
    requesterEmail: REQUESTER,
    priority: 'normal',
    firstComment: subject,
    externalId: null,
    dedupeKey: null,
    fields: { title: subject },
  }
}

for (const dialect of DIALECTS) {
  describe(`ticket numbers (${dialect})`, {
    skip: dialect === 'postgres' && !pgUp && 'no PostgreSQL',
  }, () => {
    let testDb: TestDatabase
    const opened: Database[] = []
    /** Another instance on the same database. */
    const instance = () => {
      const database = openDatabase(
        testDb.url,
        testDb.pgSchema === undefined ? {} : { pgSchema: testDb.pgSchema },
      )
      opened.push(database)
      return database
    }
    before(async () => {
      testDb = await freshDatabase(dialect)
    })
    after(async () => {
      for (const database of opened) await database.close().catch(() => {})
      await testDb.dispose()
    })

    async function tenant(name: string): Promise<string> {
      const made = await createTenant(testDb.database, name)
      await addRequester(testDb.database, made.id, REQUESTER, 'R')
      return made.id
    }

    it('two instances creating tickets of one tenant at once: every number unique, each instance its own block', async () => {
      const tenantId = await tenant('two')
      const a = instance()
      const b = instance()
      const made = await Promise.all(
        Array.from({ length: 40 }, (_, i) =>
          createBuiltinTicket(i % 2 === 0 ? a : b, tenantId, command(`t${i}`)).then((o) => ({
            i,
            n: o.number,
          })),
        ),
      )
      const numbers = made.map((m) => m.n)
      assert.equal(new Set(numbers).size, 40, `unique: ${numbers.join(',')}`)
      const blockOf = (n: number) => Math.floor((n - 1) / TICKET_NUMBER_BLOCK)
      const aBlocks = new Set(made.filter((m) => m.i % 2 === 0).map((m) => blockOf(m.n)))
      const bBlocks = new Set(made.filter((m) => m.i % 2 === 1).map((m) => blockOf(m.n)))
      assert.equal(aBlocks.size, 1)
      assert.equal(bBlocks.size, 1)
      assert.notDeepEqual([...aBlocks], [...bBlocks])
      const stored = await testDb.database.db
        .selectFrom('tickets')
        .select('number')
        .where('tenant_id', '=', tenantId)
        .execute()
      assert.deepEqual(
        stored.map((r) => r.number).sort((x, y) => (x ?? 0) - (y ?? 0)),
        [...numbers].sort((x, y) => x - y),
      )
    })

    it('a clean close gives the unused numbers back: a restarted instance goes on without a gap', async () => {
      const tenantId = await tenant('restart')
      const first = instance()
      assert.equal((await createBuiltinTicket(first, tenantId, command('one'))).number, 1)
      assert.equal((await createBuiltinTicket(first, tenantId, command('two'))).number, 2)
      await first.close()
      const second = instance()
      assert.equal((await createBuiltinTicket(second, tenantId, command('three'))).number, 3)
    })

    it('nothing is given back once another instance took numbers after the block', async () => {
      const tenantId = await tenant('interleaved')
      const a = instance()
      const b = instance()
      assert.equal((await createBuiltinTicket(a, tenantId, command('a1'))).number, 1)
      const fromB = (await createBuiltinTicket(b, tenantId, command('b1'))).number
      assert.equal(fromB, TICKET_NUMBER_BLOCK + 1)
      await a.close()
      const c = instance()
      const fromC = (await createBuiltinTicket(c, tenantId, command('c1'))).number
      assert.equal(
        fromC,
        2 * TICKET_NUMBER_BLOCK + 1,
        'a fresh block after the ones taken, never a number of b',
      )
    })
  })
}

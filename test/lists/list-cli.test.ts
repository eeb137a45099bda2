/** The CLI's list commands as a user runs them: --limit, --cursor, --all, the stderr hint, filters, bad input. */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { loadConfig } from '../../src/config.js'
import { recordDelivery } from '../../src/deliveries/deliveries.js'
import { openDatabase } from '../../src/storage/database.js'
import { requireTenant } from '../../src/tenancy/tenants.js'
import { type CliResult, cliJson, type E2eDatabase, type Env, emptyDatabase, runCli } from '../helpers/cli.js'
import { DIALECTS, postgresAvailable } from '../helpers/databases.js'

const pgUp = await postgresAvailable()

/** The cursor the stderr hint gives, or null when it says nothing. */
function hintedCursor(result: CliResult): string | null {
  const match = /More rows remain: run again with --cursor (\S+) \(or --all for every row\)/.exec(
    result.stderr,
  )
  return match?.[1] ?? null
}

function idsOf(result: CliResult): string[] {
  assert.equal(result.code, 0, result.stderr)
  return (JSON.parse(result.stdout) as Array<{ id: string }>).map((row) => row.id)
}

for (const dialect of DIALECTS) {
  describe(`list commands page (${dialect})`, {
    concurrency: true,
    skip: dialect === 'postgres' && !pgUp && 'no PostgreSQL',
  }, () => {
    let db: E2eDatabase
    let env: Env
    const seeded: string[] = []
    before(async () => {
      db = await emptyDatabase(dialect)
      env = db.env
      await cliJson(['tenant', 'create', 'acme'], { env })
      await cliJson(['tenant', 'create', 'other'], { env })
      const config = loadConfig(env)
      const database = openDatabase(config.databaseUrl, { pgSchema: config.pgSchema })
      try {
        const acme = await requireTenant(database, 'acme')
        await database.transaction(async (trx) => {
          for (let i = 0; i < 250; i++) {
            seeded.push(
              await recordDelivery(trx, {
                tenantId: acme.id,
                endpoint: i % 2 === 0 ? 'createticket' : 'servicenow',
                principal: null,
                statusCode: i % 10 === 9 ? 500 : 201,
                error: null,
                requestId: `cli-${i}`,
                durationMs: 1,
                requestBody: { i },
              }),
            )
          }
        })
      } finally {
        await database.close()
      }
    })
    after(() => db.dispose())

    const list = (...args: string[]) =>
      runCli(['deliveries', 'list', '--tenant', 'acme', '--json', ...args], { env })

    it('prints the first 100 newest first and says on stderr how to continue; --cursor continues; the last page says nothing', async () => {
      const first = await list()
      assert.deepEqual(idsOf(first), seeded.slice(150).reverse())
      const cursor = hintedCursor(first)
      assert.ok(cursor !== null, first.stderr)
      const second = await list('--cursor', cursor, '--limit', '150')
      assert.deepEqual(idsOf(second), seeded.slice(0, 150).reverse())
      assert.equal(second.stderr, '')
    })

    it('--all prints every row, a page at a time, and no hint', async () => {
      const all = await list('--all', '--limit', '70')
      assert.deepEqual(idsOf(all), [...seeded].reverse())
      assert.equal(all.stderr, '')
      const failed = await list('--all', '--outcome', 'failed')
      assert.equal(idsOf(failed).length, 25)
      const servicenow = await list('--endpoint', 'servicenow', '--failed', '--limit', '10')
      assert.equal(idsOf(servicenow).length, 10)
      assert.ok(hintedCursor(servicenow) !== null)
    })

    it('refuses a limit out of 1..1000, a bad cursor or filter, with a message and a non-zero exit', async () => {
      for (const [args, message] of [
        [['--limit', '0'], /limit must be an integer from 1 to 1000/],
        [['--limit', '1001'], /limit must be an integer from 1 to 1000/],
        [['--cursor', 'nope!'], /cursor is not valid/],
        [['--outcome', 'maybe'], /--outcome must be succeeded or failed/],
        [['--since', 'last week'], /since must be a date or time/],
      ] as const) {
        const result = await list(...args)
        assert.notEqual(result.code, 0)
        assert.equal(result.stdout, '')
        assert.match(result.stderr, message)
      }
    })

    it("pages the other lists too, and another tenant's list is its own", async () => {
      const tenants = await runCli(['tenant', 'list', '--json', '--limit', '1'], { env })
      assert.deepEqual(
        (JSON.parse(tenants.stdout) as Array<{ name: string }>).map((t) => t.name),
        ['acme'],
      )
      const next = hintedCursor(tenants)
      assert.ok(next !== null, tenants.stderr)
      const rest = await cliJson(['tenant', 'list', '--cursor', next], { env })
      assert.deepEqual(
        (rest as Array<{ name: string }>).map((t) => t.name),
        ['other'],
      )
      const theirs = await runCli(['deliveries', 'list', '--tenant', 'other', '--json', '--all'], { env })
      assert.deepEqual(JSON.parse(theirs.stdout), [])
      for (const command of [
        ['user', 'list', '--status', 'active'],
        ['ticket', 'list', '--source', 'generic'],
        ['apikey', 'list'],
        ['destination', 'list'],
        ['requester', 'list'],
      ]) {
        const result = await runCli([...command, '--tenant', 'acme', '--json', '--limit', '5'], { env })
        assert.equal(result.code, 0, `${command.join(' ')}: ${result.stderr}`)
        assert.ok(Array.isArray(JSON.parse(result.stdout)))
      }
      const badStatus = await runCli(['user', 'list', '--tenant', 'acme', '--status', 'gone'], { env })
      assert.match(badStatus.stderr, /--status must be active, terminated or disabled/)
    })
  })
}

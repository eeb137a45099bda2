/** `optimalcloud hold|user history|audit list` as child processes: the HR trust commands print JSON, fail clearly, and are audited. */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { applyHrCommands, type ProvisioningTarget } from '../../src/directory/provisioning.js'
import { type Database, openDatabase } from '../../src/storage/database.js'
import { cliJson, type E2eDatabase, type Env, emptyDatabase, runCli } from '../helpers/cli.js'
import { DIALECTS, postgresAvailable } from '../helpers/databases.js'

const pgUp = await postgresAvailable()

type Row = Record<string, unknown>

for (const dialect of DIALECTS) {
  describe(`HR trust commands (${dialect})`, {
    skip: dialect === 'postgres' && !pgUp && 'no PostgreSQL',
  }, () => {
    let e2e: E2eDatabase
    let env: Env
    let database: Database
    let pluginId: string
    let target: ProvisioningTarget

    before(async () => {
      e2e = await emptyDatabase(dialect)
      env = e2e.env
      await cliJson(['tenant', 'create', 'acme'], { env })
      const created = (await cliJson(
        [
          'destination',
          'create',
          '--tenant',
          'acme',
          '--type',
          'generic-hr',
          '--name',
          'HR',
          '--set',
          'termination_limit=1',
        ],
        { env },
      )) as Row
      pluginId = String(created.plugin_id)
      assert.equal((created.settings as Row).termination_limit, '1')
      database = openDatabase(env.OPTIMALCLOUD_DATABASE_URL ?? '', {
        ...(env.OPTIMALCLOUD_PG_SCHEMA === undefined ? {} : { pgSchema: env.OPTIMALCLOUD_PG_SCHEMA }),
      })
      const tenant = await database.db
        .selectFrom('tenants')
        .select('id')
        .where('name', '=', 'acme')
        .executeTakeFirstOrThrow()
      target = { tenantId: tenant.id, destinationId: pluginId, loginId: 'email', terminationLimit: 1 }
      // Three employees through the destination, then three terminations: one applied, two held.
      for (const n of [1, 2, 3]) {
        await applyHrCommands(database, target, [
          {
            kind: 'add',
            command: {
              ref: { employeeId: `E${n}`, companyId: '' },
              firstName: 'E',
              lastName: `${n}`,
              email: `e${n}@acme.example.com`,
            },
          },
        ])
      }
      for (const n of [1, 2, 3])
        await applyHrCommands(database, target, [
          { kind: 'terminate', command: { ref: { employeeId: `E${n}`, companyId: '' } } },
        ])
    })
    after(async () => {
      await database?.close()
      await e2e?.dispose()
    })

    it('hold list prints the held terminations with plugin_id, employee_id and time; --limit pages and says so on stderr', async () => {
      const rows = (await cliJson(['hold', 'list', '--tenant', 'acme'], { env })) as Row[]
      assert.deepEqual(
        rows.map((r) => [r.plugin_id, r.employee_id]),
        [
          [pluginId, 'E2'],
          [pluginId, 'E3'],
        ],
      )
      assert.ok(rows.every((r) => !Number.isNaN(Date.parse(String(r.created_at)))))
      const paged = await runCli(['hold', 'list', '--tenant', 'acme', '--limit', '1', '--json'], { env })
      assert.equal(paged.code, 0, paged.stderr)
      assert.equal((JSON.parse(paged.stdout) as Row[]).length, 1)
      assert.match(paged.stderr, /More rows remain: run again with --cursor \S+ \(or --all for every row\)/)
      const ofDestination = (await cliJson(['hold', 'list', '--tenant', 'acme', '--destination', pluginId], {
        env,
      })) as Row[]
      assert.deepEqual(
        ofDestination.map((r) => r.employee_id),
        ['E2', 'E3'],
      )
      assert.deepEqual(
        await cliJson(
          ['hold', 'list', '--tenant', 'acme', '--destination', 'NoSuchDestination000000000000'],
          {
            env,
          },
        ),
        [],
      )
    })

    it('hold approve applies them: {"applied":2}; user history then shows the termination by the CLI', async () => {
      const wrong = await runCli(
        ['hold', 'approve', '--tenant', 'acme', '--destination', 'NoSuchDestination000000000000', '--json'],
        { env },
      )
      assert.notEqual(wrong.code, 0)
      assert.equal(wrong.stdout, '')
      assert.match(wrong.stderr, /Provisioning destination not found/)
      assert.deepEqual(
        await cliJson(['hold', 'approve', '--tenant', 'acme', '--destination', pluginId], { env }),
        { applied: 2 },
      )
      assert.deepEqual(await cliJson(['hold', 'list', '--tenant', 'acme'], { env }), [])
      assert.deepEqual(
        await cliJson(['hold', 'reject', '--tenant', 'acme', '--destination', pluginId], { env }),
        { rejected: 0 },
      )

      const history = (await cliJson(['user', 'history', '--tenant', 'acme', '--employee-id', 'E2'], {
        env,
      })) as Row[]
      assert.deepEqual(
        history.map((h) => [h.action, h.actor]),
        [
          ['created', `destination:${pluginId}`],
          ['terminated', 'cli'],
        ],
      )
      assert.deepEqual((history[1] as Row).changes, { status: { before: 'active', after: 'terminated' } })
      const byEmail = (await cliJson(
        ['user', 'history', '--tenant', 'acme', '--email', 'e1@acme.example.com'],
        { env },
      )) as Row[]
      assert.deepEqual(
        byEmail.map((h) => h.action),
        ['created', 'terminated'],
      )
      const nobody = await runCli(
        ['user', 'history', '--tenant', 'acme', '--email', 'nobody@acme.example.com'],
        { env },
      )
      assert.notEqual(nobody.code, 0)
      assert.match(nobody.stderr, /User not found/)
    })

    it('audit list shows the CLI changes newest first, actor cli, never a secret', async () => {
      const password = 'cli service password 1'
      const made = await runCli(
        [
          'user',
          'create',
          '--tenant',
          'acme',
          '--email',
          'svc@acme.example.com',
          '--service-account',
          '--password-stdin',
          '--json',
        ],
        { env, stdin: `${password}\n` },
      )
      assert.equal(made.code, 0, made.stderr)
      const entries = (await cliJson(['audit', 'list', '--tenant', 'acme'], { env })) as Row[]
      assert.deepEqual(
        entries.slice(0, 3).map((e) => e.action),
        ['createUser', 'rejectHolds', 'approveHolds'],
      )
      assert.ok(entries.every((e) => e.actor === 'cli'))
      assert.equal((entries[2] as Row).target, pluginId)
      assert.ok(entries.some((e) => e.action === 'createDestination'))
      assert.ok(!JSON.stringify(entries).includes(password))
    })
  })
}

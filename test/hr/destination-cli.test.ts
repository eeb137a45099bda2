/** `optimalcloud destination …` as a child process: create prints the URLs, secrets never come back, errors exit non-zero. */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { type CliResult, cliJson, type E2eDatabase, type Env, emptyDatabase, runCli } from '../helpers/cli.js'
import { DIALECTS, postgresAvailable } from '../helpers/databases.js'

const pgUp = await postgresAvailable()
const SECRET = 'cli+Secret/Value=='
const PATH = '/v5.0/mgmt/api/v1.0/webhooks/provisioning'

function assertFails(result: CliResult, message: RegExp): void {
  assert.notEqual(result.code, 0, `expected a failure, got exit 0 with ${result.stdout}`)
  assert.equal(result.stdout, '')
  assert.match(result.stderr, message)
}

function record(value: unknown): Record<string, unknown> {
  assert.ok(typeof value === 'object' && value !== null && !Array.isArray(value), JSON.stringify(value))
  return value as Record<string, unknown>
}

for (const dialect of DIALECTS) {
  describe(`destination commands (${dialect})`, {
    concurrency: true,
    skip: dialect === 'postgres' && !pgUp && 'no PostgreSQL',
  }, () => {
    let db: E2eDatabase
    let env: Env
    before(async () => {
      db = await emptyDatabase(dialect)
      env = { ...db.env, OPTIMALCLOUD_PUBLIC_URL: 'https://{tenant}.theoptimalcloud.com' }
      await cliJson(['tenant', 'create', 'acme'], { env })
    })
    after(() => db.dispose())

    it('create prints plugin_id and the three URLs; the client secret (from stdin) is never printed', async () => {
      const result = await runCli(
        [
          'destination',
          'create',
          '--tenant',
          'acme',
          '--type',
          'paylocity',
          '--name',
          'Payroll',
          '--set',
          'client_id=abc',
          '--set',
          'login_id=employee_id',
          '--client-secret-stdin',
          '--json',
        ],
        { env, stdin: `${SECRET}\n` },
      )
      assert.equal(result.code, 0, result.stderr)
      assert.ok(!result.stdout.includes(SECRET) && !result.stderr.includes(SECRET))
      const created = record(JSON.parse(result.stdout))
      const pluginId = String(created.plugin_id)
      assert.match(pluginId, /^[A-Za-z0-9]{32}$/)
      assert.equal(created.type, 'paylocity')
      assert.equal(created.name, 'Payroll')
      assert.deepEqual(created.urls, {
        adduser: `https://acme.theoptimalcloud.com${PATH}/${pluginId}/adduser`,
        modifyuser: `https://acme.theoptimalcloud.com${PATH}/${pluginId}/modifyuser`,
        deleteuser: `https://acme.theoptimalcloud.com${PATH}/${pluginId}/deleteuser`,
      })
      assert.deepEqual(created.settings, {
        login_id: 'employee_id',
        client_id: 'abc',
        client_secret: '********',
      })

      const listed = await runCli(['destination', 'list', '--tenant', 'acme', '--json'], { env })
      assert.equal(listed.code, 0, listed.stderr)
      assert.ok(!listed.stdout.includes(SECRET))
      const rows = JSON.parse(listed.stdout) as Array<Record<string, unknown>>
      assert.ok(rows.some((row) => row.plugin_id === pluginId && row.has_client_secret === true))

      const disabled = record(
        await cliJson(['destination', 'disable', '--tenant', 'acme', pluginId], { env }),
      )
      assert.equal(disabled.enabled, false)
      const enabled = record(await cliJson(['destination', 'enable', '--tenant', 'acme', pluginId], { env }))
      assert.equal(enabled.enabled, true)
    })

    it('create takes --set client_secret=… too; the text output shows the URLs and masks the secret', async () => {
      const result = await runCli(
        [
          'destination',
          'create',
          '--tenant',
          'acme',
          '--type',
          'paylocity',
          '--name',
          'P2',
          '--set',
          'client_id=x',
          '--set',
          `client_secret=${SECRET}`,
        ],
        { env },
      )
      assert.equal(result.code, 0, result.stderr)
      assert.match(result.stdout, /adduser: +https:\/\/acme\.theoptimalcloud\.com\/v5\.0\/.*\/adduser/)
      assert.match(result.stdout, /client_secret: \*{8}/)
      assert.ok(!result.stdout.includes(SECRET))
    })

    it('bad input: unknown setting, bad --set, unknown plugin_id', async () => {
      const [unknownSetting, badSet, unknownPlugin] = await Promise.all([
        runCli(
          [
            'destination',
            'create',
            '--tenant',
            'acme',
            '--type',
            'generic-hr',
            '--name',
            'x',
            '--set',
            `client_secret=${SECRET}`,
            '--json',
          ],
          { env },
        ),
        runCli(
          [
            'destination',
            'create',
            '--tenant',
            'acme',
            '--type',
            'generic-hr',
            '--name',
            'x',
            '--set',
            'login_id',
            '--json',
          ],
          { env },
        ),
        runCli(['destination', 'disable', '--tenant', 'acme', 'A'.repeat(32), '--json'], { env }),
      ])
      assertFails(unknownSetting, /Unknown setting "client_secret" for a generic-hr destination/)
      assert.ok(!unknownSetting.stderr.includes(SECRET))
      assertFails(badSet, /--set needs KEY=VALUE/)
      assertFails(unknownPlugin, /Provisioning destination not found/)
    })
  })
}

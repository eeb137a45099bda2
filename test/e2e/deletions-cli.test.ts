/** `optimalcloud apikey|destination|user delete`: only what is out of use goes, and the audit log says who. */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { cliJson, type E2eDatabase, emptyDatabase, runCli } from '../helpers/cli.js'

function record(value: unknown): Record<string, unknown> {
  assert.ok(typeof value === 'object' && value !== null && !Array.isArray(value), JSON.stringify(value))
  return value as Record<string, unknown>
}

describe('delete commands (CLI, sqlite)', { concurrency: false }, () => {
  let db: E2eDatabase
  const run = (args: string[], stdin?: string) =>
    runCli(args, { env: db.env, ...(stdin === undefined ? {} : { stdin }) })
  const json = (args: string[], stdin?: string) =>
    cliJson(args, { env: db.env, ...(stdin === undefined ? {} : { stdin }) })
  const refused = async (args: string[], message: RegExp) => {
    const result = await run(args)
    assert.notEqual(result.code, 0, args.join(' '))
    assert.equal(result.stdout, '')
    assert.match(result.stderr, message)
  }

  before(async () => {
    db = await emptyDatabase('sqlite')
    await json(['tenant', 'create', 'acme'])
  })
  after(() => db.dispose())

  it('apikey delete: refused while the key works, done once revoked', async () => {
    const key = record(await json(['apikey', 'create', '--tenant', 'acme', '--name', 'old']))
    const id = String(key.id)
    await refused(['apikey', 'delete', '--tenant', 'acme', id], /Revoke the API key before deleting it/)
    await json(['apikey', 'revoke', '--tenant', 'acme', id])
    assert.deepEqual(await json(['apikey', 'delete', '--tenant', 'acme', id]), { id, deleted: true })
    await refused(['apikey', 'delete', '--tenant', 'acme', id], /API key not found/)
    const keys = (await json(['apikey', 'list', '--tenant', 'acme'])) as Array<{ id: string }>
    assert.ok(!keys.some((k) => k.id === id))
  })

  it('destination delete: refused while enabled, done once disabled', async () => {
    const created = record(
      await json(['destination', 'create', '--tenant', 'acme', '--type', 'generic-hr', '--name', 'Old']),
    )
    const pluginId = String(created.plugin_id)
    await refused(
      ['destination', 'delete', '--tenant', 'acme', pluginId],
      /Disable the destination before deleting it/,
    )
    await json(['destination', 'disable', '--tenant', 'acme', pluginId])
    assert.deepEqual(await json(['destination', 'delete', '--tenant', 'acme', pluginId]), {
      plugin_id: pluginId,
      deleted: true,
    })
    await refused(['destination', 'get', '--tenant', 'acme', pluginId], /not found/)
  })

  it('user delete: a disabled service account only; the audit log names the CLI', async () => {
    const email = 'retired@acme.example.com'
    await json(
      ['user', 'create', '--tenant', 'acme', '--email', email, '--service-account', '--password-stdin'],
      'a long password\n',
    )
    await json(['user', 'create', '--tenant', 'acme', '--email', 'person@acme.example.com'])
    await refused(
      ['user', 'delete', '--tenant', 'acme', '--email', email],
      /Disable the service account before deleting it/,
    )
    await json(['user', 'disable', '--tenant', 'acme', '--email', 'person@acme.example.com'])
    await refused(
      ['user', 'delete', '--tenant', 'acme', '--email', 'person@acme.example.com'],
      /Only service accounts/,
    )
    await json(['user', 'disable', '--tenant', 'acme', '--email', email])
    const deleted = record(await json(['user', 'delete', '--tenant', 'acme', '--email', email]))
    assert.equal(deleted.deleted, true)
    await refused(['user', 'get', '--tenant', 'acme', '--email', email], /not found/i)
    const audit = (await json(['audit', 'list', '--tenant', 'acme'])) as Array<{
      action: string
      actor: string
    }>
    for (const action of ['deleteRevokedApiKey', 'deleteDestination', 'deleteServiceAccount']) {
      assert.ok(
        audit.some((entry) => entry.action === action && entry.actor === 'cli'),
        `${action} in ${JSON.stringify(audit.map((e) => e.action))}`,
      )
    }
  })
})

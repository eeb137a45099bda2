/** A newcomer's first hour, from outside: a secret key, another administrator, enable and disable, the address to open. */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { type CliResult, cliJson, type E2eDatabase, emptyDatabase, runCli } from '../helpers/cli.js'
import { postgresAvailable } from '../helpers/databases.js'
import { onEachDatabase } from '../helpers/suite.js'

function record(value: unknown): Record<string, unknown> {
  assert.ok(typeof value === 'object' && value !== null && !Array.isArray(value), JSON.stringify(value))
  return value as Record<string, unknown>
}

function failed(result: CliResult, message: RegExp): void {
  assert.notEqual(result.code, 0, result.stdout)
  assert.equal(result.stdout, '')
  assert.match(result.stderr, message)
}

describe('secret-key generate', () => {
  it('prints a fresh 256-bit key, as {"key":...} with --json', async () => {
    const [first, second, plain] = await Promise.all([
      cliJson(['secret-key', 'generate']),
      cliJson(['secret-key', 'generate']),
      runCli(['secret-key', 'generate']),
    ])
    const key = String(record(first).key)
    assert.match(key, /^[A-Za-z0-9_-]{43}$/)
    assert.notEqual(key, record(second).key)
    assert.match(plain.stdout, /^[A-Za-z0-9_-]{43}\n$/)
  })
})

describe('serve on PostgreSQL without OPTIMALCLOUD_SECRET_KEY', {
  skip: !(await postgresAvailable()) && 'PostgreSQL is not running',
}, () => {
  let db: E2eDatabase
  before(async () => {
    db = await emptyDatabase('postgres')
  })
  after(() => db.dispose())

  it('refuses to start and says how to make a key', async () => {
    const result = await runCli(['serve', '--port', '0'], {
      env: { ...db.env, OPTIMALCLOUD_SECRET_KEY: undefined },
      timeoutMs: 20_000,
    })
    failed(result, /OPTIMALCLOUD_SECRET_KEY must be set[\s\S]*optimalcloud secret-key generate/)
  })
})

describe('user create --admin, user enable|disable (CLI, sqlite)', { concurrency: false }, () => {
  let db: E2eDatabase
  before(async () => {
    db = await emptyDatabase('sqlite')
    await runCli(['tenant', 'create', 'acme', '--json'], { env: db.env })
  })
  after(() => db.dispose())

  it('gives an existing tenant an administrator, who cannot be disabled while the last one', async () => {
    const env = db.env
    const admin = record(
      await cliJson(
        [
          'user',
          'create',
          '--tenant',
          'acme',
          '--email',
          'boss@acme.example.com',
          '--admin',
          '--password-stdin',
        ],
        { env, stdin: 'a long admin password\n' },
      ),
    )
    assert.equal(admin.admin, true)
    failed(
      await runCli(
        ['user', 'create', '--tenant', 'acme', '--email', 'x@acme.example.com', '--admin', '--json'],
        { env },
      ),
      /--admin needs --password-stdin/,
    )
    failed(
      await runCli(['user', 'disable', '--tenant', 'acme', '--email', 'boss@acme.example.com', '--json'], {
        env,
      }),
      /The last active administrator of a tenant cannot be disabled/,
    )

    const plain = record(
      await cliJson(['user', 'create', '--tenant', 'acme', '--email', 'ann@acme.example.com'], { env }),
    )
    const disabled = record(
      await cliJson(['user', 'disable', '--tenant', 'acme', '--email', 'ANN@acme.example.com'], { env }),
    )
    assert.equal(disabled.id, plain.id)
    assert.equal(disabled.status, 'disabled')
    const enabled = record(
      await cliJson(['user', 'enable', '--tenant', 'acme', '--email', 'ann@acme.example.com'], { env }),
    )
    assert.equal(enabled.status, 'active')
    failed(
      await runCli(['user', 'enable', '--tenant', 'acme', '--email', 'nobody@acme.example.com', '--json'], {
        env,
      }),
      /User not found/,
    )
    failed(
      await runCli(['user', 'enable', '--tenant', 'acme', '--json'], { env }),
      /Give --email or --employee-id/,
    )
  })
})

onEachDatabase('the first hour over HTTP', { tenants: ['acme'] }, (s) => {
  it("GET / on a tenant's address leads a browser to the console's sign-in page", async () => {
    const root = await s.app.inject({ url: '/', headers: { host: s.acme.host } })
    assert.equal(root.statusCode, 303)
    assert.equal(root.headers.location, '/console/')
    const console = await s.app.inject({ url: '/console/', headers: { host: s.acme.host } })
    assert.equal(console.statusCode, 303)
    const login = await s.app.inject({ url: '/console/login', headers: { host: s.acme.host } })
    assert.equal(login.statusCode, 200)
    assert.ok(!login.body.includes('id="tenant-hint"'))
  })

  it('on a host that names no tenant, the sign-in page says which address to open', async () => {
    for (const host of ['localhost:8080', '127.0.0.1:8080']) {
      const page = await s.app.inject({ url: '/console/login', headers: { host } })
      assert.equal(page.statusCode, 200)
      assert.match(page.body, /id="tenant-hint"/)
      assert.ok(page.body.includes('http://{tenant}.localhost:8080/'), page.body)
    }
    // A host naming an unknown tenant gets the plain form: nobody learns which tenants exist.
    const unknown = await s.app.inject({ url: '/console/login', headers: { host: 'nosuch.localhost:8080' } })
    assert.ok(!unknown.body.includes('id="tenant-hint"'))
  })
})

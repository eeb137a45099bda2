/** The real `optimalcloud` CLI as a child process: every command of docs/cli.md with --json, its errors, help. */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { type CliResult, cliJson, type E2eDatabase, type Env, emptyDatabase, runCli } from '../helpers/cli.js'
import { postgresAvailable } from '../helpers/databases.js'

const KEY_PATTERN = /^oc_[A-Za-z0-9]{43}$/

/** A failed command: non-zero exit, nothing on stdout, a message on stderr matching `message`. */
function assertFails(result: CliResult, message: RegExp): void {
  assert.notEqual(result.code, 0, `expected a failure, got exit 0 with ${result.stdout}`)
  assert.equal(result.stdout, '', 'stdout stays empty on errors')
  assert.match(result.stderr, message)
}

/** Exactly one JSON value on stdout: parsing the whole of it must succeed. */
function onlyJson(result: CliResult): unknown {
  assert.equal(result.code, 0, `exit ${result.code}: ${result.stderr}`)
  assert.equal(result.stderr, '', 'nothing on stderr when all is well')
  return JSON.parse(result.stdout)
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function records(value: unknown): Array<Record<string, unknown>> {
  assert.ok(Array.isArray(value), `expected a JSON array, got ${JSON.stringify(value)}`)
  return value.map((item: unknown) => {
    assert.ok(isRecord(item))
    return item
  })
}

function record(value: unknown): Record<string, unknown> {
  assert.ok(isRecord(value), `expected a JSON object, got ${JSON.stringify(value)}`)
  return value
}

describe('cli on sqlite', { concurrency: true }, () => {
  let db: E2eDatabase
  let env: Env
  let migrated: CliResult
  let acme: CliResult
  before(async () => {
    db = await emptyDatabase('sqlite')
    env = db.env
    // The first command creates the file and the schema; everything else runs concurrently after it.
    migrated = await runCli(['migrate', '--json'], { env })
    acme = await runCli(['tenant', 'create', 'acme', '--json'], { env })
  })
  after(() => db.dispose())

  it('migrate prints {"ok":true}; tenant create NAME prints {"name":...}', () => {
    assert.deepEqual(onlyJson(migrated), { ok: true })
    assert.equal(record(onlyJson(acme)).name, 'acme')
  })

  it('tenant create --admin-email --password-stdin, tenant list; a refused administrator leaves no tenant', async () => {
    const admin = (tenantName: string, email: string) => [
      ...['tenant', 'create', tenantName, '--admin-email', email, '--password-stdin', '--json'],
    ]
    const [betaResult, noStdin, shortPassword, badEmail] = await Promise.all([
      runCli(admin('beta', 'Admin@Beta.example.com'), { env, stdin: 'a long admin password\n' }),
      runCli(['tenant', 'create', 'gamma', '--admin-email', 'a@gamma.example.com', '--json'], { env }),
      runCli(admin('delta', 'a@delta.example.com'), { env, stdin: 'short\n' }),
      runCli(admin('epsilon', 'not-an-email'), { env, stdin: 'a long admin password\n' }),
    ])
    assert.equal(record(onlyJson(betaResult)).name, 'beta')
    assertFails(noStdin, /--password-stdin/)
    assertFails(shortPassword, /password must be at least 8 characters/)
    assertFails(badEmail, /email must be a valid email address/)
    const [tenants, users, retried] = await Promise.all([
      cliJson(['tenant', 'list'], { env }),
      cliJson(['user', 'list', '--tenant', 'beta'], { env }),
      runCli(admin('delta', 'a@delta.example.com'), { env, stdin: 'long enough now\n' }),
    ])
    const names = records(tenants).map((t) => t.name)
    assert.ok(names.includes('acme') && names.includes('beta'), JSON.stringify(tenants))
    for (const refused of ['gamma', 'epsilon'])
      assert.ok(!names.includes(refused), `${refused} was not created`)
    assert.equal(record(onlyJson(retried)).name, 'delta', 'the refused command can be run again')
    const created = records(users).find((u) => u.email === 'Admin@Beta.example.com')
    assert.ok(created, JSON.stringify(users))
    assert.equal(created.admin, true)
    assert.ok(!JSON.stringify(users).includes('a long admin password'))
  })

  it('apikey create (plain, --management --expires-in 90d), list without the keys, revoke', async () => {
    const [plainResult, managementResult] = await Promise.all([
      runCli(['apikey', 'create', '--tenant', 'acme', '--name', 'reporting', '--json'], { env }),
      runCli(
        [
          'apikey',
          'create',
          '--tenant',
          'acme',
          '--name',
          'servicenow',
          '--management',
          '--expires-in',
          '90d',
          '--json',
        ],
        {
          env,
        },
      ),
    ])
    const plain = record(onlyJson(plainResult))
    const management = record(onlyJson(managementResult))
    for (const created of [plain, management]) {
      assert.equal(typeof created.id, 'string')
      assert.match(String(created.key), KEY_PATTERN)
    }
    assert.equal(plain.management, false)
    assert.equal(plain.expires_at, null)
    assert.equal(management.management, true)
    const expires = Date.parse(String(management.expires_at)) - Date.now()
    assert.ok(Math.abs(expires - 90 * 86_400_000) < 120_000, `expires in ${expires} ms`)

    const listed = await runCli(['apikey', 'list', '--tenant', 'acme', '--json'], { env })
    const keys = records(onlyJson(listed))
    assert.deepEqual(keys.map((k) => k.id).sort(), [plain.id, management.id].sort())
    for (const secret of [String(plain.key), String(management.key)]) {
      assert.ok(!listed.stdout.includes(secret), 'apikey list never shows a key')
      assert.ok(!listed.stdout.includes(secret.slice(8)), 'nor the secret part of it')
    }

    const revoked = await cliJson(['apikey', 'revoke', '--tenant', 'acme', String(management.id)], { env })
    assert.deepEqual(revoked, { id: management.id, revoked: true })
    const [after, unknown, badDuration] = await Promise.all([
      cliJson(['apikey', 'list', '--tenant', 'acme'], { env }),
      runCli(['apikey', 'revoke', '--tenant', 'acme', 'key_doesnotexist', '--json'], { env }),
      runCli(['apikey', 'create', '--tenant', 'acme', '--name', 'x', '--expires-in', 'soon', '--json'], {
        env,
      }),
    ])
    const state = new Map(records(after).map((k) => [k.id, k.revoked_at]))
    assert.equal(typeof state.get(management.id), 'string', 'revoked_at is set')
    assert.equal(state.get(plain.id), null, 'the other key is untouched')
    assertFails(unknown, /API key not found/)
    assertFails(badDuration, /90d/)
  })

  it('user create (plain and --service-account --password-stdin), user list, user get --email in any case', async () => {
    const [plainResult, serviceResult] = await Promise.all([
      runCli(
        [
          'user',
          'create',
          '--tenant',
          'acme',
          '--email',
          'Alice.Smith@Acme.example.com',
          '--first-name',
          'Alice',
          '--last-name',
          'Smith',
          '--json',
        ],
        { env },
      ),
      runCli(
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
        {
          env,
          stdin: 'service account secret\n',
        },
      ),
    ])
    const alice = record(onlyJson(plainResult))
    const service = record(onlyJson(serviceResult))
    assert.equal(alice.email, 'Alice.Smith@Acme.example.com')
    assert.equal(alice.first_name, 'Alice')
    assert.equal(alice.last_name, 'Smith')
    assert.equal(alice.status, 'active')
    assert.equal(alice.service_account, false)
    for (const field of ['id', 'login_id', 'display_name', 'created_at', 'updated_at'])
      assert.ok(field in alice, field)
    assert.equal(service.service_account, true)
    assert.ok(!serviceResult.stdout.includes('service account secret'), 'the password is never printed')
    assert.ok(!/password|hash/i.test(serviceResult.stdout), serviceResult.stdout)

    const [list, byEmail, missing] = await Promise.all([
      cliJson(['user', 'list', '--tenant', 'acme'], { env }),
      cliJson(['user', 'get', '--tenant', 'acme', '--email', 'ALICE.SMITH@acme.EXAMPLE.com'], { env }),
      runCli(['user', 'get', '--tenant', 'acme', '--email', 'nobody@acme.example.com', '--json'], { env }),
    ])
    assert.deepEqual(
      records(list)
        .map((u) => u.id)
        .sort(),
      [alice.id, service.id].sort(),
    )
    assert.deepEqual(byEmail, alice)
    assertFails(missing, /User not found/)
  })

  it('user create refuses secrets as arguments and a service account without a password', async () => {
    const [withPassword, noPassword, emptyStdin, neither, plainWithPassword] = await Promise.all([
      runCli(
        ['user', 'create', '--tenant', 'acme', '--email', 'p@acme.example.com', '--password', 'x', '--json'],
        { env },
      ),
      runCli(
        [
          'user',
          'create',
          '--tenant',
          'acme',
          '--email',
          'q@acme.example.com',
          '--service-account',
          '--json',
        ],
        { env },
      ),
      runCli(
        [
          'user',
          'create',
          '--tenant',
          'acme',
          '--email',
          'r@acme.example.com',
          '--service-account',
          '--password-stdin',
          '--json',
        ],
        {
          env,
        },
      ),
      runCli(['user', 'get', '--tenant', 'acme', '--json'], { env }),
      runCli(
        ['user', 'create', '--tenant', 'acme', '--email', 's@acme.example.com', '--password-stdin', '--json'],
        {
          env,
          stdin: 'a password nobody would use\n',
        },
      ),
    ])
    assertFails(withPassword, /unknown option '--password'/)
    assertFails(plainWithPassword, /--password-stdin is for --service-account/)
    assertFails(noPassword, /--password-stdin/)
    assertFails(emptyStdin, /No password on standard input/)
    assertFails(neither, /--email or --employee-id/)
  })

  it('requester add prints {"email":...}; requester list', async () => {
    const [added, invalid] = await Promise.all([
      cliJson(
        [
          'requester',
          'add',
          '--tenant',
          'acme',
          '--email',
          'John.Doe@Acme.example.com',
          '--name',
          'John Doe',
        ],
        { env },
      ),
      runCli(['requester', 'add', '--tenant', 'acme', '--email', 'not-an-email', '--json'], { env }),
    ])
    assert.equal(record(added).email, 'John.Doe@Acme.example.com')
    assert.equal(record(added).name, 'John Doe')
    assertFails(invalid, /email must be a valid email address/)
    const list = records(await cliJson(['requester', 'list', '--tenant', 'acme'], { env }))
    assert.deepEqual(
      list.map((r) => r.email),
      ['John.Doe@Acme.example.com'],
    )
  })

  it('support configure zendesk (token on stdin, never printed) and back to builtin; a bad backend fails', async () => {
    onlyJson(await runCli(['tenant', 'create', 'zen', '--json'], { env }))
    const token = 'zendesk-token-e2e-1234567890'
    const [zendesk, badBackend] = await Promise.all([
      runCli(
        [
          ...['support', 'configure', '--tenant', 'zen', '--backend', 'zendesk'],
          ...[
            '--set',
            'url=https://zen.zendesk.com',
            '--set',
            'email=agent@zen.example.com',
            '--api-token-stdin',
            '--json',
          ],
        ],
        { env, stdin: `${token}\n` },
      ),
      runCli(['support', 'configure', '--tenant', 'zen', '--backend', 'freshdesk', '--json'], { env }),
    ])
    const view = record(onlyJson(zendesk))
    assert.equal(view.backend, 'zendesk')
    assert.ok(!zendesk.stdout.includes(token), 'the token is never printed')
    assertFails(badBackend, /backend must be builtin or zendesk/)
    const listed = await runCli(['tenant', 'list', '--json'], { env })
    assert.equal(records(onlyJson(listed)).find((t) => t.name === 'zen')?.support, 'zendesk')
    assert.ok(!listed.stdout.includes(token))
    assert.deepEqual(
      onlyJson(
        await runCli(['support', 'configure', '--tenant', 'zen', '--backend', 'builtin', '--json'], { env }),
      ),
      {
        backend: 'builtin',
      },
    )
  })

  // ticket list/get and deliveries list with content: server.test.ts, where a running server made them.
  it('ticket get of an unknown number or of something that is not a number fails', async () => {
    const [unknown, notANumber] = await Promise.all([
      runCli(['ticket', 'get', '--tenant', 'acme', '42', '--json'], { env }),
      runCli(['ticket', 'get', '--tenant', 'acme', '4x', '--json'], { env }),
    ])
    assertFails(unknown, /Ticket 42 not found/)
    assertFails(notANumber, /positive integer/)
  })

  it('errors: unknown tenant, duplicate tenant, bad tenant name, missing required flag', async () => {
    const [unknownTenant, duplicate, badName, missingFlag] = await Promise.all([
      runCli(['ticket', 'list', '--tenant', 'nope', '--json'], { env }),
      runCli(['tenant', 'create', 'acme', '--json'], { env }),
      runCli(['tenant', 'create', 'Bad_Name', '--json'], { env }),
      runCli(['requester', 'list', '--json'], { env }),
    ])
    assertFails(unknownTenant, /Tenant nope not found/)
    assertFails(duplicate, /Tenant acme already exists/)
    assertFails(badName, /DNS label/)
    assertFails(missingFlag, /required option '--tenant <tenant>' not specified/)
  })

  it('--database-url wins over the environment; a bad URL is a clear error', async () => {
    const url = String(env.OPTIMALCLOUD_DATABASE_URL)
    const [viaFlag, badUrl] = await Promise.all([
      runCli(['tenant', 'list', '--json', '--database-url', url], {
        env: { OPTIMALCLOUD_DATABASE_URL: 'mysql://nowhere' },
      }),
      runCli(['tenant', 'list', '--json', '--database-url', 'mysql://user:hunter2@nowhere/db'], { env }),
    ])
    assert.ok(
      records(onlyJson(viaFlag))
        .map((t) => t.name)
        .includes('acme'),
    )
    assertFails(badUrl, /Cannot open the database/)
    assert.ok(!badUrl.stderr.includes('hunter2'), 'the password in the URL is not echoed')
  })

  it('without --json the output is human text', async () => {
    const result = await runCli(['tenant', 'list'], { env })
    assert.equal(result.code, 0, result.stderr)
    assert.match(result.stdout, /acme/)
    assert.throws(() => JSON.parse(result.stdout))
  })

  it('--help works for the root and for a subcommand', async () => {
    const [root, sub] = await Promise.all([runCli(['--help']), runCli(['apikey', 'create', '--help'])])
    assert.equal(root.code, 0, root.stderr)
    assert.match(root.stdout, /Usage: optimalcloud/)
    for (const command of [
      'serve',
      'migrate',
      'tenant',
      'apikey',
      'user',
      'requester',
      'ticket',
      'deliveries',
    ]) {
      assert.match(root.stdout, new RegExp(`\\b${command}\\b`))
    }
    assert.equal(sub.code, 0, sub.stderr)
    assert.match(sub.stdout, /--management/)
    assert.match(sub.stdout, /--expires-in/)
  })
})

describe('cli on postgres', {
  concurrency: true,
  skip: !(await postgresAvailable()) && 'PostgreSQL is not running',
}, () => {
  let db: E2eDatabase
  let env: Env
  let created: CliResult
  before(async () => {
    db = await emptyDatabase('postgres')
    env = db.env
    created = await runCli(
      ['tenant', 'create', 'acme', '--admin-email', 'admin@acme.example.com', '--password-stdin', '--json'],
      {
        env,
        stdin: 'admin password\n',
      },
    )
  })
  after(() => db.dispose())

  it('migrate, tenant create with an administrator, tenant list, duplicate tenant', async () => {
    assert.equal(record(onlyJson(created)).name, 'acme')
    const [migrated, tenants, duplicate] = await Promise.all([
      runCli(['migrate', '--json'], { env }),
      cliJson(['tenant', 'list'], { env }),
      runCli(['tenant', 'create', 'acme', '--json'], { env }),
    ])
    assert.deepEqual(onlyJson(migrated), { ok: true })
    assert.deepEqual(
      records(tenants).map((t) => t.name),
      ['acme'],
    )
    assertFails(duplicate, /Tenant acme already exists/)
  })

  it('apikey create/list, user create --service-account, user get --email, requester add, ticket list', async () => {
    const [key, service, requester, tickets] = await Promise.all([
      cliJson(['apikey', 'create', '--tenant', 'acme', '--name', 'e2e', '--management'], { env }),
      cliJson(
        [
          'user',
          'create',
          '--tenant',
          'acme',
          '--email',
          'svc@acme.example.com',
          '--service-account',
          '--password-stdin',
        ],
        {
          env,
          stdin: 'service secret',
        },
      ),
      cliJson(['requester', 'add', '--tenant', 'acme', '--email', 'jane@acme.example.com'], { env }),
      cliJson(['ticket', 'list', '--tenant', 'acme'], { env }),
    ])
    assert.match(String(record(key).key), KEY_PATTERN)
    assert.equal(record(service).service_account, true)
    assert.equal(record(requester).email, 'jane@acme.example.com')
    assert.deepEqual(tickets, [])
    const [keys, found] = await Promise.all([
      runCli(['apikey', 'list', '--tenant', 'acme', '--json'], { env }),
      cliJson(['user', 'get', '--tenant', 'acme', '--email', 'SVC@ACME.example.com'], { env }),
    ])
    assert.equal(records(onlyJson(keys)).length, 1)
    assert.ok(!keys.stdout.includes(String(record(key).key)))
    assert.deepEqual(found, service)
  })
})

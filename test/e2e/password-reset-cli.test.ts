/** `optimalcloud user set-password`: a service account's or administrator's new password, from standard input. */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { verifyPassword } from '../../src/auth/passwords.js'
import { openDatabase } from '../../src/storage/database.js'
import { cliJson, type E2eDatabase, emptyDatabase, runCli } from '../helpers/cli.js'

describe('user set-password (CLI, sqlite)', { concurrency: false }, () => {
  let db: E2eDatabase
  before(async () => {
    db = await emptyDatabase('sqlite')
    await cliJson(['tenant', 'create', 'acme'], { env: db.env })
    await cliJson(
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
      { env: db.env, stdin: 'the first password\n' },
    )
    await cliJson(['user', 'create', '--tenant', 'acme', '--email', 'plain@acme.example.com'], {
      env: db.env,
    })
  })
  after(() => db.dispose())

  async function storedHash(email: string): Promise<string> {
    const database = openDatabase(String(db.env.OPTIMALCLOUD_DATABASE_URL))
    try {
      const row = await database.db
        .selectFrom('users')
        .select('password_hash')
        .where('email', '=', email)
        .executeTakeFirstOrThrow()
      return row.password_hash ?? ''
    } finally {
      await database.close()
    }
  }

  it('sets the password read from standard input, and prints the user without any secret', async () => {
    const result = await runCli(
      [
        'user',
        'set-password',
        '--tenant',
        'acme',
        '--email',
        'SVC@acme.example.com',
        '--password-stdin',
        '--json',
      ],
      { env: db.env, stdin: 'the second password\n' },
    )
    assert.equal(result.code, 0, result.stderr)
    const user = JSON.parse(result.stdout) as Record<string, unknown>
    assert.equal(user.email, 'svc@acme.example.com')
    assert.ok(!result.stdout.includes('password'), result.stdout)
    const hash = await storedHash('svc@acme.example.com')
    assert.equal(await verifyPassword('the second password', hash), true)
    assert.equal(await verifyPassword('the first password', hash), false)
  })

  it('refuses without --password-stdin, a short password, a user without a password, an unknown user', async () => {
    const before = await storedHash('svc@acme.example.com')
    const cases: Array<[string[], string, RegExp]> = [
      [['--email', 'svc@acme.example.com'], 'whatever long\n', /needs --password-stdin/],
      [['--email', 'svc@acme.example.com', '--password-stdin'], 'short\n', /at least 8 characters/],
      [
        ['--email', 'plain@acme.example.com', '--password-stdin'],
        'a long password\n',
        /Only service accounts and administrators/,
      ],
      [['--email', 'nobody@acme.example.com', '--password-stdin'], 'a long password\n', /not found/i],
    ]
    for (const [args, stdin, message] of cases) {
      const result = await runCli(['user', 'set-password', '--tenant', 'acme', ...args], {
        env: db.env,
        stdin,
      })
      assert.notEqual(result.code, 0, args.join(' '))
      assert.match(result.stderr, message)
      assert.equal(result.stdout, '')
    }
    assert.equal(await storedHash('svc@acme.example.com'), before)
  })
})

/** Fields that look like secrets read `********` in every read of a stored body (management API, CLI, console); a replay runs the body as received. */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { looksSecret, MASKED, maskSecrets } from '../../src/deliveries/secret-fields.js'
import { addRequester } from '../../src/support/requesters.js'
import { getTicket } from '../../src/support/tickets.js'
import { addAdmin, getPage, signIn } from '../console/console-helpers.js'
import { runCli } from '../helpers/cli.js'
import { as } from '../helpers/management-routes.js'
import { onEachDatabase } from '../helpers/suite.js'
import { post, TEST_SECRET_KEY, TICKETS } from '../helpers/test-app.js'

describe('which field names look like secrets', () => {
  it('matches password, secret, token, api key, authorization (and kin) in any case, inside longer names', () => {
    for (const name of [
      'password',
      'Password',
      'PASSWORD',
      'user_password',
      'newPassword',
      'passwd',
      'db.passwd',
      'pwd',
      'passphrase',
      'passcode',
      'secret',
      'client_secret',
      'ClientSecret',
      'webhook-secret',
      'token',
      'access_token',
      'refreshToken',
      'X-Auth-Token',
      'api_key',
      'apiKey',
      'API-KEY',
      'X-Api-Key',
      'x api key',
      'authorization',
      'Proxy-Authorization',
      'credentials',
      'private_key',
      'cookie',
      'Set-Cookie',
    ]) {
      assert.equal(looksSecret(name), true, name)
    }
  })

  it('leaves ordinary fields alone', () => {
    for (const name of [
      'title',
      'description',
      'requester_email',
      'short_description',
      'sys_id',
      'number',
      'employee_id',
      'author',
      'passenger',
      'keyboard',
      'monkey',
      'api',
      'key',
      'auth_method',
      'state',
    ]) {
      assert.equal(looksSecret(name), false, name)
    }
  })

  it('masks whole values of any type at any depth, in arrays too, and leaves the original untouched', () => {
    const original = {
      user: 'ann',
      password: { nested: 'p' },
      list: [{ token: 1 }, { fine: 'ok', deeper: [{ ClientSecret: null }] }],
      auth: { Authorization: 'Basic xyz', scheme: 'basic' },
    }
    const copy = JSON.parse(JSON.stringify(original))
    assert.deepEqual(JSON.parse(JSON.stringify(maskSecrets(original))), {
      user: 'ann',
      password: MASKED,
      list: [{ token: MASKED }, { fine: 'ok', deeper: [{ ClientSecret: MASKED }] }],
      auth: { Authorization: MASKED, scheme: 'basic' },
    })
    assert.deepEqual(original, copy)
    const proto = JSON.parse('{"__proto__":{"password":"p"},"a":1}')
    const masked = maskSecrets(proto) as Record<string, unknown>
    assert.equal(
      JSON.stringify(masked),
      '{"__proto__":{"password":"********"},"a":1}',
      'a field, not a prototype',
    )
    assert.equal(({} as Record<string, unknown>).password, undefined)
  })
})

/** Secrets a careless helpdesk might put in a body, by field name. */
const SECRETS: Record<string, string> = {
  password: 'hunter2-pw-value',
  client_secret: 'cs-value-7781',
  'X-Api-Key': 'xak-value-5521',
  token: 'tok-value-9921',
  Authorization: 'Basic YWxhZGRpbjpvcGVuc2VzYW1l',
}

onEachDatabase('secret-looking fields in stored bodies', (s) => {
  const body = () => ({
    title: 'Locked out',
    description: 'Please reset',
    requester_email: 'later@acme.example.com',
    password: SECRETS.password,
    u_context: {
      client_secret: SECRETS.client_secret,
      headers: [{ 'X-Api-Key': SECRETS['X-Api-Key'] }, { Authorization: SECRETS.Authorization }],
      deeper: { again: { token: SECRETS.token } },
    },
  })

  let deliveryId = ''
  const failedDelivery = async () => {
    if (deliveryId !== '') return deliveryId
    const res = await post(s.app, `${TICKETS}/createticket`, {
      host: s.acme.host,
      auth: `Bearer ${s.acme.key}`,
      body: body(),
      headers: { 'x-request-id': 'masking-1' },
    })
    assert.equal(res.statusCode, 400, 'the requester is not a support account yet')
    const row = await s.db
      .selectFrom('deliveries')
      .select('id')
      .where('request_id', '=', 'masking-1')
      .executeTakeFirstOrThrow()
    deliveryId = row.id
    return deliveryId
  }

  const assertNoSecret = (text: string, where: string) => {
    for (const [field, secret] of Object.entries(SECRETS))
      assert.ok(!text.includes(secret), `${where} shows the ${field}`)
  }

  it('masks them in the Management API delivery detail, at every depth', async () => {
    const id = await failedDelivery()
    const res = await as<{ request_body: unknown }>(s.app, s.acme, 'GET', `/deliveries/${id}`)
    assert.equal(res.status, 200)
    assertNoSecret(res.raw, 'the management API')
    assert.deepEqual(res.body.request_body, {
      title: 'Locked out',
      description: 'Please reset',
      requester_email: 'later@acme.example.com',
      password: MASKED,
      u_context: {
        client_secret: MASKED,
        headers: [{ 'X-Api-Key': MASKED }, { Authorization: MASKED }],
        deeper: { again: { token: MASKED } },
      },
    })
  })

  it('masks them in the console Activity tab', async () => {
    const id = await failedDelivery()
    const admin = await addAdmin(s.services, s.acme.tenant)
    const { cookie } = await signIn(s.app, s.acme.host, admin.email)
    const page = await getPage(s.app, `/console/activity/${id}`, s.acme.host, cookie)
    assert.equal(page.statusCode, 200)
    assertNoSecret(page.body, 'the console')
    assert.match(page.body, /&quot;password&quot;: &quot;\*\*\*\*\*\*\*\*&quot;/)
    assert.match(page.body, /Locked out/)
  })

  it('masks them in the CLI, as text and as --json', async () => {
    const id = await failedDelivery()
    const env = {
      OPTIMALCLOUD_DATABASE_URL: s.t.testDb.url,
      OPTIMALCLOUD_PG_SCHEMA: s.t.testDb.pgSchema,
      OPTIMALCLOUD_SECRET_KEY: TEST_SECRET_KEY,
    }
    const json = await runCli(['deliveries', 'get', '--tenant', 'acme', id, '--json'], { env })
    assert.equal(json.code, 0, json.stderr)
    assertNoSecret(json.stdout, 'deliveries get --json')
    const parsed = JSON.parse(json.stdout) as { id: string; request_body: { password: string } }
    assert.equal(parsed.id, id)
    assert.equal(parsed.request_body.password, MASKED)
    const text = await runCli(['deliveries', 'get', '--tenant', 'acme', id], { env })
    assert.equal(text.code, 0, text.stderr)
    assertNoSecret(text.stdout, 'deliveries get')
    assert.match(text.stdout, /"password": "\*{8}"/)
    const other = await runCli(['deliveries', 'get', '--tenant', 'other', id], { env })
    assert.notEqual(other.code, 0, 'another tenant does not find it')
    assert.match(other.stderr, /not found/)
  })

  it('replays the body as received, not the masked copy', async () => {
    const id = await failedDelivery()
    await addRequester(s.services.database, s.acme.tenant.id, 'later@acme.example.com', null)
    const replay = await as<{ status: number; body: { ticket: number } }>(
      s.app,
      s.acme,
      'POST',
      `/deliveries/${id}/replay`,
    )
    assert.equal(replay.status, 201, replay.raw)
    assert.equal(replay.body.status, 201)
    const ticket = await getTicket(s.db, s.acme.tenant.id, replay.body.body.ticket)
    const comment = ticket.comments?.[0]?.body ?? ''
    assert.match(comment, new RegExp(`password: ${SECRETS.password}`), 'the original value ran')
    assert.match(comment, new RegExp(SECRETS.client_secret ?? ''))
  })
})

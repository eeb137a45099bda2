/** Paylocity adapter, without a database (the Weblink client is tested against a fake server in test/connectors). */
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { describe, it } from 'node:test'
import { paylocity, weblinkSettings } from '../../src/hr-vendors/paylocity.js'
import { fakeContext, one } from './fake-context.js'

function fixture(name: string): Record<string, unknown> {
  return JSON.parse(readFileSync(new URL(`../fixtures/${name}`, import.meta.url), 'utf8')) as Record<
    string,
    unknown
  >
}

describe('Paylocity adapter', () => {
  it('New Hire → AddUser from Paylocity field names, with the company in the link', async () => {
    const body = fixture('paylocity-new-hire.json')
    const adapted = one(await paylocity.adapt('adduser', body, fakeContext()))
    assert.equal(adapted.kind, 'add')
    assert.ok(adapted.kind === 'add')
    assert.deepEqual(adapted.command.ref, {
      employeeId: String(body.employeeId),
      companyId: String(body.companyId),
    })
    assert.equal(adapted.command.firstName, body.employeeFirstName)
    assert.equal(adapted.command.email, body.employeeWorkEMailAddress)
  })

  it('keeps the generic messages for Paylocity names (employeeId missing → employee_id is a required field)', async () => {
    await assert.rejects(async () => paylocity.adapt('deleteuser', { companyId: 'C1' }, fakeContext()), {
      message: 'employee_id is a required field',
    })
  })

  it('Employee Change without API settings applies the body; with them, an unknown employee costs no call', async () => {
    const plain = await paylocity.adapt(
      'modifyuser',
      { companyId: 'C1', employeeId: '7', employeeWorkPhone: '555' },
      fakeContext(),
    )
    assert.deepEqual(plain, {
      kind: 'modify',
      command: { ref: { employeeId: '7', companyId: 'C1' }, mobile: '555' },
    })
    // An unreachable API: the lookup refuses first, so nothing is sent there.
    const context = fakeContext({
      settings: { client_id: 'c', client_secret: 's', token_url: 'http://127.0.0.1:9/token' },
    })
    await assert.rejects(
      async () => paylocity.adapt('modifyuser', fixture('paylocity-employee-change.json'), context),
      { message: 'User not found in the OptimalCloud' },
    )
    assert.equal(context.lookedUp.length, 1)
  })

  it('reads its Weblink settings only when both the client id and its secret are set', () => {
    assert.equal(weblinkSettings(fakeContext()), null)
    assert.deepEqual(
      weblinkSettings(
        fakeContext({ settings: { client_id: 'c', client_secret: 's', api_base_url: 'https://x' } }),
      ),
      { clientId: 'c', clientSecret: 's', apiBaseUrl: 'https://x' },
    )
    const broken = { ...fakeContext({ settings: { client_id: 'c', client_secret: 'enc:v1:x' } }) }
    broken.secret = () => {
      throw new Error('cannot unseal')
    }
    assert.throws(() => weblinkSettings(broken), { message: 'Failed to fetch the employee from Paylocity' })
  })
})

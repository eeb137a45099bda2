/** Generic HR adapter, without a database: the template for a new vendor's adapter tests. */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { genericHr } from '../../src/hr-vendors/generic-hr.js'
import { fakeContext } from './fake-context.js'

const BODY = {
  employee_id: ' 1111 ',
  first_name: 'John',
  last_name: 'Doe',
  email: 'john.doe@acme.com',
  mobile: '+1 555 0100',
  department: 'ignored',
}

describe('Generic HR adapter', () => {
  it('adduser: an AddUser with trimmed fields; company is empty', async () => {
    assert.deepEqual(await genericHr.adapt('adduser', BODY, fakeContext()), {
      kind: 'add',
      command: {
        ref: { employeeId: '1111', companyId: '' },
        firstName: 'John',
        lastName: 'Doe',
        email: 'john.doe@acme.com',
        mobile: '+1 555 0100',
      },
    })
  })

  it('adduser: required fields in order, with the exact messages', async () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [{}, 'employee_id is a required field'],
      [{ employee_id: '1', last_name: 'D', email: 'a@b.co' }, 'first_name is a required field'],
      [{ employee_id: '1', first_name: 'J', email: 'a@b.co' }, 'last_name is a required field'],
      [{ employee_id: '1', first_name: 'J', last_name: 'D' }, 'email is a required field'],
      [{ employee_id: 7 }, 'employee_id must be a string'],
      [{ ...BODY, mobile: 5 }, 'mobile must be a string'],
    ]
    for (const [body, message] of cases)
      await assert.rejects(async () => genericHr.adapt('adduser', body, fakeContext()), { message })
  })

  it('modifyuser: only the fields present; null clears mobile and display_name', async () => {
    assert.deepEqual(
      await genericHr.adapt(
        'modifyuser',
        { employee_id: '1111', mobile: null, last_name: '' },
        fakeContext(),
      ),
      { kind: 'modify', command: { ref: { employeeId: '1111', companyId: '' }, mobile: null } },
    )
  })

  it('deleteuser: the employee only; everything else is ignored', async () => {
    assert.deepEqual(await genericHr.adapt('deleteuser', BODY, fakeContext()), {
      kind: 'terminate',
      command: { ref: { employeeId: '1111', companyId: '' } },
    })
  })

  it('has no events URL', async () => {
    assert.ok(!genericHr.endpoints.includes('events'))
    await assert.rejects(async () => genericHr.adapt('events', BODY, fakeContext()), { message: 'Not found' })
  })
})

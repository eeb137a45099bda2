/** BambooHR adapter and signature, without a database (its API client runs against the fake in test/hr/bamboohr.test.ts). */
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { describe, it } from 'node:test'
import qs from 'qs'
import {
  bamboohr,
  readEvents,
  SIGNATURE_WINDOW_S,
  signBambooHrBody,
  verifyBambooHrSignature,
} from '../../src/hr-vendors/bamboohr.js'
import { fakeContext, one } from './fake-context.js'

const SECRET = 'webhook-private-key'
const NOW = new Date('2026-12-01T12:00:00Z')
const NOW_S = NOW.getTime() / 1000

function fixture(name: string): string {
  return readFileSync(new URL(`../fixtures/${name}`, import.meta.url), 'utf8')
}

describe('BambooHR signature', () => {
  const body = Buffer.from(fixture('bamboohr-event-updated.json'))

  it('accepts the HMAC-SHA256 of the raw body followed by the timestamp, within five minutes either way', () => {
    for (const at of [NOW_S, NOW_S - SIGNATURE_WINDOW_S, NOW_S + SIGNATURE_WINDOW_S])
      assert.ok(verifyBambooHrSignature(body, signBambooHrBody(body, SECRET, at), SECRET, NOW), String(at))
  })

  it('refuses another key, another body, a stale or future timestamp, and malformed headers', () => {
    const good = signBambooHrBody(body, SECRET, NOW_S)
    const refused: Array<[string, Buffer, Record<string, string | string[] | undefined>]> = [
      ['another key', body, signBambooHrBody(body, 'other', NOW_S)],
      ['one byte more', Buffer.concat([body, Buffer.from(' ')]), good],
      ['stale', body, signBambooHrBody(body, SECRET, NOW_S - SIGNATURE_WINDOW_S - 1)],
      ['future', body, signBambooHrBody(body, SECRET, NOW_S + SIGNATURE_WINDOW_S + 1)],
      ['timestamp not the signed one', body, { ...good, 'x-bamboohr-timestamp': String(NOW_S + 1) }],
      ['timestamp not a number', body, { ...good, 'x-bamboohr-timestamp': '1e9' }],
      ['no signature', body, { 'x-bamboohr-timestamp': String(NOW_S) }],
      [
        'repeated header',
        body,
        { ...good, 'x-bamboohr-signature': [String(good['x-bamboohr-signature']), 'x'] },
      ],
      [
        'uppercase hex',
        body,
        { ...good, 'x-bamboohr-signature': String(good['x-bamboohr-signature']).toUpperCase() },
      ],
    ]
    for (const [name, bytes, headers] of refused)
      assert.equal(verifyBambooHrSignature(bytes, headers, SECRET, NOW), false, name)
  })
})

describe('BambooHR events', () => {
  it('reads the event-based JSON and form bodies alike', () => {
    const json = readEvents(JSON.parse(fixture('bamboohr-event-updated.json')))
    assert.deepEqual(json, [{ type: 'updated', employeeId: '67890', fields: null }])
    const form = readEvents(qs.parse(fixture('bamboohr-event-created.form')) as Record<string, unknown>)
    assert.deepEqual(form, [{ type: 'created', employeeId: '67891', fields: null }])
  })

  it('reads field-based bodies, JSON (a list) and form (keyed by id), with their values', () => {
    const [json] = readEvents(JSON.parse(fixture('bamboohr-field-based.json')))
    assert.equal(json?.type, 'updated')
    assert.equal(json?.employeeId, '67890')
    assert.equal(json?.fields?.['Last Name'], 'Abbott')
    const form = readEvents(
      qs.parse('employees[12345][changedFields][0]=First+Name&employees[12345][First+Name]=John') as Record<
        string,
        unknown
      >,
    )
    assert.deepEqual(form, [{ type: 'updated', employeeId: '12345', fields: { 'First Name': 'John' } }])
  })

  it('answers with the contract messages for a missing employee id or an unknown event type', () => {
    assert.throws(() => readEvents({ type: 'employee.created', data: {} }), {
      message: 'employee_id is a required field',
    })
    assert.throws(() => readEvents({ type: 'employee.created', data: { employeeId: {} } }), {
      message: 'employee_id must be a string',
    })
    assert.throws(() => readEvents({ type: 'time_off.requested', data: { employeeId: '1' } }), {
      message: 'type must be one of: employee.created, employee.updated, employee.deleted',
    })
    assert.throws(() => readEvents({}), { message: 'type is a required field' })
    assert.throws(() => readEvents({ employees: [] }), { message: 'employees is a required field' })
  })

  it('employee.deleted terminates without calling the API; the URL called does not matter', async () => {
    const context = fakeContext()
    for (const endpoint of ['events', 'adduser'] as const)
      assert.deepEqual(
        one(await bamboohr.adapt(endpoint, { type: 'employee.deleted', data: { employeeId: 9 } }, context)),
        {
          kind: 'terminate',
          command: { ref: { employeeId: '9', companyId: '' } },
        },
      )
  })

  it('without API settings, field-based values make the user (English names or aliases alike)', async () => {
    const adapted = one(
      await bamboohr.adapt(
        'events',
        {
          employees: [
            {
              id: '5',
              action: 'Created',
              fields: {
                firstName: 'Ann',
                'Last Name': 'Lee',
                'Work Email': 'ann@example.com',
                Status: 'Active',
              },
            },
          ],
        },
        fakeContext(),
      ),
    )
    assert.equal(adapted.kind, 'add')
    assert.ok(adapted.kind === 'add')
    assert.equal(adapted.command.firstName, 'Ann')
    assert.equal(adapted.command.lastName, 'Lee')
    assert.equal(adapted.command.email, 'ann@example.com')
  })

  it('updated: a terminated user comes back when BambooHR says Active; an unknown one is refused first', async () => {
    const fields = { firstName: 'Ann', lastName: 'Lee', workEmail: 'ann@example.com', status: 'Active' }
    const body = { employees: [{ id: '5', action: 'Updated', fields }] }
    assert.equal(one(await bamboohr.adapt('events', body, fakeContext({ terminated: ['5'] }))).kind, 'add')
    assert.equal(one(await bamboohr.adapt('events', body, fakeContext({ known: ['5'] }))).kind, 'modify')
    await assert.rejects(async () => bamboohr.adapt('events', body, fakeContext()), {
      message: 'User not found in the OptimalCloud',
    })
  })
})

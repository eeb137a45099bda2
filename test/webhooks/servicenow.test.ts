/** ServiceNow: required fields, the requester, the ticket and its first comment, repeats, priorities. */
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { it } from 'node:test'
import { addRequester } from '../../src/support/requesters.js'
import { getTicket } from '../../src/support/tickets.js'
import { countRows } from '../helpers/rows.js'
import { onEachDatabase } from '../helpers/suite.js'
import { post, type SeededTenant, seedTenant, TICKETS } from '../helpers/test-app.js'

const PATH = `${TICKETS}/servicenow`
const INCIDENT = JSON.parse(
  readFileSync(new URL('../fixtures/servicenow-incident.json', import.meta.url), 'utf8'),
) as Record<string, unknown>
const INCIDENT_REQUESTER = 'john.doe@optimalidm.com'

/** The first comment of the fixture: the description, then every other field in the order sent. */
const INCIDENT_COMMENT = [
  'Description of the Incident',
  'number: INC010100',
  'reported_by_email: someone@optimalidm.com',
  'opened_at: 2022-01-05T19:25:51.927013+00:00',
  'impact: low',
  'urgency: medium',
  'category: network',
  'priority: high',
  'sys_id: 9d385017c611228701d22104cc95c371',
  'subcategory: ldap',
  'state: open',
].join('\n')

const PRIORITIES: Array<[unknown, string]> = [
  ['critical', 'urgent'],
  ['Critical', 'urgent'],
  ['urgent', 'urgent'],
  ['URGENT', 'urgent'],
  ['high', 'high'],
  ['HiGh', 'high'],
  [' high ', 'high'],
  ['medium', 'normal'],
  ['moderate', 'normal'],
  ['Normal', 'normal'],
  ['low', 'low'],
  ['planning', 'low'],
  ['Planning', 'low'],
  [1, 'urgent'],
  [2, 'high'],
  [3, 'normal'],
  [4, 'low'],
  [5, 'low'],
  ['1', 'urgent'],
  ['2', 'high'],
  ['3', 'normal'],
  ['4', 'low'],
  ['5', 'low'],
  ['1 - Critical', 'urgent'],
  ['2 - High', 'high'],
  ['2 - high', 'high'],
  ['2-High', 'high'],
  ['3 - Moderate', 'normal'],
  ['4 - Low', 'low'],
  ['5 - PLANNING', 'low'],
  ['whatever', 'normal'],
  ['P1', 'normal'],
  [0, 'normal'],
  [6, 'normal'],
  [1.5, 'normal'],
  ['6 - Extra', 'normal'],
  [null, 'normal'],
  [true, 'normal'],
  [{ level: 1 }, 'normal'],
]

onEachDatabase(
  'ServiceNow webhook',
  {
    tenants: ['acme'],
    setup: (s) => addRequester(s.services.database, s.acme.tenant.id, INCIDENT_REQUESTER, 'John Doe'),
  },
  (s) => {
    let tenantCount = 0
    /** A tenant of its own, for tests that count tickets from 1. */
    async function freshTenant(): Promise<SeededTenant> {
      tenantCount += 1
      const tenant = await seedTenant(s.services, `sn${tenantCount}`)
      await addRequester(s.services.database, tenant.tenant.id, INCIDENT_REQUESTER, null)
      return tenant
    }

    const send = (tenant: SeededTenant, body: unknown) =>
      post(s.app, PATH, { host: tenant.host, auth: tenant.key, body })

    it('checks requester_email then short_description, with the exact messages, and creates nothing', async () => {
      const r = s.acme.requester
      const cases: Array<[Record<string, unknown>, string]> = [
        [{}, 'requester_email is a required field'],
        [{ description: 5 }, 'requester_email is a required field'],
        [{ short_description: 'S' }, 'requester_email is a required field'],
        [{ requester_email: null, short_description: 'S' }, 'requester_email is a required field'],
        [{ requester_email: '', short_description: 'S' }, 'requester_email is a required field'],
        [{ requester_email: ' \t\n ', short_description: 'S' }, 'requester_email is a required field'],
        [{ requester_email: null, short_description: null }, 'requester_email is a required field'],
        [{ short_description: 5 }, 'requester_email is a required field'],
        [{ requester_email: 5 }, 'requester_email must be a string'],
        [{ requester_email: true, short_description: 'S' }, 'requester_email must be a string'],
        [{ requester_email: [r], short_description: 'S' }, 'requester_email must be a string'],
        [{ requester_email: { email: r }, short_description: 'S' }, 'requester_email must be a string'],
        [{ requester_email: r }, 'short_description is a required field'],
        [{ requester_email: r, short_description: null }, 'short_description is a required field'],
        [{ requester_email: r, short_description: '   ' }, 'short_description is a required field'],
        [{ requester_email: r, description: 5 }, 'short_description is a required field'],
        [{ requester_email: r, short_description: 42 }, 'short_description must be a string'],
        [{ requester_email: r, short_description: ['S'] }, 'short_description must be a string'],
        [{ requester_email: r, short_description: 'S', description: 5 }, 'description must be a string'],
        [
          { requester_email: r, short_description: 'S', description: { text: 'D' } },
          'description must be a string',
        ],
        [{ requester_email: r, short_description: 'S', description: ['D'] }, 'description must be a string'],
        [{ requester_email: r, short_description: 'S', description: false }, 'description must be a string'],
        [
          { requester_email: 'nobody@acme.example.com', short_description: 'S', description: 5 },
          'description must be a string',
        ],
      ]
      const before = await countRows(s.db, 'tickets', s.acme.tenant.id)
      for (const [body, message] of cases) {
        const res = await send(s.acme, body)
        assert.equal(res.statusCode, 400, `${JSON.stringify(body)}: ${res.body}`)
        assert.equal(res.body, JSON.stringify({ error: message }), JSON.stringify(body))
      }
      assert.equal(await countRows(s.db, 'tickets', s.acme.tenant.id), before)
    })

    it('refuses a requester who is not a support account of the tenant, and compares emails without case', async () => {
      const before = await countRows(s.db, 'tickets', s.acme.tenant.id)
      const unknown = await send(s.acme, {
        ...INCIDENT,
        requester_email: 'nobody@optimalidm.com',
        sys_id: 'unknown-1',
      })
      assert.equal(unknown.statusCode, 400)
      assert.equal(unknown.body, '{"error":"Requestor email was not found in Zendesk"}')
      assert.equal(await countRows(s.db, 'tickets', s.acme.tenant.id), before)

      const upper = await send(s.acme, {
        requester_email: `  ${s.acme.requester.toUpperCase()} `,
        short_description: 'Case',
      })
      assert.equal(upper.statusCode, 201, upper.body)
      const ticket = await getTicket(s.db, s.acme.tenant.id, upper.json().ticket)
      assert.equal(ticket.requester_email, s.acme.requester.toUpperCase())
    })

    it('creates the ticket: 201 {"ticket":N}, readable with subject, priority, requester, sys_id and the first comment', async () => {
      const tenant = await freshTenant()
      const res = await send(tenant, INCIDENT)
      assert.equal(res.statusCode, 201, res.body)
      assert.equal(res.body, '{"ticket":1}')
      assert.equal(res.headers['content-type'], 'application/json; charset=utf-8')
      const ticket = await getTicket(s.db, tenant.tenant.id, 1)
      assert.equal(ticket.ticket, 1)
      assert.equal(ticket.subject, 'Test Ticket')
      assert.equal(ticket.priority, 'high')
      assert.equal(ticket.requester_email, INCIDENT_REQUESTER)
      assert.equal(ticket.external_id, '9d385017c611228701d22104cc95c371')
      assert.deepEqual(
        ticket.comments?.map((comment) => comment.body),
        [INCIDENT_COMMENT],
      )
    })

    it('answers a repeat of the same sys_id 200 with the same number; changed fields become a comment', async () => {
      const tenant = await freshTenant()
      const { db } = s
      const first = await send(tenant, INCIDENT)
      assert.equal(first.statusCode, 201, first.body)
      const number = first.json().ticket

      const same = await send(tenant, INCIDENT)
      assert.equal(same.statusCode, 200, same.body)
      assert.deepEqual(same.json(), { ticket: number })
      assert.equal(await countRows(db, 'tickets', tenant.tenant.id), 1)
      assert.equal(
        (await getTicket(db, tenant.tenant.id, number)).comments?.length,
        1,
        'an unchanged repeat adds no comment',
      )

      const changed = {
        ...INCIDENT,
        state: 'in progress',
        priority: 'critical',
        description: 'Now with more detail',
        work_notes: 'Restarted the LDAP server',
        reassignment_count: 2,
      }
      const repeat = await send(tenant, changed)
      assert.equal(repeat.statusCode, 200, repeat.body)
      assert.deepEqual(repeat.json(), { ticket: number })
      const again = await send(tenant, changed)
      assert.equal(again.statusCode, 200)
      assert.deepEqual(again.json(), { ticket: number })
      assert.equal(await countRows(db, 'tickets', tenant.tenant.id), 1)
      const ticket = await getTicket(db, tenant.tenant.id, number)
      assert.deepEqual(
        ticket.comments?.map((comment) => comment.body),
        [
          INCIDENT_COMMENT,
          [
            'description: Now with more detail',
            'priority: critical',
            'state: in progress',
            'work_notes: Restarted the LDAP server',
            'reassignment_count: 2',
          ].join('\n'),
        ],
      )
      // Changing back is a change too.
      const back = await send(tenant, { ...changed, state: 'open' })
      assert.equal(back.statusCode, 200)
      const last = (await getTicket(db, tenant.tenant.id, number)).comments?.at(-1)?.body
      assert.equal(last, 'state: open')
    })

    it('finds a repeat by number when there is no sys_id; the number is then the external id', async () => {
      const tenant = await freshTenant()
      const { db } = s
      const incident = {
        requester_email: INCIDENT_REQUESTER,
        short_description: 'No sys_id',
        number: 'INC0001',
      }
      const first = await send(tenant, incident)
      assert.equal(first.statusCode, 201, first.body)
      const nullSysId = await send(tenant, { ...incident, sys_id: null })
      assert.equal(nullSysId.statusCode, 200, nullSysId.body)
      assert.deepEqual(nullSysId.json(), first.json())
      const blankSysId = await send(tenant, { ...incident, sys_id: '  ' })
      assert.equal(blankSysId.statusCode, 200)
      assert.deepEqual(blankSysId.json(), first.json())
      const other = await send(tenant, { ...incident, number: 'INC0002' })
      assert.equal(other.statusCode, 201)
      assert.deepEqual(other.json(), { ticket: 2 })
      assert.equal((await getTicket(db, tenant.tenant.id, 1)).external_id, 'INC0001')
      assert.equal(await countRows(db, 'tickets', tenant.tenant.id), 2)
    })

    it('makes a new ticket each time when there is neither sys_id nor number: positive numbers in order', async () => {
      const tenant = await freshTenant()
      const numbers: number[] = []
      for (let i = 0; i < 4; i++) {
        const res = await send(tenant, { requester_email: INCIDENT_REQUESTER, short_description: 'Plain' })
        assert.equal(res.statusCode, 201, res.body)
        numbers.push(res.json().ticket)
      }
      assert.deepEqual(numbers, [1, 2, 3, 4])
      const ticket = await getTicket(s.db, tenant.tenant.id, 1)
      assert.equal(ticket.external_id, null)
      assert.equal(ticket.priority, 'normal')
      // With neither a description nor other fields, the subject is the comment.
      assert.deepEqual(
        ticket.comments?.map((comment) => comment.body),
        ['Plain'],
      )
    })

    it('writes values that are not strings as JSON, in the order sent, and a null description not at all', async () => {
      const body = {
        zeta: 1,
        requester_email: INCIDENT_REQUESTER,
        flag: true,
        short_description: 'Typed',
        tags: ['a', 'b'],
        description: null,
        nested: { x: 1, y: [null] },
        nothing: null,
        text: 'plain "quoted"',
        empty: '',
      }
      const res = await send(s.acme, body)
      assert.equal(res.statusCode, 201, res.body)
      const ticket = await getTicket(s.db, s.acme.tenant.id, res.json().ticket)
      assert.deepEqual(
        ticket.comments?.map((comment) => comment.body),
        [
          [
            'zeta: 1',
            'flag: true',
            'tags: ["a","b"]',
            'nested: {"x":1,"y":[null]}',
            'nothing: null',
            'text: plain "quoted"',
            'empty: ',
          ].join('\n'),
        ],
      )
    })

    it('maps priorities of every shape, any case; unknown ones are normal and still in the comment', async () => {
      const { db } = s
      for (const [priority, expected] of PRIORITIES) {
        const res = await send(s.acme, {
          requester_email: s.acme.requester,
          short_description: 'P',
          priority,
        })
        assert.equal(res.statusCode, 201, `${JSON.stringify(priority)}: ${res.body}`)
        const ticket = await getTicket(db, s.acme.tenant.id, res.json().ticket)
        assert.equal(ticket.priority, expected, JSON.stringify(priority))
        const line = `priority: ${typeof priority === 'string' ? priority : JSON.stringify(priority)}`
        assert.deepEqual(
          ticket.comments?.map((comment) => comment.body),
          [line],
          JSON.stringify(priority),
        )
      }
      const absent = await send(s.acme, {
        requester_email: s.acme.requester,
        short_description: 'No priority',
      })
      assert.equal((await getTicket(db, s.acme.tenant.id, absent.json().ticket)).priority, 'normal')
    })
  },
)

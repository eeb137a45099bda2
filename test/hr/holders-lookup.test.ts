/** adduser's one read (the linked user and any holder of the email or login ID): right rows, one tenant, indexed. */
import assert from 'node:assert/strict'
import { it } from 'node:test'
import { holdersQuery } from '../../src/directory/provisioning.js'
import { newId } from '../../src/ids.js'
import type { UserTable } from '../../src/storage/schema.js'
import { insertTenantRow } from '../helpers/rows.js'
import { onEachDatabase } from '../helpers/suite.js'

// Rows are written straight to the tables: no seeded tenant is needed.
onEachDatabase('adduser holders lookup', { tenants: [] }, (s) => {
  async function tenant(): Promise<string> {
    return insertTenantRow(s.services.database)
  }

  function user(tenantId: string, email: string, link: { dest: string; employee: string } | null): UserTable {
    const now = new Date().toISOString()
    return {
      id: newId('usr'),
      tenant_id: tenantId,
      login_id: email,
      login_key: email.toLowerCase(),
      email,
      email_key: email.toLowerCase(),
      first_name: 'F',
      last_name: 'L',
      display_name: 'F L',
      mobile: null,
      status: 'active',
      is_service_account: 0,
      is_admin: 0,
      password_hash: null,
      destination_id: link?.dest ?? null,
      company_id: link === null ? null : '',
      employee_id: link?.employee ?? null,
      created_at: now,
      updated_at: now,
    }
  }

  it('finds the linked user and the holders of the email and login ID, in its own tenant only', async () => {
    const a = await tenant()
    const b = await tenant()
    const linked = user(a, 'linked@x.com', { dest: 'dest1', employee: 'E1' })
    const emailHolder = user(a, 'taken@x.com', null)
    const loginHolder = { ...user(a, 'other@x.com', null), login_id: 'L9', login_key: 'l9' }
    const bystander = user(a, 'bystander@x.com', { dest: 'dest1', employee: 'E2' })
    // The same email, login and employee in tenant b must never be returned for tenant a.
    const otherTenant = [
      user(b, 'taken@x.com', { dest: 'dest1', employee: 'E1' }),
      { ...user(b, 'x@x.com', null), login_id: 'L9', login_key: 'l9' },
    ]
    await s.services.database.transaction((trx) =>
      trx
        .insertInto('users')
        .values([linked, emailHolder, loginHolder, bystander, ...otherTenant])
        .execute(),
    )
    const rows = await holdersQuery(s.db, {
      tenantId: a,
      destinationId: 'dest1',
      companyId: '',
      employeeId: 'E1',
      emailKey: 'taken@x.com',
      loginKey: 'l9',
    }).execute()
    assert.deepEqual(rows.map((row) => row.id).sort(), [linked.id, emailHolder.id, loginHolder.id].sort())

    const none = await holdersQuery(s.db, {
      tenantId: a,
      destinationId: 'dest1',
      companyId: '',
      employeeId: 'E404',
      emailKey: 'new@x.com',
      loginKey: 'new@x.com',
    }).execute()
    assert.deepEqual(none, [])
  })

  if (s.dialect === 'sqlite') {
    it('looks each branch up in its unique index instead of reading every user of the tenant', async () => {
      const compiled = holdersQuery(s.db, {
        tenantId: 't',
        destinationId: 'd',
        companyId: '',
        employeeId: 'e',
        emailKey: 'm',
        loginKey: 'l',
      }).compile()
      const { rows } = await s.db.executeQuery<{ detail: string }>({
        ...compiled,
        sql: `explain query plan ${compiled.sql}`,
      })
      const plan = rows.map((row) => row.detail).join('\n')
      assert.match(plan, /MULTI-INDEX OR/)
      for (const index of ['users_employee', 'users_email', 'users_login'])
        assert.match(plan, new RegExp(index))
      assert.doesNotMatch(plan, /SCAN users/)
      assert.doesNotMatch(plan, /INDEX \w+ \(tenant_id=\?\)/)
    })
  }
})

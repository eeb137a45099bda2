/** The console's HR trust pages over HTTP on both dialects: held terminations, dry-run destinations, a user's history, the audit log. */
import assert from 'node:assert/strict'
import { before, it } from 'node:test'
import { createDestination } from '../../src/directory/destinations.js'
import { onEachDatabase } from '../helpers/suite.js'
import { hr } from '../hr/hr-helpers.js'
import { addAdmin, getPage, postForm, signIn } from './console-helpers.js'

onEachDatabase('Console: HR trust pages', (s) => {
  let cookie: string
  let csrf: string
  const host = 'acme.localhost'
  const page = (url: string) => getPage(s.app, url, host, cookie)
  const form = (url: string, fields: Record<string, string> = {}) =>
    postForm(s.app, url, { host, cookie, fields: { _csrf: csrf, ...fields } })

  before(async () => {
    const admin = await addAdmin(s.services, s.acme.tenant)
    ;({ cookie, csrf } = await signIn(s.app, host, admin.email))
  })

  async function heldDestination(name: string, count: number) {
    const { plugin_id: pluginId } = await createDestination(s.services, s.acme.tenant, {
      type: 'generic-hr',
      name,
      settings: { termination_limit: '1' },
    })
    for (let i = 0; i < count; i++) {
      const employee = {
        employee_id: `${name}-${i}`,
        first_name: 'F',
        last_name: `L${i}`,
        email: `${name}-${i}@acme.example.com`,
      }
      assert.equal((await hr(s.app, s.acme, pluginId, 'adduser', employee)).statusCode, 201)
      await hr(s.app, s.acme, pluginId, 'deleteuser', { employee_id: employee.employee_id })
    }
    return pluginId
  }

  it('held terminations show as a notice on the Users and Provisioning pages and are approved from the Held terminations page', async () => {
    const pluginId = await heldDestination('Feed', 3)
    for (const url of ['/console/users', '/console/administration/provisioning', '/console/holds']) {
      const res = await page(url)
      assert.equal(res.statusCode, 200)
      assert.match(res.body, /Terminations are held/, url)
      assert.match(res.body, /2 from <strong>Feed<\/strong>/, url)
    }
    const holds = await page('/console/holds')
    assert.match(holds.body, new RegExp(`/console/holds/${pluginId}/approve`))
    assert.match(holds.body, /Feed-1/)
    const approved = await form(`/console/holds/${pluginId}/approve`)
    assert.equal(approved.statusCode, 200)
    assert.match(approved.body, /2 held terminations applied/)
    assert.doesNotMatch(approved.body, /Terminations are held/)
    const users = await s.db.selectFrom('users').selectAll().where('destination_id', '=', pluginId).execute()
    assert.deepEqual(
      users.map((u) => u.status),
      ['terminated', 'terminated', 'terminated'],
    )
  })

  it('reject from the console drops them; a form without the CSRF token is refused and changes nothing', async () => {
    const pluginId = await heldDestination('Other', 2)
    const forged = await postForm(s.app, `/console/holds/${pluginId}/reject`, { host, cookie, fields: {} })
    assert.equal(forged.statusCode, 403)
    const cross = await postForm(s.app, `/console/holds/${pluginId}/reject`, {
      host,
      cookie,
      fields: { _csrf: csrf },
      headers: { origin: 'https://evil.example' },
    })
    assert.equal(cross.statusCode, 403)
    assert.match((await page('/console/holds')).body, /1 from <strong>Other<\/strong>/)
    const rejected = await form(`/console/holds/${pluginId}/reject`)
    assert.equal(rejected.statusCode, 200)
    assert.match(rejected.body, /1 held termination rejected/)
    const users = await s.db
      .selectFrom('users')
      .selectAll()
      .where('destination_id', '=', pluginId)
      .orderBy('employee_id')
      .execute()
    assert.deepEqual(
      users.map((u) => u.status),
      ['terminated', 'active'],
    )
  })

  it('signed out, the Held terminations page leads to sign-in', async () => {
    const res = await getPage(s.app, '/console/holds', host)
    assert.equal(res.statusCode, 303)
    assert.equal(res.headers.location, '/console/login')
  })
})

onEachDatabase('Console: dry-run destinations', (s) => {
  it('a destination set to dry-run in the console shows a dry run badge, and the Activity tab shows what each call would have changed', async () => {
    const host = 'acme.localhost'
    const admin = await addAdmin(s.services, s.acme.tenant)
    const { cookie, csrf } = await signIn(s.app, host, admin.email)
    const { plugin_id: pluginId } = await createDestination(s.services, s.acme.tenant, {
      type: 'generic-hr',
      name: 'Pilot',
    })
    const settings = await getPage(
      s.app,
      `/console/administration/provisioning/${pluginId}/edit`,
      host,
      cookie,
    )
    assert.match(settings.body, /name="mode"/)
    assert.match(settings.body, /name="termination_limit"/)
    const saved = await postForm(s.app, `/console/administration/provisioning/${pluginId}`, {
      host,
      cookie,
      fields: { _csrf: csrf, name: 'Pilot', mode: 'dry-run' },
    })
    assert.ok(saved.statusCode < 400, saved.body)
    const list = await getPage(s.app, '/console/administration/provisioning', host, cookie)
    assert.match(list.body, /Pilot<\/a> <span class="badge">dry run<\/span>/)

    const res = await hr(s.app, s.acme, pluginId, 'adduser', {
      employee_id: 'P1',
      first_name: 'Pi',
      last_name: 'Lot',
      email: 'pilot@acme.example.com',
    })
    assert.equal(res.json().dry_run, true)
    const activity = await getPage(s.app, '/console/activity', host, cookie)
    assert.match(
      activity.body,
      /data-dry-run>dry run<\/span> <span class="muted">would create user pilot@acme\.example\.com/,
    )
    const users = await s.db.selectFrom('users').select('id').where('employee_id', '=', 'P1').execute()
    assert.deepEqual(users, [])
  })
})

onEachDatabase('Console: user page with history', (s) => {
  it('the Users table links each user to its page: details, then every change with who made it and before → after', async () => {
    const host = 'acme.localhost'
    const admin = await addAdmin(s.services, s.acme.tenant)
    const { cookie, csrf } = await signIn(s.app, host, admin.email)
    const { plugin_id: pluginId } = await createDestination(s.services, s.acme.tenant, {
      type: 'generic-hr',
      name: 'HR',
    })
    const add = await hr(s.app, s.acme, pluginId, 'adduser', {
      employee_id: 'U1',
      first_name: 'Una',
      last_name: 'User',
      email: 'una@acme.example.com',
    })
    const userId = add.json().user.id
    await hr(s.app, s.acme, pluginId, 'modifyuser', { employee_id: 'U1', mobile: '+1 555 0111' })
    const disabled = await postForm(s.app, `/console/users/${userId}/disable`, {
      host,
      cookie,
      fields: { _csrf: csrf },
    })
    assert.equal(disabled.statusCode, 200)

    const users = await getPage(s.app, '/console/users', host, cookie)
    // Emails may wrap at their separators (<wbr>), so the table fits a desktop screen.
    const usersTable = users.body.replaceAll('<wbr>', '')
    assert.match(usersTable, new RegExp(`<a href="/console/users/${userId}">una@acme\\.example\\.com</a>`))
    const page = await getPage(s.app, `/console/users/${userId}`, host, cookie)
    assert.equal(page.statusCode, 200)
    assert.match(page.body, /id="user-details"/)
    assert.match(page.body, /id="user-history"/)
    assert.match(page.body, /<td>created<\/td>/)
    assert.match(page.body, /mobile: \(none\) → \+1 555 0111/)
    assert.match(
      page.body,
      new RegExp(`HR destination <a href="/console/administration/provisioning/${pluginId}">HR</a>`),
    )
    assert.match(
      page.body,
      /<td>disabled<\/td><td>administrator <a href="\/console\/users\/[^"]+">admin@acme\.example\.com<\/a><\/td>\s*<td>status: active → disabled/,
    )

    const theirs = await s.db
      .selectFrom('users')
      .select('id')
      .where('tenant_id', '=', s.other.tenant.id)
      .executeTakeFirstOrThrow()
    assert.equal((await getPage(s.app, `/console/users/${theirs.id}`, host, cookie)).statusCode, 404)
  })
})

/** The console in a real browser (Debian's Chromium through playwright-core): sign in and use every tab. */
import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { request } from 'node:http'
import type { AddressInfo } from 'node:net'
import { after, before, describe, it } from 'node:test'
import { type Browser, chromium, type Page } from 'playwright-core'
import { recordDelivery } from '../../src/deliveries/deliveries.js'
import { createUser } from '../../src/directory/users.js'
import { bambooEmployeeFixture, type FakeBambooHr, startFakeBambooHr } from '../fakes/fake-bamboohr.js'
import { seedTenant, startTestApp, type TestApp } from '../helpers/test-app.js'
import { ADMIN_PASSWORD, addAdmin } from './console-helpers.js'

const CHROMIUM = '/usr/bin/chromium'
// Without Chromium the test is skipped on a workstation; under CI it must run, so it fails there instead.
const skip = !existsSync(CHROMIUM) && process.env.CI !== 'true' ? `${CHROMIUM} is not installed` : false

describe('console in Chromium', { skip, timeout: 60_000 }, () => {
  let t: TestApp
  let browser: Browser
  let origin: string
  let adminEmail: string
  let bamboo: FakeBambooHr
  let acmeKey: string
  let acmeKeyId: string
  let acmeTenantId: string

  before(async () => {
    // The fake BambooHR listens on 127.0.0.1: the operator's allow-private setting is the only way to reach it.
    t = await startTestApp('sqlite', { allowPrivateConnectors: true })
    const acme = await seedTenant(t.services, 'acme')
    acmeKey = acme.key
    acmeKeyId = acme.keyId
    acmeTenantId = acme.tenant.id
    adminEmail = (await addAdmin(t.services, acme.tenant)).email
    bamboo = await startFakeBambooHr()
    await t.app.listen({ host: '127.0.0.1', port: 0 })
    const { port } = t.app.server.address() as AddressInfo
    // As `serve` does: the URLs shown to administrators name the port that answers.
    t.services.config.port = port
    origin = `http://acme.localhost:${port}`
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--no-first-run',
        '--disable-sync',
        '--host-resolver-rules=MAP *.localhost 127.0.0.1',
      ],
    })
  })
  /** Signs in on the console's sign-in page as the tenant's administrator, landing on the API keys. */
  async function signInAsAdmin(page: Page): Promise<void> {
    await page.goto(`${origin}/console/login`)
    await page.fill('#email', adminEmail)
    await page.fill('#password', ADMIN_PASSWORD)
    await page.click('button[type=submit]')
    await page.waitForURL(/\/console\/administration\/api-keys$/)
  }

  after(async () => {
    await browser?.close()
    await t?.close()
    await bamboo?.close()
  })

  it('signs in, creates a key, a destination and a service account, and opens Support and Activity', async () => {
    const page = await browser.newPage()
    page.setDefaultTimeout(10_000)

    await page.goto(`${origin}/console/administration`)
    assert.match(page.url(), /\/console\/login$/)
    await page.fill('#email', adminEmail)
    await page.fill('#password', 'not the password')
    await page.click('button[type=submit]')
    assert.match((await page.textContent('.error')) ?? '', /Sign-in failed/)
    await page.fill('#email', adminEmail)
    await page.fill('#password', ADMIN_PASSWORD)
    await page.click('button[type=submit]')
    await page.waitForURL(/\/console\/administration\/api-keys$/)
    const cookies = await page.context().cookies()
    const session = cookies.find((c) => c.name === 'oc_session')
    assert.ok(session?.httpOnly)
    assert.equal(session?.sameSite, 'Strict')

    // API Key Manager: the key is shown once.
    await page.fill('#key-name', 'servicenow')
    await page.click('form[action="/console/administration/api-keys"] button[type=submit]')
    const key = (await page.textContent('[data-secret="api-key"]'))?.trim() ?? ''
    assert.match(key, /^oc_[A-Za-z0-9]{43}$/)
    // Its Copy button puts the key on the clipboard (the console's one script, allowed by its CSP hash).
    await page.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin })
    await page.click('button[data-copy="new-api-key"]')
    assert.equal(await page.evaluate('navigator.clipboard.readText()'), key)
    assert.equal((await page.textContent('button[data-copy="new-api-key"]'))?.trim(), 'Copied')
    await page.goto(`${origin}/console/administration/api-keys`)
    assert.ok(!(await page.content()).includes(key))
    assert.match((await page.textContent('table')) ?? '', /servicenow/)

    // Provisioning Manager: a Generic HR destination and its three URLs on the User Provisioning tab.
    await page.click('text=Provisioning Manager')
    await page.click('[data-new-destination="generic-hr"]')
    await page.fill('#dest-name', 'Workday')
    await page.click('form[action="/console/administration/provisioning"] button[type=submit]')
    await page.waitForSelector('#user-provisioning')
    for (const op of ['adduser', 'modifyuser', 'deleteuser']) {
      const url = (await page.textContent(`[data-url="${op}"]`)) ?? ''
      assert.match(
        url,
        new RegExp(
          `^${origin.replaceAll('.', '\\.')}/v5\\.0/mgmt/api/v1\\.0/webhooks/provisioning/[A-Za-z0-9]+/${op}$`,
        ),
      )
    }
    await page.screenshot({ path: '/tmp/console.png', fullPage: true })

    // Its edit page: a new name and login ID from employee_id, read back on the destination page.
    await page.click('text=Edit name and settings')
    await page.fill('#dest-name', 'Workday HR')
    await page.selectOption('#dest-setting-login_id', 'employee_id')
    await page.click('form.stack button[type=submit]')
    assert.match((await page.textContent('.notice')) ?? '', /Destination saved/)
    assert.match((await page.textContent('#user-provisioning')) ?? '', /adduser/)
    assert.match((await page.textContent('main')) ?? '', /Workday HR[\s\S]*employee_id/)

    // A BambooHR destination made in the console, fed by signed events from the fake BambooHR:
    // created, updated and terminated users show up in the User Manager.
    await page.click('nav.sub >> text=Provisioning Manager')
    await page.click('[data-new-destination="bamboohr"]')
    await page.fill('#dest-name', 'BambooHR')
    await page.fill('#dest-setting-company_domain', bamboo.companyDomain)
    await page.fill('#dest-setting-api_key', bamboo.apiKey)
    await page.fill('#dest-setting-webhook_secret', bamboo.webhookSecret)
    await page.fill('#dest-setting-api_base_url', bamboo.url)
    await page.click('form.stack button[type=submit]')
    const eventsUrl = new URL((await page.textContent('[data-url="events"]')) ?? '')
    assert.equal(await page.locator('[data-url="adduser"]').count(), 0, 'one URL for BambooHR')
    assert.ok(!(await page.content()).includes(bamboo.webhookSecret))
    bamboo.employees.set('67890', bambooEmployeeFixture())
    const sendEvent = async (type: string) => {
      const { payload, headers } = bamboo.signedEvent({ type, data: { companyId: '1', employeeId: '67890' } })
      // node:http, not fetch: fetch does not let a caller set Host, and the tenant is read from it.
      const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
        const call = request(
          {
            host: '127.0.0.1',
            port: eventsUrl.port,
            path: eventsUrl.pathname,
            method: 'POST',
            headers: { ...headers, host: eventsUrl.host },
          },
          (res) => {
            let body = ''
            res.on('data', (chunk) => {
              body += chunk
            })
            res.on('end', () => resolve({ status: res.statusCode ?? 0, body }))
          },
        )
        call.on('error', reject)
        call.end(payload)
      })
      const user = (JSON.parse(answer.body) as { user?: { status: string; last_name: string } }).user
      return { status: answer.status, user }
    }
    assert.equal((await sendEvent('employee.created')).status, 201)
    bamboo.employees.set('67890', { ...bambooEmployeeFixture(), lastName: 'Abbott-Smith' })
    assert.equal((await sendEvent('employee.updated')).user?.last_name, 'Abbott-Smith')
    assert.equal((await sendEvent('employee.deleted')).user?.status, 'terminated')
    await page.click('nav.tabs >> text=Identity Management')
    const usersTable = (await page.textContent('table')) ?? ''
    assert.match(usersTable, /cabbott@example\.com[\s\S]*terminated/)

    // Identity Management: a service account, the vendor page's way.
    await page.click('nav.tabs >> text=Identity Management')
    await page.fill('#user-email', 'sas@acme.example.com')
    await page.fill('#user-first', 'SAS')
    await page.fill('#user-last', 'Helpdesk')
    await page.check('#user-service')
    await page.fill('#user-password', 'service account password 9')
    await page.click('form[action="/console/users"] button[type=submit]')
    assert.match((await page.textContent('.notice')) ?? '', /Service account sas@acme\.example\.com created/)
    assert.match((await page.textContent('table')) ?? '', /SAS Helpdesk/)

    await page.click('nav.tabs >> text=Support')
    assert.match((await page.textContent('h1')) ?? '', /Support/)
    await page.click('nav.tabs >> text=Activity')
    assert.match((await page.textContent('h1')) ?? '', /Activity/)

    // Signing out ends the session: the console sends the browser back to sign-in.
    await page.click('header button:has-text("Sign out")')
    await page.waitForURL(/\/console\/login$/)
    await page.goto(`${origin}/console/users`)
    assert.match(page.url(), /\/console\/login$/)
  })

  it('fits 1280 px and 390 px wide: no page scrolls sideways, and tables fit their cards on a desktop', async () => {
    // Long values, as real tenants have: a long email in the users table, a destination's long URLs.
    const acme = await t.services.tenants.findByName('acme')
    assert.ok(acme !== null)
    await createUser(t.services.database, acme.id, {
      email: 'firstname.middlename.lastname-with-a-long-suffix@subsidiary.acme-corporation.example.com',
      firstName: 'Maximiliana',
      lastName: 'Featherstonehaugh-Cholmondeley',
    })
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } })
    const page = await context.newPage()
    page.setDefaultTimeout(10_000)
    await signInAsAdmin(page)
    await page.goto(`${origin}/console/administration/provisioning`)
    const destination = await page.getAttribute('main table a', 'href')
    assert.ok(destination !== null)
    await page.goto(`${origin}/console/users`)
    const passwordPage = await page.getAttribute('a[data-reset-password]', 'href')
    assert.ok(passwordPage !== null, 'a service account has Reset password')
    const pages = [
      '/console/administration/api-keys',
      '/console/administration/provisioning',
      destination,
      `${destination}/edit`,
      '/console/users',
      '/console/support',
      '/console/support/settings',
      '/console/activity',
      passwordPage,
    ]
    for (const width of [1280, 390]) {
      await page.setViewportSize({ width, height: 900 })
      for (const path of pages) {
        await page.goto(`${origin}${path}`)
        // A string, evaluated in the page: the test's TypeScript has no DOM types.
        const fit = (await page.evaluate(`({
          page: document.documentElement.scrollWidth,
          viewport: window.innerWidth,
          cards: [...document.querySelectorAll('section.card')].map((card) => card.scrollWidth - card.clientWidth),
        })`)) as { page: number; viewport: number; cards: number[] }
        const name = path.replaceAll('/', '_')
        await page.screenshot({ path: `/tmp/console-${width}${name}.png`, fullPage: true })
        assert.ok(fit.page <= fit.viewport, `${path} at ${width} px: the page is ${fit.page} px wide`)
        // On a desktop every table fits its card; on a phone a wide table scrolls inside its card only.
        if (width === 1280)
          assert.deepEqual(
            fit.cards.filter((extra) => extra > 0),
            [],
            `${path} at ${width} px`,
          )
      }
    }
    await context.close()
  })

  it('pilots an HR feed in dry run, holds terminations over the limit and approves them, then reads a user history and the audit log', async () => {
    const page = await browser.newPage()
    page.setDefaultTimeout(10_000)
    await signInAsAdmin(page)

    // A Generic HR destination in dry run with a safeguard of one termination an hour.
    await page.click('text=Provisioning Manager')
    await page.click('[data-new-destination="generic-hr"]')
    await page.fill('#dest-name', 'Pilot feed')
    await page.fill('#dest-setting-termination_limit', '1')
    await page.selectOption('#dest-setting-mode', 'dry-run')
    await page.click('form[action="/console/administration/provisioning"] button[type=submit]')
    const addUrl = new URL((await page.textContent('[data-url="adduser"]')) ?? '')
    const pluginId = addUrl.pathname.split('/').at(-2) ?? ''
    const call = async (operation: string, body: object) => {
      const res = await t.app.inject({
        method: 'POST',
        url: `/v5.0/mgmt/api/v1.0/webhooks/provisioning/${pluginId}/${operation}`,
        headers: {
          host: addUrl.host,
          authorization: `Bearer ${acmeKey}`,
          'content-type': 'application/json',
        },
        payload: JSON.stringify(body),
      })
      return { status: res.statusCode, body: res.json() as Record<string, unknown> }
    }
    const employee = (n: number) => ({
      employee_id: `B${n}`,
      first_name: 'Bea',
      last_name: `Feed${n}`,
      email: `bea${n}@acme.example.com`,
    })
    const dry = await call('adduser', employee(1))
    assert.equal(dry.status, 201)
    assert.equal(dry.body.dry_run, true)
    await page.click('nav.tabs >> text=Activity')
    assert.match((await page.textContent('[data-dry-run]')) ?? '', /dry run/)
    assert.match((await page.textContent('main')) ?? '', /would create user bea1@acme\.example\.com/)

    // Live: three hires, three terminations; the second and third are held.
    await page.goto(`${origin}/console/administration/provisioning/${pluginId}/edit`)
    await page.selectOption('#dest-setting-mode', 'live')
    await page.click('form.stack button[type=submit]')
    assert.match((await page.textContent('.notice')) ?? '', /Destination saved/)
    for (const n of [1, 2, 3]) assert.equal((await call('adduser', employee(n))).status, 201)
    const statuses = []
    for (const n of [1, 2, 3]) statuses.push((await call('deleteuser', { employee_id: `B${n}` })).status)
    assert.deepEqual(statuses, [200, 202, 202])

    await page.click('nav.tabs >> text=Identity Management')
    assert.match((await page.textContent('#held-notice')) ?? '', /2 from Pilot feed/)
    await page.click('#held-notice >> text=Review held terminations')
    await page.waitForURL(/\/console\/holds$/)
    assert.match((await page.textContent('#held-changes')) ?? '', /B2[\s\S]*B3/)
    await page.click('#held-destinations button:has-text("Approve 2")')
    assert.match((await page.textContent('.notice')) ?? '', /2 held terminations applied/)
    assert.equal(await page.locator('#held-notice').count(), 0)

    // The user's page: details and every change, with who made it.
    await page.click('nav.sub >> text=User Manager')
    await page.click('a:has-text("bea2@acme.example.com")')
    await page.waitForSelector('#user-history')
    assert.match((await page.textContent('#user-details')) ?? '', /terminated/)
    const history = (await page.textContent('#user-history')) ?? ''
    assert.match(
      history,
      /created[\s\S]*HR destination[\s\S]*terminated[\s\S]*administrator[\s\S]*status: active → terminated/,
    )

    // The audit log: the approval and the sign-in, by this administrator.
    await page.click('nav.tabs >> text=Administration')
    await page.click('nav.sub >> text=Audit log')
    const audit = (await page.textContent('#audit-log')) ?? ''
    assert.match(audit, /approveHolds/)
    assert.match(audit, /updateDestination/)
    assert.match(audit, /signIn/)
    await page.close()
  })

  it('pages through 250 deliveries with Next and Previous, and filters the Activity tab', async () => {
    const ids: string[] = []
    await t.services.database.transaction(async (trx) => {
      for (let i = 0; i < 250; i++) {
        ids.push(
          await recordDelivery(trx, {
            tenantId: acmeTenantId,
            endpoint: 'createticket',
            principal: `api_key:${acmeKeyId}`,
            statusCode: i % 4 === 0 ? 400 : 201,
            error: i % 4 === 0 ? 'Requestor email was not found' : null,
            requestId: `browser-${i}`,
            durationMs: 1,
            requestBody: { i },
          }),
        )
      }
    })
    const page = await browser.newPage()
    page.setDefaultTimeout(10_000)
    await signInAsAdmin(page)
    await page.click('nav.tabs >> text=Activity')

    const listed = () =>
      page.$$eval('main table a[href^="/console/activity/dlv_"]', (links) =>
        links.map((a) => (a.getAttribute('href') ?? '').replace('/console/activity/', '')),
      )
    // The caller reads as the key's name, not its id.
    assert.equal((await page.textContent('main table tbody tr td:nth-child(6)'))?.trim(), 'test')
    const seen: string[] = []
    const sizes: number[] = []
    for (;;) {
      const rows = (await listed()).filter((id) => ids.includes(id))
      seen.push(...rows)
      sizes.push(rows.length)
      if ((await page.locator('nav.pager a[rel="next"]').count()) === 0) break
      await page.click('nav.pager a[rel="next"]')
      assert.ok(sizes.length < 10, 'the pages end')
    }
    // 50 a page, newest first, each delivery once (the first test's deliveries come after them).
    assert.deepEqual(sizes.slice(0, 5), [50, 50, 50, 50, 50])
    assert.deepEqual(seen, [...ids].reverse())
    // Back one page: the rows of the page before.
    await page.click('nav.pager a[rel="prev"]')
    assert.equal((await listed()).length, 50)

    // Failed only, through the filter form: one in four (63), and the pager keeps the filter.
    await page.selectOption('select[name="outcome"]', 'failed')
    await page.click('form.filters [type=submit]')
    assert.match(page.url(), /outcome=failed/)
    const failed = (await listed()).filter((id) => ids.includes(id))
    assert.equal(failed.length, 50)
    assert.match((await page.textContent('main table')) ?? '', /Requestor email was not found/)
    await page.click('nav.pager a[rel="next"]')
    assert.match(page.url(), /outcome=failed/)
    assert.equal((await listed()).filter((id) => ids.includes(id)).length, 13)
    assert.equal(await page.locator('nav.pager a[rel="next"]').count(), 0)
  })
})

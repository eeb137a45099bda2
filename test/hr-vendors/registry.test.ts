/**
 * The HR vendor registry's contract, checked for every vendor in it: a new vendor module is held to
 * the same rules and shows up on every surface (management API and its OpenAPI document, console,
 * CLI help) without any other edit.
 */
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { it } from 'node:test'
import {
  COMMON_SETTINGS,
  DESTINATION_TYPES,
  HR_VENDORS,
  hrVendor,
  settingsOf,
} from '../../src/hr-vendors/index.js'
import { addAdmin, getPage, signIn } from '../console/console-helpers.js'
import { CLI, ROOT } from '../helpers/cli.js'
import { as } from '../helpers/management-routes.js'
import { onEachDatabase } from '../helpers/suite.js'

it('every vendor is well formed: its type is its key, settings unique and not common ones, together groups known', () => {
  assert.deepEqual(DESTINATION_TYPES, Object.keys(HR_VENDORS))
  for (const [type, vendor] of Object.entries(HR_VENDORS)) {
    assert.equal(vendor.type, type)
    assert.ok(vendor.label.length > 0 && vendor.description.length > 0, type)
    const keys = settingsOf(vendor).map((spec) => spec.key)
    assert.equal(new Set(keys).size, keys.length, `${type}: a setting declared twice`)
    for (const spec of vendor.settings)
      assert.ok(
        !COMMON_SETTINGS.some((common) => common.key === spec.key),
        `${type}.${spec.key} is a common setting`,
      )
    for (const group of vendor.together ?? [])
      for (const key of group) assert.ok(keys.includes(key), `${type}: ${key}`)
    assert.ok(vendor.endpoints.length > 0, type)
    if (vendor.authentication.kind === 'signature') {
      const { secretSetting } = vendor.authentication
      assert.equal(
        vendor.settings.find((spec) => spec.key === secretSetting)?.secret,
        true,
        `${type}: ${secretSetting}`,
      )
    }
  }
  assert.throws(() => hrVendor('sap'), { message: `type must be one of: ${DESTINATION_TYPES.join(', ')}` })
})

it("the CLI's help names every type and every vendor's settings", () => {
  const help = spawnSync(process.execPath, [...CLI, 'destination', 'create', '--help'], {
    encoding: 'utf8',
    cwd: ROOT,
  }).stdout.replace(/\s+/g, ' ')
  for (const vendor of Object.values(HR_VENDORS)) {
    assert.ok(help.includes(vendor.type), vendor.type)
    for (const spec of vendor.settings) assert.ok(help.includes(spec.key), `${vendor.type}.${spec.key}`)
  }
})

onEachDatabase('HR vendor registry on every surface', { tenants: ['acme'] }, (s) => {
  it('the OpenAPI document and the management API take every type; secret settings read ********', async () => {
    const doc = (
      await s.app.inject({ url: '/v5.0/mgmt/api/v1.0/openapi.json', headers: { host: s.acme.host } })
    ).json()
    const schema = JSON.stringify(
      doc.paths['/v5.0/mgmt/api/v1.0/destinations'].post.requestBody.content['application/json'].schema,
    )
    for (const type of DESTINATION_TYPES) assert.ok(schema.includes(`"${type}"`), type)

    for (const vendor of Object.values(HR_VENDORS)) {
      const settings: Record<string, string> = {}
      for (const spec of vendor.settings)
        settings[spec.key] =
          spec.choices?.[0] ?? (spec.url === true ? 'https://hr.example.com' : `${spec.key}-value`)
      const created = await as<{ settings: Record<string, string>; urls: Record<string, string> }>(
        s.app,
        s.acme,
        'POST',
        '/destinations',
        { type: vendor.type, name: vendor.label, settings },
      )
      assert.equal(created.status, 201, `${vendor.type}: ${created.raw}`)
      for (const spec of vendor.settings) {
        const shown = created.body.settings[spec.key]
        assert.equal(
          shown,
          spec.secret === true ? '********' : settings[spec.key],
          `${vendor.type}.${spec.key}`,
        )
      }
      for (const endpoint of vendor.endpoints)
        assert.ok(created.body.urls[endpoint]?.endsWith(`/${endpoint}`))
      assert.ok(
        !created.raw.includes('-value"') ||
          vendor.settings.every((spec) => spec.secret !== true || !created.raw.includes(`${spec.key}-value`)),
      )
    }
  })

  it('the console offers a form for every vendor with every setting', async () => {
    const admin = await addAdmin(s.services, s.acme.tenant)
    const { cookie } = await signIn(s.app, s.acme.host, admin.email)
    for (const vendor of Object.values(HR_VENDORS)) {
      const form = await getPage(
        s.app,
        `/console/administration/provisioning/new?type=${vendor.type}`,
        s.acme.host,
        cookie,
      )
      assert.equal(form.statusCode, 200, vendor.type)
      for (const spec of settingsOf(vendor))
        assert.match(form.body, new RegExp(`name="${spec.key}"`), `${vendor.type}.${spec.key}`)
    }
  })
})

/** A tenant's support system setting: builtin or Zendesk, with the Zendesk token sealed at rest. */
import { checkOutboundUrl } from '../connectors/http/outbound-policy.js'
import {
  validateZendeskSettings,
  type ZendeskSettings,
  zendeskUrlProblem,
} from '../connectors/zendesk-client.js'
import { AppError } from '../errors.js'
import { secretBox } from '../secrets.js'
import type { Services } from '../services.js'
import type { Tx } from '../storage/database.js'
import type { Tenant } from '../tenancy/tenants.js'

export type SupportBackend = 'builtin' | 'zendesk'

/** What is shown back: never the token, only that one is set. */
export type SupportView =
  | { backend: 'builtin' }
  | { backend: 'zendesk'; url: string; email: string; api_token: typeof MASK }

/** The settings a Zendesk tenant stores: `api_token` holds the sealed token (`enc:v1:…`). */
interface StoredZendeskSettings {
  url: string
  email: string
  api_token: string
}

export const ZENDESK_SETTING_KEYS = ['url', 'email', 'api_token'] as const
const MASK = '********'

/**
 * Turns `--set KEY=VALUE` arguments into a record: the value is everything after the first `=`.
 * Values are never echoed in errors (one of them is a token).
 *
 * @example parseSettingAssignments(['url=https://acme.zendesk.com']) // { url: 'https://acme.zendesk.com' }
 */
export function parseSettingAssignments(pairs: readonly string[]): Record<string, string> {
  const settings: Record<string, string> = {}
  for (const pair of pairs) {
    const at = pair.indexOf('=')
    const key = at < 0 ? pair.trim() : pair.slice(0, at).trim()
    if (at <= 0 || key === '') {
      throw new AppError('bad_request', {
        message: '--set takes KEY=VALUE, like --set url=https://acme.zendesk.com',
      })
    }
    if (Object.hasOwn(settings, key)) {
      throw new AppError('bad_request', { message: `Setting ${key} is given more than once` })
    }
    settings[key] = pair.slice(at + 1)
  }
  return settings
}

/**
 * Sets the tenant's support system. `zendesk` merges `settings` over the stored Zendesk settings (so
 * the token can be rotated alone), validates the result, and seals the token; `builtin` forgets any
 * Zendesk settings, so no token is kept that nothing uses. Bad input is a 400 and changes nothing.
 *
 * @example await configureSupport(services, tenant, 'zendesk', { url, email, api_token })
 */
export async function configureSupport(
  services: Services,
  tenant: Tenant,
  backend: string,
  settings: Record<string, string>,
): Promise<SupportView> {
  if (backend !== 'builtin' && backend !== 'zendesk') {
    throw new AppError('bad_request', { message: 'backend must be builtin or zendesk' })
  }
  const keys = Object.keys(settings)
  if (backend === 'builtin') {
    if (keys.length > 0) {
      throw new AppError('bad_request', {
        message: `The builtin support system takes no settings (got ${keys.join(', ')})`,
      })
    }
    await services.database.transaction(async (trx) => {
      const row = await trx
        .selectFrom('tenants')
        .select('support_backend')
        .where('id', '=', tenant.id)
        .executeTakeFirst()
      if (row?.support_backend !== 'builtin') await releaseIncidents(trx, tenant.id)
      await trx
        .updateTable('tenants')
        .set({ support_backend: 'builtin', support_settings: '{}' })
        .where('id', '=', tenant.id)
        .execute()
    })
    services.tenants.forget(tenant.name)
    return { backend: 'builtin' }
  }

  const unknown = keys.filter((key) => !(ZENDESK_SETTING_KEYS as readonly string[]).includes(key))
  if (unknown.length > 0) {
    throw new AppError('bad_request', {
      message: `Unknown Zendesk setting ${unknown.join(', ')} (the settings are ${ZENDESK_SETTING_KEYS.join(', ')})`,
    })
  }
  // The address the token will be sent to must be an https URL of a public host (and resolve to one):
  // checked here, outside the transaction, since it waits on DNS. A kept address is checked again,
  // as it may have been saved under a laxer policy.
  const shown = supportView(tenant)
  const nextUrl = settings.url ?? (shown.backend === 'zendesk' ? shown.url : undefined)
  if (nextUrl !== undefined && zendeskUrlProblem(normalizeUrl(nextUrl)) === null) {
    await checkOutboundUrl(services.outbound, 'url', normalizeUrl(nextUrl))
  }
  const box = secretBox(services.config.secretKey())
  // Read and write in one transaction (database only), so two configures cannot interleave a merge.
  const view = await services.database.transaction(async (trx) => {
    const row = await trx
      .selectFrom('tenants')
      .select(['support_backend', 'support_settings'])
      .where('id', '=', tenant.id)
      .executeTakeFirst()
    if (row === undefined) throw new AppError('not_found', { message: `Tenant ${tenant.name} not found` })
    const stored = row.support_backend === 'zendesk' ? readStored(row.support_settings) : null
    const url = normalizeUrl(settings.url ?? stored?.url ?? '')
    const email = (settings.email ?? stored?.email ?? '').trim()
    const token =
      settings.api_token !== undefined
        ? settings.api_token.trim()
        : stored !== null && stored.url === url
          ? unseal(box, stored.api_token)
          : null
    // The address and email are checked first: their messages say more than a missing token's.
    const invalid = validateZendeskSettings({ url, email, api_token: token ?? 'unset' })
    if (invalid !== null) throw new AppError('bad_request', { message: invalid })
    if (token === null) {
      // The stored token was given for the stored address: it is not sent to a new one unasked.
      throw new AppError('bad_request', {
        message:
          stored === null
            ? 'api_token is required'
            : 'api_token is required when url changes (the stored token is only sent to the address it was given for)',
      })
    }
    if (stored === null || stored.url !== url) await releaseIncidents(trx, tenant.id)
    const next: StoredZendeskSettings = { url, email, api_token: box.encrypt(token) }
    await trx
      .updateTable('tenants')
      .set({ support_backend: 'zendesk', support_settings: JSON.stringify(next) })
      .where('id', '=', tenant.id)
      .execute()
    return { backend: 'zendesk', url, email, api_token: MASK } satisfies SupportView
  })
  services.tenants.forget(tenant.name)
  return view
}

/**
 * Another support system (or another Zendesk account) does not hold the tickets made so far: a
 * ServiceNow repeat of an old incident must open a new ticket there, not comment on whatever ticket
 * has the old number in the new system. Forgetting the incidents' dedupe keys does that.
 */
async function releaseIncidents(trx: Tx, tenantId: string): Promise<void> {
  await trx.updateTable('tickets').set({ dedupe_key: null }).where('tenant_id', '=', tenantId).execute()
}

/**
 * The tenant's support setting as it may be shown (token masked).
 *
 * @example supportView(tenant) // { backend: 'zendesk', url: '…', email: '…', api_token: '********' }
 */
export function supportView(tenant: Tenant): SupportView {
  if (tenant.supportBackend !== 'zendesk') return { backend: 'builtin' }
  const stored = readStored(tenant.supportSettings)
  return { backend: 'zendesk', url: stored?.url ?? '', email: stored?.email ?? '', api_token: MASK }
}

/**
 * The tenant's Zendesk settings with the token unsealed, for the Zendesk client only. A tenant whose
 * stored settings cannot be used (a changed secret key, a damaged row) fails the ticket with a reason
 * for the delivery log rather than a 500.
 */
export function zendeskSettingsOf(services: Services, tenant: Tenant): ZendeskSettings {
  const stored = readStored(tenant.supportSettings)
  if (stored === null) {
    throw new AppError('ticket_create_failed', {
      reason: 'The Zendesk settings of this tenant are incomplete: run support configure again',
    })
  }
  let apiToken: string
  try {
    apiToken = secretBox(services.config.secretKey()).decrypt(stored.api_token)
  } catch {
    throw new AppError('ticket_create_failed', {
      reason:
        'The stored Zendesk API token cannot be decrypted (was OPTIMALCLOUD_SECRET_KEY changed?): run support configure again',
    })
  }
  return { url: stored.url, email: stored.email, apiToken }
}

function readStored(json: string): StoredZendeskSettings | null {
  let parsed: unknown
  try {
    parsed = JSON.parse(json)
  } catch {
    return null
  }
  if (typeof parsed !== 'object' || parsed === null) return null
  const { url, email, api_token } = parsed as Record<string, unknown>
  if (typeof url !== 'string' || typeof email !== 'string' || typeof api_token !== 'string') return null
  return { url, email, api_token }
}

function unseal(box: ReturnType<typeof secretBox>, sealed: string): string {
  try {
    return box.decrypt(sealed)
  } catch {
    throw new AppError('bad_request', {
      message: 'The stored api_token cannot be decrypted (was the secret key changed?): give api_token again',
    })
  }
}

/** `https://acme.zendesk.com/` and `https://acme.zendesk.com` are one address; the stored form has no slash. */
function normalizeUrl(url: string): string {
  return url.trim().replace(/\/+$/, '')
}

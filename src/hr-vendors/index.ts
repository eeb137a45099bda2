/**
 * The HR vendor registry: every HR system the service knows by name. A new vendor is one module in
 * this folder and one line in HR_VENDORS; destination types, settings, webhooks, the management API's
 * schemas (and so its OpenAPI document), the console's forms and the CLI's help all read from here.
 */
import { AppError } from '../errors.js'
import { bamboohr } from './bamboohr.js'
import { genericHr } from './generic-hr.js'
import type { HrVendor, SettingSpec } from './hr-vendor.js'
import { paylocity } from './paylocity.js'

export const HR_VENDORS = {
  'generic-hr': genericHr,
  paylocity,
  bamboohr,
} as const satisfies Record<string, HrVendor>

export type DestinationType = keyof typeof HR_VENDORS

/** The destination types, in the order the console and help texts list them. */
export const DESTINATION_TYPES = Object.keys(HR_VENDORS) as DestinationType[]

/** Which user field becomes the login ID of the users a destination makes. */
export type LoginIdSource = 'email' | 'employee_id'

/** Terminations per destination and rolling hour when `termination_limit` is not set. */
export const DEFAULT_TERMINATION_LIMIT = 20

/** The settings every destination has, whatever its vendor. */
export const COMMON_SETTINGS: readonly SettingSpec[] = [
  {
    key: 'login_id',
    description: "Which field becomes a new user's login ID",
    choices: ['email', 'employee_id'],
    default: 'email',
  },
  {
    key: 'termination_limit',
    description:
      'Terminations allowed per rolling hour before further ones are held for an administrator (0 switches the safeguard off)',
    integer: { min: 0, max: 100_000 },
    default: String(DEFAULT_TERMINATION_LIMIT),
  },
  {
    key: 'mode',
    description:
      'live changes users; dry-run answers as it would and records what it would have changed, changing nothing',
    choices: ['live', 'dry-run'],
    default: 'live',
  },
]

export function isDestinationType(value: unknown): value is DestinationType {
  return typeof value === 'string' && Object.hasOwn(HR_VENDORS, value)
}

/**
 * The vendor of a destination type; 400 naming the known types for anything else.
 *
 * @example hrVendor('paylocity').label // 'Paylocity'
 */
export function hrVendor(type: unknown): HrVendor {
  if (!isDestinationType(type))
    throw new AppError('bad_request', { message: `type must be one of: ${DESTINATION_TYPES.join(', ')}` })
  return HR_VENDORS[type]
}

/** Every setting a destination of `vendor` takes: the common ones, then the vendor's own. */
export function settingsOf(vendor: HrVendor): readonly SettingSpec[] {
  return [...COMMON_SETTINGS, ...vendor.settings]
}

/**
 * One line per type for help texts and API descriptions: `paylocity: client_id, client_secret, ...`.
 *
 * @example settingsSummary() // 'all types: login_id; paylocity: client_id, client_secret, token_url, api_base_url'
 */
export function settingsSummary(): string {
  const common = `all types: ${COMMON_SETTINGS.map((s) => s.key).join(', ')}`
  const own = Object.values(HR_VENDORS)
    .filter((vendor) => vendor.settings.length > 0)
    .map((vendor) => `${vendor.type}: ${vendor.settings.map((s) => s.key).join(', ')}`)
  return [common, ...own].join('; ')
}

export type {
  AdapterContext,
  HrCommand,
  HrEndpoint,
  HrOperation,
  HrVendor,
  SettingSpec,
} from './hr-vendor.js'

/** Paylocity: New Hire, Employee Change (fetched from the Weblink API) and Termination webhooks. */
import {
  PaylocityClient,
  type PaylocityEmployee,
  PaylocityError,
  type PaylocitySettings,
} from '../connectors/paylocity-client.js'
import type { AddUser, EmployeeRef, ModifyUser, TerminateUser } from '../directory/provisioning.js'
import { AppError, mustBeString } from '../errors.js'
import { boundedText } from '../value-bounds.js'
import { isMissing, type JsonObject } from '../webhooks/fields.js'
import { commandFor, genericAddUser, genericModifyUser, genericRef } from './generic-hr.js'
import { modifyFromEmployee, storableEmployee } from './hr-employee.js'
import { type AdapterContext, HR_OPERATIONS, type HrVendor } from './hr-vendor.js'

/** Two attempts each for the token and the employee must fit in the ~20 s a webhook sender waits. */
const WEBLINK_TIMEOUT_MS = 5000

export const paylocity: HrVendor = {
  type: 'paylocity',
  label: 'Paylocity',
  description:
    "Paylocity's New Hire, Employee Change and Termination webhooks; Employee Change fetches the employee from the Weblink API",
  settings: [
    { key: 'client_id', description: 'Weblink API client id (Employee Change fetches the employee with it)' },
    { key: 'client_secret', description: 'Weblink API client secret', secret: true },
    {
      key: 'token_url',
      description: 'OAuth2 token endpoint',
      url: true,
      default: 'https://api.paylocity.com/IdentityServer/connect/token',
    },
    {
      key: 'api_base_url',
      description: 'Weblink API base URL',
      url: true,
      default: 'https://api.paylocity.com',
    },
  ],
  together: [['client_id', 'client_secret']],
  authentication: { kind: 'authorization' },
  endpoints: HR_OPERATIONS,
  adapt: (endpoint, body, context) =>
    commandFor(endpoint, {
      add: () => paylocityAddUser(body),
      modify: () =>
        paylocityEmployeeChange(body, {
          api: weblinkSettings(context),
          ensureKnown: context.ensureKnown,
          client: (settings) =>
            new PaylocityClient(settings, { timeoutMs: WEBLINK_TIMEOUT_MS, policy: context.outbound }),
        }),
      terminate: () => paylocityTerminateUser(body),
    }),
}

/** The destination's Weblink API settings with the client secret unsealed, or null when it has none. */
export function weblinkSettings(context: AdapterContext): PaylocitySettings | null {
  const { client_id: clientId, token_url: tokenUrl, api_base_url: apiBaseUrl } = context.settings
  if (clientId === undefined) return null
  let clientSecret: string | null
  try {
    clientSecret = context.secret('client_secret')
  } catch {
    throw new AppError('paylocity_fetch_failed', {
      reason:
        'the stored client_secret cannot be decrypted (was OPTIMALCLOUD_SECRET_KEY changed?); set it again',
    })
  }
  if (clientSecret === null) return null
  return {
    clientId,
    clientSecret,
    ...(tokenUrl === undefined ? {} : { tokenUrl }),
    ...(apiBaseUrl === undefined ? {} : { apiBaseUrl }),
  }
}

/** Paylocity's names for the generic fields; the generic name wins when both hold a value. */
const PAYLOCITY_NAMES: ReadonlyArray<readonly [generic: string, paylocity: string]> = [
  ['employee_id', 'employeeId'],
  ['first_name', 'employeeFirstName'],
  ['last_name', 'employeeLastName'],
  ['email', 'employeeWorkEMailAddress'],
  ['mobile', 'employeeWorkPhone'],
]

/**
 * The body with Paylocity's field names read as the generic ones, so the checks and their messages
 * are the generic ones (`employee_id is a required field` when `employeeId` is missing).
 */
export function asGenericBody(body: JsonObject): JsonObject {
  const out: JsonObject = {}
  for (const [generic, paylocity] of PAYLOCITY_NAMES) {
    const value = isMissing(body[generic]) && body[paylocity] !== undefined ? body[paylocity] : body[generic]
    if (value !== undefined) out[generic] = value
  }
  if (body.display_name !== undefined) out.display_name = body.display_name
  return out
}

/**
 * `companyId` (or `company_id`): employee ids are unique only within a company, so it is part of the
 * link. A number is read as its digits; absent or empty is ''; at most 255 characters.
 */
export function paylocityCompanyId(body: JsonObject): string {
  const field = body.companyId !== undefined ? 'companyId' : 'company_id'
  const value = body[field]
  if (isMissing(value)) return ''
  if (typeof value === 'number' && Number.isFinite(value)) return String(value)
  if (typeof value !== 'string') throw mustBeString(field)
  return boundedText(field, value.trim())
}

/**
 * New Hire → adduser: `employeeId`, `employeeFirstName`, `employeeLastName`,
 * `employeeWorkEMailAddress` required (in that order), `employeeWorkPhone` is the mobile; other
 * fields (addresses, cost centers, pay data) are ignored.
 *
 * @example paylocityAddUser(newHireBody).ref // { employeeId: '12345', companyId: 'C01' }
 */
export function paylocityAddUser(body: JsonObject): AddUser {
  const command = genericAddUser(asGenericBody(body))
  return { ...command, ref: withCompany(command.ref, body) }
}

/** Employee Change without API settings: the fields present in the body are applied. */
export function paylocityModifyUser(body: JsonObject): ModifyUser {
  const command = genericModifyUser(asGenericBody(body))
  return { ...command, ref: withCompany(command.ref, body) }
}

/** Termination → deleteuser: `employeeId` (and `companyId` for the link); the rest is ignored. */
export function paylocityTerminateUser(body: JsonObject): TerminateUser {
  return { ref: paylocityRef(body) }
}

export function paylocityRef(body: JsonObject): EmployeeRef {
  return withCompany(genericRef(asGenericBody(body)), body)
}

export interface EmployeeChangeContext {
  /** The destination's Weblink API settings (secret unsealed), or null when it has none. */
  api: PaylocitySettings | null
  /** Throws `User not found in the OptimalCloud` for an employee the destination does not know. */
  ensureKnown: (ref: EmployeeRef) => Promise<unknown>
  /** Makes the client; tests and callers may pass their own. */
  client: (settings: PaylocitySettings) => Pick<PaylocityClient, 'getEmployee'>
}

/**
 * Employee Change → modifyuser. Paylocity sends only `{companyId, employeeId}`: with API settings the
 * employee is fetched from Weblink (after checking the user is known, so an unknown employee costs
 * no call) and its record replaces the user's fields; `employeeStatus` `T` terminates. A Weblink
 * failure is `Failed to fetch the employee from Paylocity`, with Paylocity's reason for the log.
 * Must not run inside a database transaction: it waits on the network.
 */
export async function paylocityEmployeeChange(
  body: JsonObject,
  context: EmployeeChangeContext,
): Promise<ModifyUser> {
  if (context.api === null) return paylocityModifyUser(body)
  const ref = paylocityRef(body)
  await context.ensureKnown(ref)
  let employee: PaylocityEmployee
  try {
    employee = await context.client(context.api).getEmployee(ref.companyId, ref.employeeId)
  } catch (error) {
    if (error instanceof PaylocityError)
      throw new AppError('paylocity_fetch_failed', { reason: error.message, cause: error })
    throw error
  }
  return modifyFromEmployee(ref, storableEmployee(employee, 'Paylocity', 'paylocity_fetch_failed'))
}

function withCompany(ref: EmployeeRef, body: JsonObject): EmployeeRef {
  return { ...ref, companyId: paylocityCompanyId(body) }
}

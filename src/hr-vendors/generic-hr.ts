/** Generic HR: any HR tool that posts `employee_id`, names, email and mobile to the three URLs. */
import type { AddUser, EmployeeRef, ModifyUser, TerminateUser } from '../directory/provisioning.js'
import { AppError, mustBeString } from '../errors.js'
import { isMissing, type JsonObject, optionalString, requireStrings } from '../webhooks/fields.js'
import { HR_OPERATIONS, type HrCommand, type HrEndpoint, type HrVendor } from './hr-vendor.js'

export const genericHr: HrVendor = {
  type: 'generic-hr',
  label: 'Generic HR',
  description:
    'Any HR system that can call a URL: it posts employee_id, first_name, last_name, email, mobile and display_name',
  settings: [],
  authentication: { kind: 'authorization' },
  endpoints: HR_OPERATIONS,
  adapt: (endpoint, body) =>
    commandFor(endpoint, {
      add: () => genericAddUser(body),
      modify: () => genericModifyUser(body),
      terminate: () => genericTerminateUser(body),
    }),
}

/**
 * The command of one of the three operation URLs, built by the matching function. `events` is for
 * vendors that post every event to one URL: a vendor without it answers 404 there.
 *
 * @example commandFor('deleteuser', { add, modify, terminate: () => genericTerminateUser(body) })
 */
export async function commandFor(
  endpoint: HrEndpoint,
  build: {
    add: () => AddUser | Promise<AddUser>
    modify: () => ModifyUser | Promise<ModifyUser>
    terminate: () => TerminateUser | Promise<TerminateUser>
  },
): Promise<HrCommand> {
  switch (endpoint) {
    case 'adduser':
      return { kind: 'add', command: await build.add() }
    case 'modifyuser':
      return { kind: 'modify', command: await build.modify() }
    case 'deleteuser':
      return { kind: 'terminate', command: await build.terminate() }
    case 'events':
      throw new AppError('not_found')
  }
}

/**
 * adduser: `employee_id`, `first_name`, `last_name`, `email` required in that order, then
 * `mobile` and `display_name` must be strings when present. `companyId` is '' for Generic HR;
 * other adapters (Paylocity) pass theirs.
 *
 * @example genericAddUser({ employee_id: '1111', first_name: 'John', last_name: 'Doe', email: 'john@acme.com' })
 */
export function genericAddUser(body: JsonObject, companyId = ''): AddUser {
  const { employee_id, first_name, last_name, email } = requireStrings(body, [
    'employee_id',
    'first_name',
    'last_name',
    'email',
  ])
  const mobile = optionalString(body, 'mobile')
  const displayName = optionalString(body, 'display_name')
  return {
    ref: { employeeId: employee_id, companyId },
    firstName: first_name,
    lastName: last_name,
    email,
    ...(mobile === undefined ? {} : { mobile }),
    ...(displayName === undefined ? {} : { displayName }),
  }
}

/**
 * modifyuser: `employee_id` required; `first_name`, `last_name` and `email` change when they hold
 * text (absent, null or empty leaves them alone: they cannot be cleared); `mobile` and
 * `display_name` change when present, and null clears them.
 */
export function genericModifyUser(body: JsonObject, companyId = ''): ModifyUser {
  const ref = genericRef(body, companyId)
  const firstName = presentText(body, 'first_name')
  const lastName = presentText(body, 'last_name')
  const email = presentText(body, 'email')
  const mobile = optionalString(body, 'mobile')
  const displayName = optionalString(body, 'display_name')
  return {
    ref,
    ...(firstName === undefined ? {} : { firstName }),
    ...(lastName === undefined ? {} : { lastName }),
    ...(email === undefined ? {} : { email }),
    ...(mobile === undefined ? {} : { mobile }),
    ...(displayName === undefined ? {} : { displayName }),
  }
}

/** deleteuser: `employee_id` required; everything else is ignored. */
export function genericTerminateUser(body: JsonObject, companyId = ''): TerminateUser {
  return { ref: genericRef(body, companyId) }
}

/** The employee named by `employee_id` (required, a string). */
export function genericRef(body: JsonObject, companyId = ''): EmployeeRef {
  const { employee_id } = requireStrings(body, ['employee_id'])
  return { employeeId: employee_id, companyId }
}

function presentText(body: JsonObject, field: string): string | undefined {
  const value = body[field]
  if (isMissing(value)) return undefined
  if (typeof value !== 'string') throw mustBeString(field)
  return value.trim()
}

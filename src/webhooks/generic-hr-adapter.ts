/** Generic HR bodies (SPEC §6) turned into AddUser, ModifyUser and TerminateUser. */
import type { AddUser, EmployeeRef, ModifyUser, TerminateUser } from '../directory/provisioning.js'
import { mustBeString } from '../errors.js'
import { isMissing, type JsonObject, optionalString, requireStrings } from './fields.js'

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

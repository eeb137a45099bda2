/**
 * An employee as an HR system's API reports it (Paylocity's Weblink, BambooHR's employees API): what a
 * vendor's client maps its answer to, and how that record changes the user.
 */
import type { EmployeeRef, ModifyUser } from '../directory/provisioning.js'
import { isEmail } from '../directory/users.js'
import { AppError, type ErrorCode } from '../errors.js'
import { boundedText, MAX_FIELD_LENGTH } from '../value-bounds.js'

export interface HrEmployee {
  firstName: string | null
  lastName: string | null
  /** The preferred name: the user's display name. */
  displayName: string | null
  /** The work email. */
  email: string | null
  mobile: string | null
  /** The HR system says the employee has left (Paylocity `T`, BambooHR `Inactive`). */
  terminated: boolean
}

/**
 * The API's record is the whole truth about the employee: names and a valid work email replace the
 * user's (missing ones are left alone, as a user must keep a name and an email); a missing mobile or
 * preferred name clears them; a terminated employee's user is terminated.
 *
 * @example modifyFromEmployee({ employeeId: '7', companyId: '' }, employee)
 */
export function modifyFromEmployee(ref: EmployeeRef, employee: HrEmployee): ModifyUser {
  return {
    ref,
    ...(employee.firstName === null ? {} : { firstName: employee.firstName }),
    ...(employee.lastName === null ? {} : { lastName: employee.lastName }),
    ...(employee.email === null || !isEmail(employee.email) ? {} : { email: employee.email }),
    mobile: employee.mobile,
    displayName: employee.displayName,
    terminate: employee.terminated,
  }
}

/**
 * The record, when every field can be stored (the vendor's answer meets the same bounds as a body:
 * no NUL, at most 255 characters); otherwise the vendor's fetch failure (`failure`), naming the field.
 *
 * @example const employee = storableEmployee(await client.getEmployee(id), 'BambooHR', 'bamboohr_fetch_failed')
 */
export function storableEmployee(employee: HrEmployee, vendor: string, failure: ErrorCode): HrEmployee {
  const fields = {
    firstName: employee.firstName,
    lastName: employee.lastName,
    preferredName: employee.displayName,
    email: employee.email,
    mobile: employee.mobile,
  }
  for (const [field, value] of Object.entries(fields)) {
    if (value === null) continue
    try {
      boundedText(field, value)
    } catch {
      throw new AppError(failure, {
        reason: `the employee record from ${vendor} has a ${field} that cannot be stored (a NUL character, or over ${MAX_FIELD_LENGTH} characters)`,
      })
    }
  }
  return employee
}

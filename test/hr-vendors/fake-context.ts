/** An AdapterContext without a database: the adapter unit tests of every vendor use it. */
import { outboundPolicy } from '../../src/connectors/http/outbound-policy.js'
import type { EmployeeRef, HrCommand } from '../../src/directory/provisioning.js'
import type { User } from '../../src/directory/users.js'
import { AppError } from '../../src/errors.js'
import type { AdapterContext } from '../../src/hr-vendors/index.js'

/** The one command an adapter made; fails the test when it made several. */
export function one(adapted: HrCommand | HrCommand[]): HrCommand {
  if (!Array.isArray(adapted)) return adapted
  const [only] = adapted
  if (adapted.length !== 1 || only === undefined)
    throw new Error(`expected one command, got ${adapted.length}`)
  return only
}

/** A user as the directory would return it for a known employee. */
export function knownUser(ref: EmployeeRef, status: User['status'] = 'active'): User {
  return {
    id: `usr_${ref.employeeId}`,
    login_id: `${ref.employeeId}@example.com`,
    email: `${ref.employeeId}@example.com`,
    first_name: 'Known',
    last_name: 'User',
    display_name: 'Known User',
    mobile: null,
    employee_id: ref.employeeId,
    status,
    created_at: '2026-01-01T00:00:00.000Z',
    updated_at: '2026-01-01T00:00:00.000Z',
  }
}

/**
 * Settings as given (secrets in clear: `secret(key)` returns them), and a directory that knows
 * exactly the employees listed in `known` (active) and `terminated` (`employeeId` or `companyId/employeeId`).
 *
 * @example const context = fakeContext({ settings: { client_id: 'c' }, known: ['1111'] })
 */
export function fakeContext(
  options: { settings?: Record<string, string>; known?: string[]; terminated?: string[] } = {},
): AdapterContext & { lookedUp: EmployeeRef[] } {
  const settings = options.settings ?? {}
  const lookedUp: EmployeeRef[] = []
  return {
    settings,
    secret: (key) => settings[key] ?? null,
    ensureKnown: async (ref) => {
      lookedUp.push(ref)
      const name = ref.companyId === '' ? ref.employeeId : `${ref.companyId}/${ref.employeeId}`
      if ((options.terminated ?? []).includes(name)) return knownUser(ref, 'terminated')
      if (!(options.known ?? []).includes(name)) throw new AppError('user_not_found')
      return knownUser(ref)
    },
    outbound: outboundPolicy({ allowPrivate: true }),
    lookedUp,
  }
}

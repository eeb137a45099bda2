/** An AdapterContext without a database: the adapter unit tests of every vendor use it. */
import type { EmployeeRef } from '../../src/directory/provisioning.js'
import { AppError } from '../../src/errors.js'
import type { AdapterContext } from '../../src/hr-vendors/index.js'

/**
 * Settings as given (secrets in clear: `secret(key)` returns them), and a directory that knows
 * exactly the employees listed in `known` (`employeeId` or `companyId/employeeId`).
 *
 * @example const context = fakeContext({ settings: { client_id: 'c' }, known: ['1111'] })
 */
export function fakeContext(
  options: { settings?: Record<string, string>; known?: string[] } = {},
): AdapterContext & { lookedUp: EmployeeRef[] } {
  const settings = options.settings ?? {}
  const lookedUp: EmployeeRef[] = []
  return {
    settings,
    secret: (key) => settings[key] ?? null,
    ensureKnown: async (ref) => {
      lookedUp.push(ref)
      const name = ref.companyId === '' ? ref.employeeId : `${ref.companyId}/${ref.employeeId}`
      if (!(options.known ?? []).includes(name)) throw new AppError('user_not_found')
    },
    allowPrivateConnectors: true,
    lookedUp,
  }
}

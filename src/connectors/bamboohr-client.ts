/** BambooHR API client: one employee's fields, for provisioning (`GET /api/gateway.php/{company}/v1/employees/{id}/`). */
import { ConnectorError } from './connector-error.js'

export const DEFAULT_BAMBOOHR_API_BASE_URL = 'https://api.bamboohr.com'

/** The fields provisioning reads, as BambooHR names them in `?fields=`. */
export const BAMBOOHR_FIELDS = [
  'firstName',
  'lastName',
  'preferredName',
  'workEmail',
  'mobilePhone',
  'status',
  'employeeNumber',
] as const

export interface BambooHrSettings {
  /** The company's subdomain: `acme` for acme.bamboohr.com. */
  companyDomain: string
  apiKey: string
  apiBaseUrl?: string
}

/** What the service needs of an employee, mapped from BambooHR's answer. */
export interface BambooHrEmployee {
  firstName: string | null
  lastName: string | null
  displayName: string | null
  email: string | null
  mobile: string | null
  /** `status` is `Inactive`. */
  inactive: boolean
}

export type BambooHrFailureKind = 'auth' | 'not_found' | 'server' | 'timeout' | 'network' | 'bad_response'

/** `message` is short and fixed (status and kind), never a key or BambooHR's own text. */
export class BambooHrError extends ConnectorError<BambooHrFailureKind> {}

export interface BambooHrClientOptions {
  /** Per attempt (connect, headers and body), default 5000. */
  timeoutMs?: number
}

function text(value: unknown): string | null {
  if (typeof value !== 'string') return null
  const trimmed = value.trim()
  return trimmed === '' ? null : trimmed
}

/**
 * Maps BambooHR's employee JSON; throws BambooHrError('bad_response') when it is not an object.
 *
 * @example mapBambooHrEmployee({ firstName: 'Ann', status: 'Inactive' }).inactive // true
 */
export function mapBambooHrEmployee(body: unknown): BambooHrEmployee {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw new BambooHrError('bad_response', 'BambooHR answered an employee that is not a JSON object')
  const record = body as Record<string, unknown>
  return {
    firstName: text(record.firstName),
    lastName: text(record.lastName),
    displayName: text(record.preferredName),
    email: text(record.workEmail),
    mobile: text(record.mobilePhone),
    inactive: text(record.status)?.toLowerCase() === 'inactive',
  }
}

/**
 * @example
 * const employee = await new BambooHrClient({ companyDomain: 'acme', apiKey }).getEmployee('67890')
 */
export class BambooHrClient {
  readonly #settings: BambooHrSettings
  readonly #timeoutMs: number

  constructor(settings: BambooHrSettings, options: BambooHrClientOptions = {}) {
    this.#settings = settings
    this.#timeoutMs = options.timeoutMs ?? 5000
  }

  /** One employee; one retry on a network failure or a 5xx, none on a timeout (the sender is waiting). */
  async getEmployee(employeeId: string): Promise<BambooHrEmployee> {
    const base = (this.#settings.apiBaseUrl ?? DEFAULT_BAMBOOHR_API_BASE_URL).replace(/\/+$/, '')
    const url = `${base}/api/gateway.php/${encodeURIComponent(this.#settings.companyDomain)}/v1/employees/${encodeURIComponent(employeeId)}/?fields=${BAMBOOHR_FIELDS.join(',')}`
    const authorization = `Basic ${Buffer.from(`${this.#settings.apiKey}:x`).toString('base64')}`
    for (let attempt = 1; ; attempt++) {
      const signal = AbortSignal.timeout(this.#timeoutMs)
      let status: number
      let body: string
      try {
        const response = await fetch(url, {
          headers: { authorization, accept: 'application/json' },
          signal,
          redirect: 'error',
        })
        status = response.status
        body = await response.text()
      } catch {
        if (signal.aborted)
          throw new BambooHrError('timeout', `no answer from BambooHR within ${this.#timeoutMs} ms`)
        if (attempt === 1) continue
        throw new BambooHrError('network', 'could not reach BambooHR')
      }
      if (status >= 500 && attempt === 1) continue
      if (status >= 200 && status < 300) {
        let parsed: unknown
        try {
          parsed = JSON.parse(body)
        } catch {
          throw new BambooHrError('bad_response', `BambooHR answered ${status} with invalid JSON`, status)
        }
        return mapBambooHrEmployee(parsed)
      }
      const kind: BambooHrFailureKind =
        status === 404
          ? 'not_found'
          : status === 401 || status === 403
            ? 'auth'
            : status >= 500 || status === 429
              ? 'server'
              : 'bad_response'
      throw new BambooHrError(kind, `BambooHR answered ${status}`, status)
    }
  }
}

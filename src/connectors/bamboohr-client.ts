/** BambooHR API client: one employee's fields, for provisioning (`GET /api/gateway.php/{company}/v1/employees/{id}/`). */
import type { HrEmployee } from '../hr-vendors/hr-employee.js'
import { ConnectorError } from './connector-error.js'
import { type HrApiFailureKind, hrApiKindOfOutbound, hrApiKindOfStatus } from './hr-api-failure.js'
import { basicAuthorization, ConnectorHttp, OutboundError, type VendorAnswer } from './http/connector-http.js'
import { type OutboundPolicy, outboundPolicy } from './http/outbound-policy.js'

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

/** What the service needs of an employee, mapped from BambooHR's answer (`status` `Inactive` is terminated). */
export type BambooHrEmployee = HrEmployee

export type BambooHrFailureKind = HrApiFailureKind

/** `message` is short and fixed (status and BambooHR's error code), never a key or BambooHR's own text. */
export class BambooHrError extends ConnectorError<BambooHrFailureKind> {}

export interface BambooHrClientOptions {
  /** Per attempt (connect, headers and body), default 5000. */
  timeoutMs?: number
  /** Where calls may go; strict (https, public hosts) unless given. */
  policy?: OutboundPolicy
}

function text(value: unknown): string | null {
  if (typeof value !== 'string') return null
  const trimmed = value.trim()
  return trimmed === '' ? null : trimmed
}

/**
 * Maps BambooHR's employee JSON; throws BambooHrError('bad_response') when it is not an object.
 *
 * @example mapBambooHrEmployee({ firstName: 'Ann', status: 'Inactive' }).terminated // true
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
    terminated: text(record.status)?.toLowerCase() === 'inactive',
  }
}

/**
 * @example
 * const employee = await new BambooHrClient({ companyDomain: 'acme', apiKey }).getEmployee('67890')
 */
export class BambooHrClient {
  readonly #settings: BambooHrSettings
  readonly #authorization: string
  readonly #http: ConnectorHttp

  constructor(settings: BambooHrSettings, options: BambooHrClientOptions = {}) {
    this.#settings = settings
    this.#authorization = basicAuthorization(settings.apiKey, 'x')
    this.#http = new ConnectorHttp({
      vendor: 'BambooHR',
      policy: options.policy ?? outboundPolicy(),
      // The key and the header made from it never reach a message.
      secrets: [settings.apiKey, this.#authorization],
      timeoutMs: options.timeoutMs ?? 5000,
    })
  }

  /** One employee; one retry on a network failure or a 5xx, none on a timeout (the sender is waiting). */
  async getEmployee(employeeId: string): Promise<BambooHrEmployee> {
    const base = (this.#settings.apiBaseUrl ?? DEFAULT_BAMBOOHR_API_BASE_URL).replace(/\/+$/, '')
    const url = `${base}/api/gateway.php/${encodeURIComponent(this.#settings.companyDomain)}/v1/employees/${encodeURIComponent(employeeId)}/?fields=${BAMBOOHR_FIELDS.join(',')}`
    for (let attempt = 1; ; attempt++) {
      let answer: VendorAnswer
      try {
        answer = await this.#http.send({
          method: 'GET',
          url,
          headers: { authorization: this.#authorization, accept: 'application/json' },
        })
      } catch (error) {
        if (!(error instanceof OutboundError)) throw error
        if (error.kind === 'network' && attempt === 1) continue
        const kind = hrApiKindOfOutbound(error.kind)
        throw new BambooHrError(kind, error.message, error.status)
      }
      const { status } = answer
      if (status >= 500 && attempt === 1) continue
      if (status >= 200 && status < 300) {
        let parsed: unknown
        try {
          parsed = this.#http.json(answer)
        } catch (error) {
          if (error instanceof OutboundError) throw new BambooHrError('bad_response', error.message, status)
          throw error
        }
        return mapBambooHrEmployee(parsed)
      }
      const kind = hrApiKindOfStatus(status)
      throw new BambooHrError(kind, this.#http.statusReason(answer), status)
    }
  }
}

/**
 * BambooHR: event-based webhooks (employee.created, employee.updated, employee.deleted) posted to one
 * URL and signed with the webhook's private key; created and updated employees are fetched from the
 * BambooHR API. Field-based (global) webhook bodies are read too.
 */
import { createHmac, timingSafeEqual } from 'node:crypto'
import {
  BambooHrClient,
  type BambooHrEmployee,
  BambooHrError,
  DEFAULT_BAMBOOHR_API_BASE_URL,
  mapBambooHrEmployee,
} from '../connectors/bamboohr-client.js'
import type { EmployeeRef, HrCommand } from '../directory/provisioning.js'
import { AppError, mustBeString, requiredField } from '../errors.js'
import { isMissing, type JsonObject } from '../webhooks/fields.js'
import { genericAddUser } from './generic-hr.js'
import { modifyFromEmployee, storableEmployee } from './hr-employee.js'
import type { AdapterContext, HrVendor } from './hr-vendor.js'

export const SIGNATURE_HEADER = 'x-bamboohr-signature'
export const TIMESTAMP_HEADER = 'x-bamboohr-timestamp'
/** How far the signed timestamp may be from the server's clock, either way. */
export const SIGNATURE_WINDOW_S = 5 * 60
/** One call reports at most this many employees (field-based webhooks may batch them). */
const MAX_EMPLOYEES = 100
/** A fetch and its one retry must fit in the ~20 s a sender waits. */
const API_TIMEOUT_MS = 5000

type Headers = Readonly<Record<string, string | string[] | undefined>>

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? undefined : value
}

/**
 * True when `X-BambooHR-Signature` is the lowercase hex HMAC-SHA256, keyed with `secret`, of the raw
 * body followed by `X-BambooHR-Timestamp` (Unix seconds), and that timestamp is within five minutes
 * of `now`. Compared in constant time.
 *
 * @example verifyBambooHrSignature(rawBody, request.headers, webhookSecret, new Date())
 */
export function verifyBambooHrSignature(
  rawBody: Buffer,
  headers: Headers,
  secret: string,
  now: Date,
): boolean {
  const signature = single(headers[SIGNATURE_HEADER])
  const timestamp = single(headers[TIMESTAMP_HEADER])
  if (signature === undefined || timestamp === undefined) return false
  if (!/^[0-9a-f]{64}$/.test(signature) || !/^\d{1,12}$/.test(timestamp)) return false
  if (Math.abs(now.getTime() / 1000 - Number(timestamp)) > SIGNATURE_WINDOW_S) return false
  const expected = createHmac('sha256', secret).update(rawBody).update(timestamp, 'utf8').digest()
  return timingSafeEqual(expected, Buffer.from(signature, 'hex'))
}

/**
 * The headers BambooHR would send for `rawBody` (what the fake BambooHR of the tests uses, and a way to
 * sign a call by hand).
 *
 * @example const headers = signBambooHrBody(body, secret, Math.floor(Date.now() / 1000))
 */
export function signBambooHrBody(
  rawBody: Buffer | string,
  secret: string,
  unixSeconds: number,
): Record<string, string> {
  const timestamp = String(unixSeconds)
  const signature = createHmac('sha256', secret).update(rawBody).update(timestamp, 'utf8').digest('hex')
  return { [SIGNATURE_HEADER]: signature, [TIMESTAMP_HEADER]: timestamp }
}

export const bamboohr: HrVendor = {
  type: 'bamboohr',
  label: 'BambooHR',
  description:
    "BambooHR's event-based webhooks (employee created, updated, deleted), signed with the webhook's private key; created and updated employees are fetched from the BambooHR API",
  settings: [
    { key: 'company_domain', description: 'Your BambooHR subdomain: acme for acme.bamboohr.com' },
    {
      key: 'api_key',
      description: 'A BambooHR API key, to fetch created and updated employees',
      secret: true,
    },
    {
      key: 'webhook_secret',
      description: "The webhook's private key, shown once by BambooHR when the webhook is saved",
      secret: true,
    },
    {
      key: 'api_base_url',
      description: 'BambooHR API base URL',
      url: true,
      default: DEFAULT_BAMBOOHR_API_BASE_URL,
    },
  ],
  together: [['company_domain', 'api_key']],
  authentication: {
    kind: 'signature',
    secretSetting: 'webhook_secret',
    isSigned: (headers) => headers[SIGNATURE_HEADER] !== undefined || headers[TIMESTAMP_HEADER] !== undefined,
    verify: verifyBambooHrSignature,
  },
  forms: true,
  endpoints: ['events'],
  // BambooHR posts every event to one URL: the body's event type decides, whichever URL was called.
  adapt: async (_endpoint, body, context) => {
    const commands: HrCommand[] = []
    for (const event of readEvents(body)) commands.push(...(await commandsFor(event, context)))
    return commands
  },
}

type EventType = 'created' | 'updated' | 'deleted'

/** One employee event, whichever format carried it. */
export interface BambooHrEvent {
  type: EventType
  employeeId: string
  /** Field values sent with the event (field-based webhooks), by BambooHR's names or their aliases. */
  fields: Record<string, unknown> | null
}

const EVENT_TYPES: Record<string, EventType> = {
  'employee.created': 'created',
  'employee.updated': 'updated',
  'employee.deleted': 'deleted',
}

/**
 * The events of a body: event-based (`{"type","data":{"employeeId",...}}`, JSON or form post) or
 * field-based (`{"employees":[{"id","action","fields"}]}`, or the form post's `employees[<id>][...]`).
 *
 * @example readEvents({ type: 'employee.deleted', data: { employeeId: '7' } }) // [{ type: 'deleted', employeeId: '7', fields: null }]
 */
export function readEvents(body: JsonObject): BambooHrEvent[] {
  if (body.type !== undefined || body.data !== undefined) {
    if (isMissing(body.type)) throw requiredField('type')
    if (typeof body.type !== 'string') throw mustBeString('type')
    const type = EVENT_TYPES[body.type.trim()]
    if (type === undefined)
      throw new AppError('bad_request', {
        message: `type must be one of: ${Object.keys(EVENT_TYPES).join(', ')}`,
      })
    const data = isObject(body.data) ? body.data : {}
    return [{ type, employeeId: employeeIdOf(data.employeeId), fields: null }]
  }
  if (body.employees !== undefined) return readFieldBased(body.employees)
  throw requiredField('type')
}

function readFieldBased(employees: unknown): BambooHrEvent[] {
  // JSON sends a list; a form post sends an object keyed by the employee id.
  const entries: Array<[string | undefined, unknown]> = Array.isArray(employees)
    ? employees.map((entry) => [undefined, entry])
    : isObject(employees)
      ? Object.entries(employees)
      : []
  if (entries.length === 0) throw requiredField('employees')
  if (entries.length > MAX_EMPLOYEES)
    throw new AppError('bad_request', { message: `employees must hold at most ${MAX_EMPLOYEES} employees` })
  return entries.map(([key, entry]) => {
    if (!isObject(entry)) throw new AppError('bad_request', { message: 'employees must hold objects' })
    const { id, action, fields, changedFields: _changed, timestamp: _time, ...inline } = entry
    const actionText = typeof action === 'string' ? action.trim().toLowerCase() : 'updated'
    const type: EventType | undefined =
      actionText === 'created' || actionText === 'updated' || actionText === 'deleted'
        ? actionText
        : undefined
    if (type === undefined)
      throw new AppError('bad_request', { message: 'action must be one of: Created, Updated, Deleted' })
    return {
      type,
      employeeId: employeeIdOf(id ?? key),
      // JSON nests the values under `fields`; a form post puts them beside `changedFields`.
      fields: isObject(fields) ? fields : Object.keys(inline).length > 0 ? inline : null,
    }
  })
}

function employeeIdOf(value: unknown): string {
  if (isMissing(value)) throw requiredField('employee_id')
  if (typeof value === 'number' && Number.isSafeInteger(value)) return String(value)
  if (typeof value !== 'string') throw mustBeString('employee_id')
  return value.trim()
}

/**
 * created → add (then terminate when BambooHR says Inactive); updated → the user is looked up first
 * (an unknown employee costs no API call), then its fields change, Inactive terminates it, and Active
 * brings back a user this destination terminated (the HR system is the one saying so); deleted → terminate.
 */
async function commandsFor(event: BambooHrEvent, context: AdapterContext): Promise<HrCommand[]> {
  // One BambooHR company per destination: its employee ids need no company to be unique.
  const ref: EmployeeRef = { employeeId: event.employeeId, companyId: '' }
  if (event.type === 'deleted') return [{ kind: 'terminate', command: { ref } }]
  if (event.type === 'created') {
    const employee = await employeeOf(event, context)
    if (!employee.terminated) return [{ kind: 'add', command: addUserOf(ref, employee) }]
    // Created already inactive: a new user is made terminated; a known one (a retried delivery) is
    // not brought back first, so the repeat changes nothing.
    const known = await context.ensureKnown(ref).then(
      () => true,
      (error: unknown) => {
        if (error instanceof AppError && error.code === 'user_not_found') return false
        throw error
      },
    )
    return known
      ? [modifyCommand(ref, employee)]
      : [
          { kind: 'add', command: addUserOf(ref, employee) },
          { kind: 'terminate', command: { ref } },
        ]
  }
  const user = await context.ensureKnown(ref)
  const employee = await employeeOf(event, context)
  if (!employee.terminated && user.status === 'terminated')
    return [{ kind: 'add', command: addUserOf(ref, employee) }]
  return [modifyCommand(ref, employee)]
}

/** The employee's current values replace the user's (a missing name or email is left alone); Inactive terminates. */
function modifyCommand(ref: EmployeeRef, employee: BambooHrEmployee): HrCommand {
  return { kind: 'modify', command: modifyFromEmployee(ref, employee) }
}

/** The employee as the BambooHR API has it; without API settings, the values the event carried. */
async function employeeOf(event: BambooHrEvent, context: AdapterContext): Promise<BambooHrEmployee> {
  const companyDomain = context.settings.company_domain
  let apiKey: string | null
  try {
    apiKey = context.secret('api_key')
  } catch {
    throw new AppError('bamboohr_fetch_failed', {
      reason: 'the stored api_key cannot be decrypted (was OPTIMALCLOUD_SECRET_KEY changed?); set it again',
    })
  }
  if (companyDomain === undefined || apiKey === null) {
    if (event.fields !== null)
      return storableEmployee(
        mapBambooHrEmployee(byCanonicalName(event.fields)),
        'BambooHR',
        'bamboohr_fetch_failed',
      )
    throw new AppError('bamboohr_fetch_failed', {
      reason: 'the destination has no company_domain and api_key to fetch the employee with',
    })
  }
  const apiBaseUrl = context.settings.api_base_url
  const client = new BambooHrClient(
    { companyDomain, apiKey, ...(apiBaseUrl === undefined ? {} : { apiBaseUrl }) },
    { timeoutMs: API_TIMEOUT_MS, policy: context.outbound },
  )
  try {
    return storableEmployee(await client.getEmployee(event.employeeId), 'BambooHR', 'bamboohr_fetch_failed')
  } catch (error) {
    if (error instanceof BambooHrError)
      throw new AppError('bamboohr_fetch_failed', {
        reason: `${error.message} while fetching employee ${event.employeeId}`,
        cause: error,
      })
    throw error
  }
}

/** An add needs names and an email: missing ones get the generic messages (`email is a required field`). */
function addUserOf(ref: EmployeeRef, employee: BambooHrEmployee) {
  return genericAddUser({
    employee_id: ref.employeeId,
    first_name: employee.firstName,
    last_name: employee.lastName,
    email: employee.email,
    mobile: employee.mobile,
    display_name: employee.displayName,
  })
}

/**
 * Field-based webhooks name fields in English ("First Name") or by an alias the administrator chose
 * ("firstName"): both are read, by their letters alone.
 */
function byCanonicalName(fields: Record<string, unknown>): Record<string, unknown> {
  const canonical: Record<string, string> = {
    firstname: 'firstName',
    lastname: 'lastName',
    preferredname: 'preferredName',
    workemail: 'workEmail',
    mobilephone: 'mobilePhone',
    status: 'status',
  }
  const out: Record<string, unknown> = {}
  for (const [name, value] of Object.entries(fields)) {
    const key = canonical[name.toLowerCase().replace(/[^a-z]/g, '')]
    if (key !== undefined) out[key] = value
  }
  return out
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

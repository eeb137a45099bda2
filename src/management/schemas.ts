/** TypeBox schemas the management routes share: error answers, nullable values, list limits. */
import { type TSchema, Type } from '@sinclair/typebox'

/** The contract's error body. */
export function errorBody(description: string) {
  return Type.Object({ error: Type.String() }, { description })
}

const ERROR_DESCRIPTIONS = {
  400: 'Bad input (including a value out of bounds: a NUL character, a text too long, a number out of range, nesting deeper than 32 levels); `error` says what to fix. Nothing was changed.',
  401: 'No, a wrong, revoked or expired key, a key without the Management API option, another tenant, or a service account: always `{"error":"ERROR"}`.',
  403: "A console session that changes something without the session's CSRF token in `X-CSRF-Token`, or with an `Origin` of another host.",
  404: "Not found in this tenant (another tenant's resources are never shown).",
  409: 'Already exists.',
  413: 'The request body is over 1 MiB: `{"error":"Request body too large"}`.',
  429: 'More than 30 failed authentications from this address within a minute (the check is not run until the minute has passed): `{"error":"ERROR"}`.',
  503: 'The database cannot be used right now (for example, it cannot be written); nothing was changed, try again later.',
} as const

type ErrorStatus = keyof typeof ERROR_DESCRIPTIONS

/** What every route can answer, whatever it does: a value out of bounds (path, query or body), credentials, too
 * many failures, a database that cannot be used. */
const ALWAYS = [400, 401, 429, 503] as const
/** And what a route that changes something can answer besides: a console session without its CSRF token (reads
 * need none), a body over 1 MiB (reads do not read theirs). */
const ON_CHANGES = [403, 413] as const

type NamedStatus = Exclude<ErrorStatus, (typeof ALWAYS)[number] | (typeof ON_CHANGES)[number]>

function errorAnswers(statuses: ErrorStatus[]) {
  const out: Partial<Record<ErrorStatus, ReturnType<typeof errorBody>>> = {}
  for (const status of [...statuses].sort()) out[status] = errorBody(ERROR_DESCRIPTIONS[status])
  return out
}

/**
 * The error answers of a read (GET): every status any route can answer, plus the ones named. The OpenAPI
 * document lists them; test/management/openapi-answers.test.ts sends each.
 *
 * @example response: { 200: User, ...errors(404) }
 */
export function errors(...statuses: NamedStatus[]) {
  return errorAnswers([...ALWAYS, ...statuses])
}

/**
 * The error answers of a route that changes something (POST, PUT, PATCH, DELETE): also 403 and 413.
 *
 * @example response: { 201: User, ...changeErrors(409) }
 */
export function changeErrors(...statuses: NamedStatus[]) {
  return errorAnswers([...ALWAYS, ...ON_CHANGES, ...statuses])
}

/** A value or null (OpenAPI 3.0 shows it as `nullable`). */
export function Nullable<T extends TSchema>(schema: T) {
  return Type.Union([schema, Type.Null()])
}

/** `?limit=` of the lists: rows per page, 1 to 1000, 100 when absent. */
/**
 * A list's `?destination=` filter: a destination's plugin_id (long enough for any, bounded like every
 * string a caller sends). `description` says what of that destination the list keeps.
 */
export function DestinationFilter(description: string) {
  return Type.Optional(Type.String({ maxLength: 200, description }))
}

export const Limit = Type.Optional(
  Type.Integer({ minimum: 1, maximum: 1000, description: 'How many rows per page, 1 to 1000 (default 100)' }),
)

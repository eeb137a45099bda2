/** TypeBox schemas the management routes share: error answers, nullable values, list limits. */
import { type TSchema, Type } from '@sinclair/typebox'

/** The contract's error body (SPEC §4). */
export function errorBody(description: string) {
  return Type.Object({ error: Type.String() }, { description })
}

const ERROR_DESCRIPTIONS = {
  400: 'Bad input (including a value out of bounds: a NUL character, a text too long, a number out of range, nesting deeper than 32 levels); `error` says what to fix. Nothing was changed.',
  401: 'No, a wrong, revoked or expired key, a key without the Management API option, another tenant, or a service account: always `{"error":"ERROR"}`.',
  404: "Not found in this tenant (another tenant's resources are never shown).",
  409: 'Already exists.',
  429: 'More than 30 failed authentications from this address within a minute (the check is not run until the minute has passed): `{"error":"ERROR"}`.',
} as const

type ErrorStatus = keyof typeof ERROR_DESCRIPTIONS

/**
 * The error answers of a route: 400 (any path, query or body value can be out of bounds), 401 and
 * 429 always, plus the ones named.
 *
 * @example response: { 200: User, ...errors(404) }
 */
export function errors(...statuses: Array<Exclude<ErrorStatus, 401 | 429>>) {
  const out: Partial<Record<ErrorStatus, ReturnType<typeof errorBody>>> = {}
  for (const status of [400, ...statuses, 401, 429] as ErrorStatus[]) {
    out[status] = errorBody(ERROR_DESCRIPTIONS[status])
  }
  return out
}

/** A value or null (OpenAPI 3.0 shows it as `nullable`). */
export function Nullable<T extends TSchema>(schema: T) {
  return Type.Union([schema, Type.Null()])
}

/** `?limit=` of the lists: rows per page, 1 to 1000, 100 when absent. */
export const Limit = Type.Optional(
  Type.Integer({ minimum: 1, maximum: 1000, description: 'How many rows per page, 1 to 1000 (default 100)' }),
)

/** Reading webhook bodies: required fields in order, string checks, the contract's exact messages. */
import { AppError, mustBeString, requiredField } from '../errors.js'

export type JsonObject = Record<string, unknown>

/** A body is usable only as a JSON object (not an array, string, number or null). */
export function requireObject(body: unknown): JsonObject {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new AppError('body_not_object')
  return body as JsonObject
}

/** Absent, null, or a string that is empty after trimming. */
export function isMissing(value: unknown): boolean {
  return value === undefined || value === null || (typeof value === 'string' && value.trim() === '')
}

/**
 * Checks `fields` in order and returns their trimmed values; the first missing or non-string field
 * is answered `400 <field> is a required field` or `400 <field> must be a string`.
 *
 * @example const { title } = requireStrings(body, ['title', 'description'])
 */
export function requireStrings<K extends string>(body: JsonObject, fields: readonly K[]): Record<K, string> {
  const values = {} as Record<K, string>
  for (const field of fields) {
    const value = body[field]
    if (isMissing(value)) throw requiredField(field)
    if (typeof value !== 'string') throw mustBeString(field)
    values[field] = value.trim()
  }
  return values
}

/** An optional string field: undefined when absent, null when null, else its trimmed value; 400 if not a string. */
export function optionalString(body: JsonObject, field: string): string | null | undefined {
  const value = body[field]
  if (value === undefined) return undefined
  if (value === null) return null
  if (typeof value !== 'string') throw mustBeString(field)
  return value.trim()
}

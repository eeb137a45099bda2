/** The bounds every value meets before it reaches storage, on SQLite and PostgreSQL alike, with the 400 that names the field. */
import { AppError } from './errors.js'

/**
 * Identifiers (`sys_id`, `number`, `employee_id`, company ids) and names are at most this many
 * characters: PostgreSQL cannot index a text much longer than 2,700 bytes, and no honest value is close.
 */
export const MAX_FIELD_LENGTH = 255

/** A JSON body (or a field in it) nests at most this deep; the body itself is level 1. */
export const MAX_DEPTH = 32

/** The largest ticket number (PostgreSQL `integer`). */
export const MAX_TICKET_NUMBER = 2_147_483_647

/** Field names shown in messages are cut to this length, and whole paths to four times it. */
const MAX_NAME_SHOWN = 40

/** `400 {"error": message}`: a value the service cannot store. */
export function outOfBounds(message: string): AppError {
  return new AppError('bad_request', { message })
}

/**
 * `text`, unless it holds a NUL character or is longer than `max`: then a 400 naming `field`.
 *
 * @example boundedText('employee_id', value) // 'E-1042', or 400 "employee_id must be at most 255 characters"
 */
export function boundedText(field: string, text: string, max = MAX_FIELD_LENGTH): string {
  if (text.includes('\u0000')) throw outOfBounds(`${field} must not contain NUL characters`)
  if (text.length > max) throw outOfBounds(`${field} must be at most ${max} characters`)
  return text
}

/** A path of object keys and array indexes, as the caller wrote it: `fields.tags[2]`. */
type Path = ReadonlyArray<string | number>

/** What is checked, for the messages: a JSON body (or form), a query string, or path parameters. */
export type ValuePart = 'body' | 'query' | 'params'

const PART_NAMES: Record<ValuePart, { value: string; names: string }> = {
  body: { value: '', names: 'Field names' },
  query: { value: 'query parameter ', names: 'Query parameter names' },
  params: { value: 'path parameter ', names: 'Path parameter names' },
}

/**
 * The first value in `value` the databases cannot hold, as the 400 that names it, or null:
 * a NUL character in a string or a field name, a number out of range (JSON's `1e400` reads as
 * Infinity), or nesting deeper than `MAX_DEPTH`. Iterative, so no body can exhaust the stack.
 * `part` says what is checked, for the messages (`query parameter email must not contain NUL characters`).
 *
 * @example findUnstorable({ note: 'a\u0000b' })?.message // 'note must not contain NUL characters'
 */
export function findUnstorable(value: unknown, part: ValuePart = 'body'): AppError | null {
  const where = PART_NAMES[part].value
  const stack: Array<{ value: unknown; path: Path }> = [{ value, path: [] }]
  while (stack.length > 0) {
    const next = stack.pop()
    if (next === undefined) break
    const { value: current, path } = next
    if (typeof current === 'string') {
      if (current.includes('\u0000'))
        return outOfBounds(`${where}${describePath(path, 'the value')} must not contain NUL characters`)
      continue
    }
    if (typeof current === 'number') {
      if (!Number.isFinite(current))
        return outOfBounds(`${where}${describePath(path, 'the value')} is a number out of range`)
      continue
    }
    if (typeof current !== 'object' || current === null) continue
    // The body is level 1: a container at path length n is at level n + 1.
    if (path.length + 1 > MAX_DEPTH) {
      return outOfBounds(
        `${where}${describePath(path.slice(0, 1), 'the body')} is nested too deeply (at most ${MAX_DEPTH} levels)`,
      )
    }
    const entries: Array<[string | number, unknown]> = Array.isArray(current)
      ? current.map((item, index) => [index, item])
      : Object.entries(current)
    for (const [key] of entries) {
      if (typeof key === 'string' && key.includes('\u0000')) {
        const inside = path.length === 0 ? '' : ` (in ${describePath(path, '')})`
        return outOfBounds(`${PART_NAMES[part].names} must not contain NUL characters${inside}`)
      }
    }
    // Pushed in reverse, so the values are checked in the order they were sent.
    for (let i = entries.length - 1; i >= 0; i--) {
      const entry = entries[i]
      if (entry !== undefined) stack.push({ value: entry[1], path: [...path, entry[0]] })
    }
  }
  return null
}

/** Throws what findUnstorable finds. */
export function requireStorable(value: unknown, part: ValuePart = 'body'): void {
  const problem = findUnstorable(value, part)
  if (problem !== null) throw problem
}

/**
 * `fields.tags[2]`; names that are not plain identifiers are quoted; long ones are cut.
 *
 * @example describePath(['fields', 'tags', 2], 'the body') // 'fields.tags[2]'
 */
export function describePath(path: Path, whole: string): string {
  if (path.length === 0) return whole
  let out = ''
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`
    else {
      const name = /^[A-Za-z_$][\w$-]*$/.test(segment) ? segment : JSON.stringify(segment)
      const shown = name.length > MAX_NAME_SHOWN ? `${name.slice(0, MAX_NAME_SHOWN)}…` : name
      out += out === '' ? shown : `.${shown}`
    }
    if (out.length > 4 * MAX_NAME_SHOWN) return `${out.slice(0, 4 * MAX_NAME_SHOWN)}…`
  }
  return out
}

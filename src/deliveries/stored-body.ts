/** The request body as the delivery log keeps it: as received when it can be, else a trimmed copy and a note saying what changed. */
import { MAX_DEPTH } from '../value-bounds.js'

/** What replaces a value nested deeper than MAX_DEPTH in a stored body. */
export const REMOVED = '[removed: nested too deeply]'

export interface StoredBody {
  /** JSON text, or null when there was no body to keep. */
  text: string | null
  /** Null when `text` is the body as received; else what was left out or changed, for the administrator. */
  note: string | null
}

/**
 * Serialises a parsed body for the delivery log. Every body can be kept: values nested deeper
 * than MAX_DEPTH levels are replaced by `[removed: nested too deeply]` (JSON.stringify itself
 * overflows the stack a few thousand levels down), and numbers out of range, which JSON can only
 * write as null, are said to be so.
 *
 * @example storedBody({ a: 1 }) // { text: '{"a":1}', note: null }
 */
export function storedBody(body: unknown): StoredBody {
  if (body === undefined) return { text: null, note: null }
  const { deep, nonFinite } = inspect(body)
  const notes: string[] = []
  if (deep) notes.push(`values nested deeper than ${MAX_DEPTH} levels were replaced by "${REMOVED}"`)
  if (nonFinite) notes.push('numbers out of range (such as 1e400) were written as null')
  return {
    text: JSON.stringify(deep ? trimmed(body, 1) : body),
    note: notes.length === 0 ? null : `Not kept as received: ${notes.join('; ')}`,
  }
}

/** Whether `value` nests deeper than MAX_DEPTH or holds a number JSON cannot write; iterative, for any depth. */
function inspect(value: unknown): { deep: boolean; nonFinite: boolean } {
  let deep = false
  let nonFinite = false
  const stack: Array<{ value: unknown; depth: number }> = [{ value, depth: 1 }]
  while (stack.length > 0 && !(deep && nonFinite)) {
    const next = stack.pop()
    if (next === undefined) break
    if (typeof next.value === 'number' && !Number.isFinite(next.value)) nonFinite = true
    if (typeof next.value !== 'object' || next.value === null) continue
    if (next.depth > MAX_DEPTH) {
      deep = true
      continue
    }
    for (const item of Object.values(next.value)) stack.push({ value: item, depth: next.depth + 1 })
  }
  return { deep, nonFinite }
}

/** A copy whose containers below MAX_DEPTH are replaced; recursion is bounded by MAX_DEPTH. */
function trimmed(value: unknown, depth: number): unknown {
  if (typeof value !== 'object' || value === null) return value
  if (depth > MAX_DEPTH) return REMOVED
  if (Array.isArray(value)) return value.map((item) => trimmed(item, depth + 1))
  // A null prototype: a field named `__proto__` stays a field, as JSON.parse made it.
  const out: Record<string, unknown> = Object.create(null)
  for (const [key, item] of Object.entries(value)) out[key] = trimmed(item, depth + 1)
  return out
}

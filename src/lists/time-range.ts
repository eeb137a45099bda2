/**
 * The `since` / `until` filters of the lists: ISO-8601 instants (`2026-12-01T10:00:00Z`, or a bare
 * date meaning its midnight UTC), turned into the stored form so they compare as text in both databases.
 */
import { AppError } from '../errors.js'

export interface TimeRange {
  /** Rows created at or after this instant (ISO-8601 UTC), or no lower bound. */
  since: string | null
  /** Rows created before this instant (ISO-8601 UTC), or no upper bound. */
  until: string | null
}

// A date, optionally with a time and a zone: what people and scripts write, nothing looser.
const INSTANT = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2}))?$/

/**
 * Reads `since` and `until` (either may be absent); 400 for a value that is not an instant or a
 * range that ends before it starts.
 *
 * @example readTimeRange({ since: '2026-12-01' }) // { since: '2026-12-01T00:00:00.000Z', until: null }
 */
export function readTimeRange(input: { since?: string | undefined; until?: string | undefined }): TimeRange {
  const since = readInstant('since', input.since)
  const until = readInstant('until', input.until)
  if (since !== null && until !== null && until < since)
    throw new AppError('bad_request', { message: 'until must not be before since' })
  return { since, until }
}

function readInstant(name: string, value: string | undefined): string | null {
  if (value === undefined || value === '') return null
  const time = INSTANT.test(value) ? Date.parse(value) : Number.NaN
  if (Number.isNaN(time))
    throw new AppError('bad_request', {
      message: `${name} must be a date or time such as 2026-12-01 or 2026-12-01T10:00:00Z`,
    })
  return new Date(time).toISOString()
}

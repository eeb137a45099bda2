/** The `since` / `until` query parameters of the lists that filter by time (read by lists/time-range.ts). */
import { Type } from '@sinclair/typebox'

export const TimeRangeQuery = {
  since: Type.Optional(
    Type.String({
      maxLength: 40,
      description:
        'Only rows created at or after this time (ISO-8601, e.g. 2026-12-01 or 2026-12-01T10:00:00Z)',
    }),
  ),
  until: Type.Optional(
    Type.String({ maxLength: 40, description: 'Only rows created before this time (ISO-8601)' }),
  ),
}

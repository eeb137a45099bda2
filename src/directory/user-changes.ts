/** What a change did to a user, field by field (before → after): for the user history and dry runs. */
import type { UserTable } from '../storage/schema.js'

/** The fields of a user whose changes are kept; never a password hash (a password change is named, not shown). */
export const TRACKED_FIELDS = [
  'login_id',
  'email',
  'first_name',
  'last_name',
  'display_name',
  'mobile',
  'status',
  'employee_id',
  'is_service_account',
  'is_admin',
] as const

export type TrackedField = (typeof TRACKED_FIELDS)[number]

export interface FieldChange {
  before: string | number | null
  after: string | number | null
}

export type FieldChanges = Partial<Record<TrackedField, FieldChange>>

/**
 * The tracked fields that differ between `before` (undefined: the user is new) and `after`.
 *
 * @example diffUser(row, { ...row, status: 'terminated' }) // { status: { before: 'active', after: 'terminated' } }
 */
export function diffUser(before: UserTable | undefined, after: UserTable): FieldChanges {
  const changes: FieldChanges = {}
  for (const field of TRACKED_FIELDS) {
    const was = before === undefined ? null : before[field]
    const now = after[field]
    // A new user shows only what it was created with.
    if (before === undefined && (now === null || now === 0 || now === '')) continue
    if (was !== now) changes[field] = { before: was, after: now }
  }
  return changes
}

/**
 * One line for the delivery log: `status: active → terminated; mobile: (none) → +1 555`.
 *
 * @example describeChanges({ status: { before: 'active', after: 'terminated' } }) // 'status: active → terminated'
 */
export function describeChanges(changes: FieldChanges): string {
  const show = (value: string | number | null) => (value === null || value === '' ? '(none)' : String(value))
  return Object.entries(changes)
    .map(([field, change]) => `${field}: ${show(change.before)} → ${show(change.after)}`)
    .join('; ')
}

/** The User Manager: users, service accounts and administrators of a tenant. */
import { sql } from 'kysely'
import { hashPassword } from '../auth/passwords.js'
import { AppError } from '../errors.js'
import { newId } from '../ids.js'
import { keysetPage, MAX_LIMIT, type Page, type PageRequest } from '../lists/paging.js'
import { type Database, type Db, isUniqueViolation } from '../storage/database.js'
import type { UserTable } from '../storage/schema.js'
import { boundedText } from '../value-bounds.js'
import { diffUser } from './user-changes.js'
import { type ChangeActor, recordUserChange, SYSTEM_ACTOR } from './user-history.js'

export type UserStatus = 'active' | 'terminated' | 'disabled'

/** The user object of the wire contract. */
export interface User {
  id: string
  login_id: string
  email: string
  first_name: string
  last_name: string
  display_name: string
  mobile: string | null
  employee_id: string | null
  status: UserStatus
  created_at: string
  updated_at: string
}

/** What administrators see beside the wire object. */
export interface UserDetails extends User {
  service_account: boolean
  admin: boolean
  destination_id: string | null
  company_id: string | null
}

export function toUser(row: UserTable): User {
  return {
    id: row.id,
    login_id: row.login_id,
    email: row.email,
    first_name: row.first_name,
    last_name: row.last_name,
    display_name: row.display_name,
    mobile: row.mobile,
    employee_id: row.employee_id,
    status: row.status as UserStatus,
    created_at: row.created_at,
    updated_at: row.updated_at,
  }
}

export function toUserDetails(row: UserTable): UserDetails {
  return {
    ...toUser(row),
    service_account: row.is_service_account === 1,
    admin: row.is_admin === 1,
    destination_id: row.destination_id,
    company_id: row.company_id,
  }
}

/** Longer passwords are refused: console sign-in reads at most this many characters. */
export const MAX_PASSWORD = 1024

// Deliberately simple: one @, no spaces, a dot in the domain. Mail servers decide the rest.
const EMAIL_PATTERN = /^[^\s@]+@[^\s@]+\.[^\s@]+$/

/** At most 254 characters, the pattern above, and no control character (NUL included: PostgreSQL cannot store it). */
export function isEmail(value: string): boolean {
  return value.length <= 254 && EMAIL_PATTERN.test(value) && !hasControlCharacter(value)
}

function hasControlCharacter(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i)
    if (code < 0x20 || code === 0x7f) return true
  }
  return false
}

export interface NewUser {
  email: string
  firstName?: string
  lastName?: string
  displayName?: string
  serviceAccount?: boolean
  admin?: boolean
  /** Required for service accounts and administrators (they sign in). */
  password?: string
  /** Who creates it, for the user's history (default: the service itself). */
  by?: ChangeActor
}

/**
 * Creates a user by hand (User Manager, CLI); the login ID is the email.
 *
 * @example await createUser(database, tenantId, { email: 'svc@acme.com', serviceAccount: true, password })
 */
export async function createUser(database: Database, tenantId: string, input: NewUser): Promise<UserDetails> {
  const email = input.email.trim()
  if (!isEmail(email)) throw new AppError('invalid_email')
  const signsIn = input.serviceAccount === true || input.admin === true
  if (signsIn && (input.password === undefined || input.password.length < 8)) {
    throw new AppError('bad_request', { message: 'password must be at least 8 characters' })
  }
  if (input.password !== undefined) boundedText('password', input.password, MAX_PASSWORD)
  const firstName = boundedText('first_name', input.firstName?.trim() ?? '')
  const lastName = boundedText('last_name', input.lastName?.trim() ?? '')
  if (input.displayName !== undefined) boundedText('display_name', input.displayName.trim())
  const now = new Date().toISOString()
  const row: UserTable = {
    id: newId('usr'),
    tenant_id: tenantId,
    login_id: email,
    login_key: email.toLowerCase(),
    email,
    email_key: email.toLowerCase(),
    first_name: firstName,
    last_name: lastName,
    display_name: input.displayName?.trim() || `${firstName} ${lastName}`.trim() || email,
    mobile: null,
    status: 'active',
    is_service_account: input.serviceAccount === true ? 1 : 0,
    is_admin: input.admin === true ? 1 : 0,
    password_hash: signsIn && input.password !== undefined ? await hashPassword(input.password) : null,
    destination_id: null,
    company_id: null,
    employee_id: null,
    created_at: now,
    updated_at: now,
  }
  try {
    await database.transaction(async (trx) => {
      await trx.insertInto('users').values(row).execute()
      await recordUserChange(
        trx,
        tenantId,
        row.id,
        'created',
        input.by ?? SYSTEM_ACTOR,
        diffUser(undefined, row),
      )
    })
  } catch (error) {
    if (isUniqueViolation(error))
      throw new AppError('conflict', { message: `A user with email ${email} already exists` })
    throw error
  }
  return toUserDetails(row)
}

export async function listUsers(db: Db, tenantId: string): Promise<UserDetails[]> {
  return (await pageUsers(db, tenantId, {}, { limit: MAX_LIMIT, cursor: null })).items
}

/** What a user list can be narrowed to (every filter optional; they combine). */
export interface UserFilters {
  status?: UserStatus | undefined
  /** Only the users a provisioning destination made (its plugin id). */
  destinationId?: string | undefined
  /** Part of the email, the display name, or the first or last name, without case. */
  search?: string | undefined
  /** Exactly this email (without case). */
  email?: string | undefined
  employeeId?: string | undefined
}

/**
 * One page of a tenant's users, oldest first (ids sort by creation time).
 *
 * @example await pageUsers(db, tenantId, { status: 'terminated', search: 'doe' }, { limit: 100, cursor: null })
 */
export async function pageUsers(
  db: Db,
  tenantId: string,
  filters: UserFilters,
  request: PageRequest,
): Promise<Page<UserDetails>> {
  const page = await keysetPage(
    request,
    'asc',
    (row: UserTable) => row.id,
    (bound, order, limit) => {
      let query = db.selectFrom('users').selectAll().where('tenant_id', '=', tenantId)
      if (filters.status !== undefined) query = query.where('status', '=', filters.status)
      if (filters.destinationId !== undefined)
        query = query.where('destination_id', '=', filters.destinationId)
      if (filters.email !== undefined)
        query = query.where('email_key', '=', filters.email.trim().toLowerCase())
      if (filters.employeeId !== undefined) query = query.where('employee_id', '=', filters.employeeId)
      const search = filters.search?.trim().toLowerCase() ?? ''
      if (search !== '') {
        // LIKE with its wildcards escaped: a search for `a_b` or `100%` means those characters.
        const pattern = `%${search.replace(/[\\%_]/g, (c) => `\\${c}`)}%`
        const like = (column: string) => sql<boolean>`lower(${sql.ref(column)}) like ${pattern} escape '\\'`
        query = query.where((eb) =>
          eb.or([like('email_key'), like('display_name'), like('first_name'), like('last_name')]),
        )
      }
      if (bound !== null) query = query.where('id', bound.op, bound.key)
      return query.orderBy('id', order).limit(limit).execute()
    },
  )
  return { ...page, items: page.items.map(toUserDetails) }
}

export async function findUserByEmail(db: Db, tenantId: string, email: string): Promise<UserDetails | null> {
  const row = await db
    .selectFrom('users')
    .selectAll()
    .where('tenant_id', '=', tenantId)
    .where('email_key', '=', email.trim().toLowerCase())
    .executeTakeFirst()
  return row === undefined ? null : toUserDetails(row)
}

/** One user of the tenant by id; null when the tenant has none (another tenant's id included). */
export async function findUserById(db: Db, tenantId: string, id: string): Promise<UserDetails | null> {
  const row = await db
    .selectFrom('users')
    .selectAll()
    .where('tenant_id', '=', tenantId)
    .where('id', '=', id)
    .executeTakeFirst()
  return row === undefined ? null : toUserDetails(row)
}

/** Users linked to `employeeId`, optionally only through one destination. */
export async function findUsersByEmployeeId(
  db: Db,
  tenantId: string,
  employeeId: string,
  destinationId?: string,
): Promise<UserDetails[]> {
  let query = db
    .selectFrom('users')
    .selectAll()
    .where('tenant_id', '=', tenantId)
    .where('employee_id', '=', employeeId)
  if (destinationId !== undefined) query = query.where('destination_id', '=', destinationId)
  return (await query.orderBy('id').execute()).map(toUserDetails)
}

/** Sets a new password (service accounts, administrators); cached credentials stop working within seconds. */
export async function setPassword(
  database: Database,
  tenantId: string,
  userId: string,
  password: string,
  by: ChangeActor = SYSTEM_ACTOR,
): Promise<void> {
  if (password.length < 8)
    throw new AppError('bad_request', { message: 'password must be at least 8 characters' })
  boundedText('password', password, MAX_PASSWORD)
  const hash = await hashPassword(password)
  await database.transaction(async (trx) => {
    const result = await trx
      .updateTable('users')
      .set({ password_hash: hash, updated_at: new Date().toISOString() })
      .where('tenant_id', '=', tenantId)
      .where('id', '=', userId)
      .executeTakeFirst()
    if (result.numUpdatedRows === 0n) throw new AppError('not_found', { message: 'User not found' })
    // Named, never shown: the history says the password changed, not what to.
    await recordUserChange(trx, tenantId, userId, 'password_changed', by, {})
  })
}

/** Sets a user's status (disable or re-enable an account by hand). */
export async function setUserStatus(
  database: Database,
  tenantId: string,
  userId: string,
  status: UserStatus,
): Promise<UserDetails> {
  return database.transaction(async (trx) => {
    const before = await trx
      .selectFrom('users')
      .selectAll()
      .where('tenant_id', '=', tenantId)
      .where('id', '=', userId)
      .executeTakeFirst()
    const updated = await trx
      .updateTable('users')
      .set({ status, updated_at: new Date().toISOString() })
      .where('tenant_id', '=', tenantId)
      .where('id', '=', userId)
      .returningAll()
      .executeTakeFirst()
    if (updated === undefined) throw new AppError('not_found', { message: 'User not found' })
    await recordUserChange(trx, tenantId, userId, 'updated', SYSTEM_ACTOR, diffUser(before, updated))
    return toUserDetails(updated)
  })
}

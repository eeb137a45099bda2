/** HR provisioning: AddUser, ModifyUser and TerminateUser applied to the user directory, whatever the HR system. */
import { AppError } from '../errors.js'
import type { LoginIdSource } from '../hr-vendors/index.js'
import { newId } from '../ids.js'
import type { Database, Db, Dialect, Tx } from '../storage/database.js'
import { preparedQuery } from '../storage/prepared-query.js'
import type { UserTable } from '../storage/schema.js'
import {
  countTermination,
  dropHeldTerminations,
  holdReason,
  holdTermination,
  lockDestinationTerminations,
  type SafeguardTarget,
} from './termination-safeguard.js'
import { diffUser, type FieldChanges } from './user-changes.js'
import { actionOf, type ChangeActor, recordUserChange } from './user-history.js'
import { isEmail, toUser, type User } from './users.js'

/** An employee as the HR system names it: `employeeId` is unique only within a company ('' when there are none). */
export interface EmployeeRef {
  employeeId: string
  companyId: string
}

/** The destination a command came through: the link's owner and its login ID rule. */
export interface ProvisioningTarget {
  tenantId: string
  destinationId: string
  loginId: LoginIdSource
  /** The mass-termination safeguard's limit per rolling hour; absent or 0: off. */
  terminationLimit?: number
}

export interface AddUser {
  ref: EmployeeRef
  firstName: string
  lastName: string
  email: string
  /** Absent leaves the value alone (for a known employee); null or '' clears it. */
  mobile?: string | null
  /** Absent follows the names (see nextDisplayName); null or '' goes back to `first last`. */
  displayName?: string | null
}

/** Only the fields that are present change; `terminate` is for HR systems that report a status. */
export interface ModifyUser {
  ref: EmployeeRef
  firstName?: string
  lastName?: string
  email?: string
  mobile?: string | null
  displayName?: string | null
  terminate?: boolean
}

export interface TerminateUser {
  ref: EmployeeRef
}

/** What one HR webhook body turns into: add, modify or terminate an employee's user. */
export type HrCommand =
  | { kind: 'add'; command: AddUser }
  | { kind: 'modify'; command: ModifyUser }
  | { kind: 'terminate'; command: TerminateUser }

export interface ProvisioningOutcome {
  user: User
  /** True only when adduser made a new user. */
  created: boolean
  /** False when the command found the user already as asked (a repeat), or when it was held. */
  changed: boolean
  /** Set when the safeguard held the termination instead of applying it: why. */
  held?: string
  /** The fields it changed, before → after (empty when nothing changed). */
  changes: FieldChanges
}

export interface ProvisioningOptions {
  /** Runs inside the transaction that commits the change, so what it writes lands with it or not at all. */
  inTransaction?: (trx: Tx, outcome: ProvisioningOutcome) => Promise<void>
}

/**
 * Creates the employee's user, or, for an employee this destination already knows (HR systems
 * resend new hires on transfers and retries), updates it with the given fields and reactivates it
 * when it was terminated. A login ID or email of another user: `Failed to create user in the OptimalCloud`.
 * Two calls for one new employee at once meet at the users_employee index: the loser's unique
 * violation is retried by runWebhook and then finds the winner's user.
 *
 * @example await addUser(database, target, { ref: { employeeId: '1111', companyId: '' }, firstName: 'John', lastName: 'Doe', email: 'john@acme.com' })
 */
export async function addUser(
  database: Database,
  target: ProvisioningTarget,
  command: AddUser,
  options: ProvisioningOptions = {},
): Promise<ProvisioningOutcome> {
  return applyHrCommand(database, target, { kind: 'add', command }, options)
}

async function addUserIn(
  dialect: Dialect,
  trx: Tx,
  target: ProvisioningTarget,
  command: AddUser,
  call: CallContext,
): Promise<ProvisioningOutcome> {
  const email = checkEmail(command.email)
  const loginId = target.loginId === 'employee_id' ? command.ref.employeeId : email
  // One read finds the linked user and anyone holding this email or login ID.
  const holders: HolderQuery = {
    tenantId: target.tenantId,
    destinationId: target.destinationId,
    companyId: command.ref.companyId,
    employeeId: command.ref.employeeId,
    emailKey: email.toLowerCase(),
    loginKey: loginId.toLowerCase(),
  }
  // Assumed new (PostgreSQL, first attempt): no read at all. Anyone holding the employee, email or
  // login ID makes the insert fail at a unique index when the transaction commits; the caller then
  // runs the call again without the assumption, and the read below finds who it is.
  let rows = call.assumeNew && dialect === 'postgres' ? [] : await findHolders(trx, holders)
  // On PostgreSQL rows that will be changed are read again, locked. A new employee (no rows) has
  // nothing to lock: a concurrent add of the same one meets the unique indexes and runWebhook runs
  // the loser again. So the common case reads without a lock, outside any open transaction.
  if (dialect === 'postgres' && rows.length > 0) rows = await findHoldersForUpdate(trx, holders)
  const existing = rows.find((row) => isLinked(row, target, command.ref))
  const clash = describeClash(rows, existing?.id ?? null, email, loginId)
  if (clash !== null) throw new AppError('user_create_failed', { reason: clash })

  const now = new Date().toISOString()
  let outcome: ProvisioningOutcome
  if (existing === undefined) {
    const row: UserTable = {
      id: newId('usr'),
      tenant_id: target.tenantId,
      login_id: loginId,
      login_key: loginId.toLowerCase(),
      email,
      email_key: email.toLowerCase(),
      first_name: command.firstName,
      last_name: command.lastName,
      display_name: nextDisplayName(undefined, command.firstName, command.lastName, command.displayName),
      mobile: cleanOptional(command.mobile) ?? null,
      status: 'active',
      is_service_account: 0,
      is_admin: 0,
      password_hash: null,
      destination_id: target.destinationId,
      company_id: command.ref.companyId,
      employee_id: command.ref.employeeId,
      created_at: now,
      updated_at: now,
    }
    await insertUser(trx, row)
    outcome = { user: toUser(row), created: true, changed: true, changes: diffUser(undefined, row) }
  } else {
    // The HR system re-hired (or re-sent) the employee after a termination that is still held: in the
    // order the HR system sent them, the employee ends up active, so approving must not terminate it.
    await dropHeldTerminations(trx, target, existing.id)
    // An account an administrator disabled stays disabled: only a terminated one comes back.
    const status = existing.status === 'terminated' ? 'active' : existing.status
    outcome = await applyChanges(trx, existing, {
      login_id: loginId,
      email,
      first_name: command.firstName,
      last_name: command.lastName,
      display_name: nextDisplayName(existing, command.firstName, command.lastName, command.displayName),
      mobile: command.mobile === undefined ? existing.mobile : cleanOptional(command.mobile),
      status,
    })
  }
  return outcome
}

export interface HolderQuery {
  tenantId: string
  destinationId: string
  companyId: string
  employeeId: string
  emailKey: string
  loginKey: string
}

/**
 * The user linked to the employee and any user holding the email or login ID. The tenant is in
 * every branch so that each is a lookup in its own unique index (SQLite's MULTI-INDEX OR): with the
 * tenant outside the OR, SQLite reads every user of the tenant.
 */
export function holdersQuery(db: Db, p: HolderQuery) {
  return db
    .selectFrom('users')
    .selectAll()
    .where((eb) =>
      eb.or([
        eb.and([
          eb('tenant_id', '=', p.tenantId),
          eb('destination_id', '=', p.destinationId),
          eb('company_id', '=', p.companyId),
          eb('employee_id', '=', p.employeeId),
        ]),
        eb.and([eb('tenant_id', '=', p.tenantId), eb('email_key', '=', p.emailKey)]),
        eb.and([eb('tenant_id', '=', p.tenantId), eb('login_key', '=', p.loginKey)]),
      ]),
    )
}

const findHolders = preparedQuery(holdersQuery)
/** On PostgreSQL the rows found are locked until the transaction ends. */
const findHoldersForUpdate = preparedQuery((db, p: HolderQuery) => holdersQuery(db, p).forUpdate())
const insertUser = preparedQuery((db, row: UserTable) => db.insertInto('users').values(row))

/**
 * Changes only the fields present in `command`; never reactivates a user (only adduser does), so a
 * modify racing a terminate cannot bring the user back. Unknown employee: `User not found in the
 * OptimalCloud`; a login ID or email of another user: `Failed to update user in the OptimalCloud`.
 *
 * @example await modifyUser(database, target, { ref, mobile: null })
 */
export async function modifyUser(
  database: Database,
  target: ProvisioningTarget,
  command: ModifyUser,
  options: ProvisioningOptions = {},
): Promise<ProvisioningOutcome> {
  return applyHrCommand(database, target, { kind: 'modify', command }, options)
}

async function modifyUserIn(
  dialect: Dialect,
  trx: Tx,
  target: ProvisioningTarget,
  command: ModifyUser,
): Promise<ProvisioningOutcome> {
  const email = command.email === undefined ? undefined : checkEmail(command.email)
  const existing = await lockLinked(dialect, trx, target, command.ref)
  if (command.terminate === true && existing.status !== 'terminated') {
    // An HR system that reports a status (Paylocity's T, BambooHR's Inactive) terminates through a
    // modify: never held (modifies never are), but counted in the destination's hour like any termination.
    await countTermination(trx, safeguardOf(target), existing.id, new Date())
  }
  const nextEmail = email ?? existing.email
  const loginId = target.loginId === 'employee_id' ? command.ref.employeeId : nextEmail
  if (nextEmail.toLowerCase() !== existing.email_key || loginId.toLowerCase() !== existing.login_key) {
    // The tenant in each branch: one unique-index lookup each (see addUser).
    const rows = await trx
      .selectFrom('users')
      .selectAll()
      .where((eb) =>
        eb.or([
          eb.and([eb('tenant_id', '=', target.tenantId), eb('email_key', '=', nextEmail.toLowerCase())]),
          eb.and([eb('tenant_id', '=', target.tenantId), eb('login_key', '=', loginId.toLowerCase())]),
        ]),
      )
      .execute()
    const clash = describeClash(rows, existing.id, nextEmail, loginId)
    if (clash !== null) throw new AppError('user_update_failed', { reason: clash })
  }
  const firstName = command.firstName ?? existing.first_name
  const lastName = command.lastName ?? existing.last_name
  const outcome = await applyChanges(trx, existing, {
    login_id: loginId,
    email: nextEmail,
    first_name: firstName,
    last_name: lastName,
    display_name: nextDisplayName(existing, firstName, lastName, command.displayName),
    mobile: command.mobile === undefined ? existing.mobile : cleanOptional(command.mobile),
    status: command.terminate === true ? 'terminated' : existing.status,
  })
  return outcome
}

/**
 * Terminates the user: it can no longer sign in; the record and its link stay. A repeat changes
 * nothing and answers the same user.
 *
 * @example await terminateUser(database, target, { ref: { employeeId: '1111', companyId: '' } })
 */
export async function terminateUser(
  database: Database,
  target: ProvisioningTarget,
  command: TerminateUser,
  options: ProvisioningOptions = {},
): Promise<ProvisioningOutcome> {
  return applyHrCommand(database, target, { kind: 'terminate', command }, options)
}

async function terminateUserIn(
  dialect: Dialect,
  trx: Tx,
  target: ProvisioningTarget,
  command: TerminateUser,
  call: CallContext,
): Promise<ProvisioningOutcome> {
  const existing = await lockLinked(dialect, trx, target, command.ref)
  // A repeat changes nothing, so it is never held.
  if (existing.status === 'terminated')
    return { user: toUser(existing), created: false, changed: false, changes: {} }
  const now = new Date()
  const safeguard = safeguardOf(target)
  const held = await holdReason(trx, safeguard, now)
  if (held !== null) {
    await holdTermination(trx, safeguard, existing, held, call.deliveryId, now)
    return { user: toUser(existing), created: false, changed: false, held, changes: {} }
  }
  const outcome = await applyChanges(trx, existing, { status: 'terminated' })
  await countTermination(trx, safeguard, existing.id, now)
  return outcome
}

/**
 * Terminates a user a held change names, when an administrator approves it (held-changes.ts): no
 * limit applies, and it is not counted in the destination's hour. A user already terminated stays so.
 */
export async function terminateHeldUser(
  dialect: Dialect,
  trx: Tx,
  tenantId: string,
  userId: string,
): Promise<ProvisioningOutcome | null> {
  const query = trx.selectFrom('users').selectAll().where('tenant_id', '=', tenantId).where('id', '=', userId)
  const existing = await (dialect === 'postgres' ? query.forUpdate() : query).executeTakeFirst()
  if (existing === undefined) return null
  return applyChanges(trx, existing, { status: 'terminated' })
}

/** One command, in its own transaction with what `options` writes. */
export async function applyHrCommand(
  database: Database,
  target: ProvisioningTarget,
  command: HrCommand,
  options: ProvisioningOptions = {},
): Promise<ProvisioningOutcome> {
  const [outcome] = await applyHrCommands(database, target, [command], {
    ...(options.inTransaction === undefined
      ? {}
      : {
          inTransaction: async (trx, outcomes) => {
            const [only] = outcomes
            if (only !== undefined) await options.inTransaction?.(trx, only)
          },
        }),
  })
  if (outcome === undefined) throw new Error('applyHrCommands returned no outcome for one command')
  return outcome
}

/**
 * Applies `commands` in order, all in one transaction with what `options.inTransaction` writes: a
 * vendor that reports several employees in one call gets all of them changed or none.
 *
 * @example await applyHrCommands(database, target, [{ kind: 'terminate', command: { ref } }])
 */
export async function applyHrCommands(
  database: Database,
  target: ProvisioningTarget,
  commands: readonly HrCommand[],
  options: HrCommandsOptions = {},
): Promise<ProvisioningOutcome[]> {
  const call: CallContext = {
    deliveryId: options.deliveryId ?? null,
    assumeNew: options.assumeNewEmployees === true,
  }
  return database.transaction(async (trx) => {
    // Before any user row is locked: terminations of one destination take turns (see the safeguard).
    if (commands.some((c) => c.kind === 'terminate') && safeguardOn(target))
      await lockDestinationTerminations(database.dialect, trx, safeguardOf(target))
    const outcomes: ProvisioningOutcome[] = []
    const by: ChangeActor = { actor: `destination:${target.destinationId}`, deliveryId: call.deliveryId }
    for (const command of commands) {
      const outcome = await applyIn(database.dialect, trx, target, command, call)
      if (Object.keys(outcome.changes).length > 0) {
        const action = outcome.created ? 'created' : actionOf(outcome.changes)
        await recordUserChange(trx, target.tenantId, outcome.user.id, action, by, outcome.changes)
      }
      outcomes.push(outcome)
    }
    await options.inTransaction?.(trx, outcomes)
    return outcomes
  })
}

export interface HrCommandsOptions {
  /** Runs inside the transaction that commits the changes, after them. */
  inTransaction?: (trx: Tx, outcomes: ProvisioningOutcome[]) => Promise<void>
  /** The delivery-log entry of the webhook call, written in the same transaction. */
  deliveryId?: string
  /**
   * On PostgreSQL, adds insert without first reading who holds the employee, email or login ID: one
   * round trip for a new hire instead of two. An employee that exists, or a clash, then fails the
   * transaction with a unique violation, and the caller must run the call again without this
   * (runWebhook does). Never for a dry run: its inserts are rolled back before they could fail.
   */
  assumeNewEmployees?: boolean
}

/** What one call's commands share besides the target. */
interface CallContext {
  deliveryId: string | null
  assumeNew: boolean
}

function applyIn(
  dialect: Dialect,
  trx: Tx,
  target: ProvisioningTarget,
  { kind, command }: HrCommand,
  call: CallContext,
): Promise<ProvisioningOutcome> {
  switch (kind) {
    case 'add':
      return addUserIn(dialect, trx, target, command, call)
    case 'modify':
      return modifyUserIn(dialect, trx, target, command)
    case 'terminate':
      return terminateUserIn(dialect, trx, target, command, call)
  }
}

function safeguardOn(target: ProvisioningTarget): boolean {
  return (target.terminationLimit ?? 0) > 0
}

function safeguardOf(target: ProvisioningTarget): SafeguardTarget {
  return {
    tenantId: target.tenantId,
    destinationId: target.destinationId,
    terminationLimit: target.terminationLimit ?? 0,
  }
}

/**
 * The user this destination linked to the employee; `User not found in the OptimalCloud` otherwise.
 * Used before calling an HR system's API, so an unknown employee costs no call.
 */
export async function requireLinkedUser(db: Db, target: ProvisioningTarget, ref: EmployeeRef): Promise<User> {
  const row = await linkedQuery(db, target, ref).executeTakeFirst()
  if (row === undefined) throw notFound(ref)
  return toUser(row)
}

function linkedQuery(db: Db, target: ProvisioningTarget, ref: EmployeeRef) {
  return db
    .selectFrom('users')
    .selectAll()
    .where('tenant_id', '=', target.tenantId)
    .where('destination_id', '=', target.destinationId)
    .where('company_id', '=', ref.companyId)
    .where('employee_id', '=', ref.employeeId)
}

/** The linked row, locked on PostgreSQL so concurrent changes to one user apply one after the other. */
async function lockLinked(
  dialect: Dialect,
  trx: Tx,
  target: ProvisioningTarget,
  ref: EmployeeRef,
): Promise<UserTable> {
  const query = linkedQuery(trx, target, ref)
  const row = await (dialect === 'postgres' ? query.forUpdate() : query).executeTakeFirst()
  if (row === undefined) throw notFound(ref)
  return row
}

function notFound(ref: EmployeeRef): AppError {
  const company = ref.companyId === '' ? '' : ` of company ${ref.companyId}`
  return new AppError('user_not_found', {
    reason: `employee ${ref.employeeId}${company} is not known to this provisioning destination`,
  })
}

type UserChanges = Partial<
  Pick<UserTable, 'login_id' | 'email' | 'first_name' | 'last_name' | 'display_name' | 'mobile' | 'status'>
>

/** Writes the fields that differ (with their lower-cased keys); nothing at all when none do. */
async function applyChanges(
  trx: Tx,
  existing: UserTable,
  changes: UserChanges,
): Promise<ProvisioningOutcome> {
  const patch: Partial<UserTable> = {}
  for (const [field, value] of Object.entries(changes) as Array<[keyof UserChanges, string | null]>) {
    if (value !== undefined && existing[field] !== value) Object.assign(patch, { [field]: value })
  }
  if (Object.keys(patch).length === 0)
    return { user: toUser(existing), created: false, changed: false, changes: {} }
  if (patch.login_id !== undefined) patch.login_key = patch.login_id.toLowerCase()
  if (patch.email !== undefined) patch.email_key = patch.email.toLowerCase()
  patch.updated_at = new Date().toISOString()
  await trx
    .updateTable('users')
    .set(patch)
    .where('tenant_id', '=', existing.tenant_id)
    .where('id', '=', existing.id)
    .execute()
  const after = { ...existing, ...patch }
  return { user: toUser(after), created: false, changed: true, changes: diffUser(existing, after) }
}

function isLinked(row: UserTable, target: ProvisioningTarget, ref: EmployeeRef): boolean {
  return (
    row.destination_id === target.destinationId &&
    row.company_id === ref.companyId &&
    row.employee_id === ref.employeeId
  )
}

/** Why this email or login ID cannot be used (for the delivery log), or null when no other user holds it. */
function describeClash(
  rows: UserTable[],
  selfId: string | null,
  email: string,
  loginId: string,
): string | null {
  for (const row of rows) {
    if (row.id === selfId) continue
    if (row.email_key === email.toLowerCase())
      return `email ${email} already belongs to another user (${row.id})`
    if (row.login_key === loginId.toLowerCase())
      return `login ID ${loginId} already belongs to another user (${row.id})`
  }
  return null
}

function checkEmail(value: string): string {
  const email = value.trim()
  if (!isEmail(email)) throw new AppError('invalid_email')
  return email
}

/** Trimmed text, or null for null and empty text. */
function cleanOptional(value: string | null | undefined): string | null | undefined {
  if (value === undefined) return undefined
  if (value === null) return null
  const trimmed = value.trim()
  return trimmed === '' ? null : trimmed
}

/**
 * A display name given is kept; null or '' means `first last`. When none is given, a display name
 * that followed the old names (it equals `first last`) follows the new ones, and one set on purpose stays.
 */
function nextDisplayName(
  existing: UserTable | undefined,
  firstName: string,
  lastName: string,
  given: string | null | undefined,
): string {
  const followed = defaultDisplayName(firstName, lastName)
  const explicit = cleanOptional(given)
  if (explicit !== undefined) return explicit ?? followed
  if (existing === undefined) return followed
  return existing.display_name === defaultDisplayName(existing.first_name, existing.last_name)
    ? followed
    : existing.display_name
}

function defaultDisplayName(firstName: string, lastName: string): string {
  return `${firstName} ${lastName}`.trim()
}

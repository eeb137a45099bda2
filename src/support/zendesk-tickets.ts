/** The Zendesk support backend: tickets made in Zendesk, mirrored locally under Zendesk's number. */
import { setTimeout as delay } from 'node:timers/promises'
import {
  ZendeskClient,
  type ZendeskClientOptions,
  ZendeskError,
  type ZendeskSettings,
  type ZendeskTicketInput,
} from '../connectors/zendesk-client.js'
import { AppError } from '../errors.js'
import { sha256 } from '../ids.js'
import type { Services } from '../services.js'
import { isUniqueViolation, type Tx } from '../storage/database.js'
import type { TicketTable } from '../storage/schema.js'
import type { Tenant } from '../tenancy/tenants.js'
import { zendeskSettingsOf } from './support-settings.js'
import type { CreateTicketOptions } from './support-system.js'
import {
  addComment,
  type CreateTicket,
  changedFieldLines,
  findByDedupeKey,
  insertTicketRow,
  recordRepeat,
  type TicketOutcome,
  ticketRow,
} from './tickets.js'

/** Timings of the Zendesk backend; production uses the defaults, tests shrink them (Services.zendesk). */
export interface ZendeskBackendOptions extends Omit<ZendeskClientOptions, 'budgetMs'> {
  /** Every Zendesk call of one webhook together, waits included; default 17000 (the webhook answers within 20 s). */
  budgetMs?: number
  /** How often a request that lost the race for an incident re-reads the winner's claim; default 50. */
  pollMs?: number
}

const DEFAULT_BUDGET_MS = 17_000
const DEFAULT_POLL_MS = 50
// Below this, a Zendesk call is not started (the client's own floor for an attempt is 100 ms).
const MIN_CALL_MS = 200
// Far longer than any webhook may run: a claim this old was left by a process that died mid-creation.
const STALE_CLAIM_MS = 60_000

/**
 * Creates the ticket in Zendesk (or, for a ServiceNow repeat, comments on the one made before) and
 * keeps a local copy under Zendesk's ticket id. Zendesk is never called inside a transaction.
 *
 * @example await createZendeskTicket(services, tenant, fromServiceNow(body), { deliveryKey: 'request:abc' })
 */
export async function createZendeskTicket(
  services: Services,
  tenant: Tenant,
  command: CreateTicket,
  options: CreateTicketOptions,
): Promise<TicketOutcome> {
  const tuning = services.zendesk ?? {}
  const zendesk = new ZendeskCalls(
    zendeskSettingsOf(services, tenant),
    { ...tuning, policy: services.outbound },
    performance.now() + positive(tuning.budgetMs, DEFAULT_BUDGET_MS),
  )
  const requesterId = await zendesk.run((client) => client.findUserIdByEmail(command.requesterEmail))
  if (requesterId === null) {
    throw new AppError('requester_not_found', {
      reason: `${command.requesterEmail} is not a Zendesk user (the address must match exactly, in any case)`,
    })
  }
  const input = ticketInput(command, requesterId)
  const job: Job = {
    services,
    tenant,
    command,
    options,
    zendesk,
    input,
    idempotencyKey: zendeskIdempotencyKey(tenant.id, options.deliveryKey, input),
  }
  if (command.dedupeKey === null) {
    const number = await zendesk.run((client) => client.createTicket(input, job.idempotencyKey))
    return recordNewTicket(job, number)
  }
  return createOrRepeat(job, command.dedupeKey)
}

/** Everything one webhook's ticket needs on its way through Zendesk and the database. */
interface Job {
  services: Services
  tenant: Tenant
  command: CreateTicket
  options: CreateTicketOptions
  zendesk: ZendeskCalls
  input: ZendeskTicketInput
  idempotencyKey: string
}

/**
 * The Idempotency-Key sent to Zendesk: the same for every retry and replay of one delivery with one
 * body, so Zendesk answers the ticket it already made instead of making another. The request itself
 * is part of it, so a caller reusing its X-Request-Id for a different incident still gets a new ticket.
 *
 * @example zendeskIdempotencyKey('ten_1', 'key:abc', input) // 'optimalcloud-3f2a…'
 */
export function zendeskIdempotencyKey(
  tenantId: string,
  deliveryKey: string,
  input: ZendeskTicketInput,
): string {
  return `optimalcloud-${sha256(JSON.stringify([tenantId, deliveryKey, input]))}`
}

function ticketInput(command: CreateTicket, requesterId: number): ZendeskTicketInput {
  return {
    subject: command.subject,
    body: command.firstComment,
    requesterId,
    priority: command.priority,
    ...(command.externalId === null ? {} : { externalId: command.externalId }),
    tags: ['optimalcloud', command.source],
  }
}

/**
 * ServiceNow: one Zendesk ticket per incident, however many calls arrive at once. The dedupe key is
 * claimed first (a ticket row without a number, in its own transaction); a racing call meets the
 * unique index and waits for the winner's number, then takes the repeat path.
 */
async function createOrRepeat(job: Job, dedupeKey: string): Promise<TicketOutcome> {
  const { services, tenant, zendesk } = job
  const pollMs = positive(services.zendesk?.pollMs, DEFAULT_POLL_MS)
  for (;;) {
    const existing = await findByDedupeKey(services.database.db, tenant.id, dedupeKey)
    if (existing !== undefined && existing.number !== null) {
      return repeat(job, existing, existing.number)
    }
    if (existing !== undefined) {
      if (Date.now() - Date.parse(existing.created_at) > STALE_CLAIM_MS) {
        await releaseClaim(services, existing.id)
        continue
      }
      if (zendesk.timeLeft() <= 0) throw stillCreating()
      await delay(pollMs)
      continue
    }
    const claimId = await claim(job)
    if (claimId !== null) return createClaimed(job, claimId)
    // Lost the race to a call that claimed the incident meanwhile: read its claim next.
    if (zendesk.timeLeft() <= 0) throw stillCreating()
  }
}

function stillCreating(): AppError {
  return new AppError('ticket_create_failed', {
    reason: 'Another call for the same incident is still creating its Zendesk ticket; try again',
  })
}

async function createClaimed(job: Job, claimId: string): Promise<TicketOutcome> {
  const { services, tenant, command, options, zendesk, input, idempotencyKey } = job
  try {
    const number = await zendesk.run((client) => client.createTicket(input, idempotencyKey))
    return await services.database.transaction(async (trx) => {
      await refuseTakenNumber(trx, tenant.id, number, null)
      const now = new Date().toISOString()
      const updated = await trx
        .updateTable('tickets')
        .set({ number, updated_at: now })
        .where('id', '=', claimId)
        .where('number', 'is', null)
        .executeTakeFirst()
      if (Number(updated.numUpdatedRows) !== 1) {
        throw new AppError('ticket_create_failed', {
          reason: `Zendesk created ticket ${number}, but this call's claim on the incident was given up meanwhile`,
        })
      }
      await addComment(trx, tenant.id, claimId, command.firstComment, now)
      await keepCounterAbove(trx, tenant.id, number)
      const outcome: TicketOutcome = { number, created: true }
      await options.inTransaction?.(trx, outcome)
      return outcome
    })
  } catch (error) {
    // A Zendesk ticket may exist already; a retry of this delivery gets it back from Zendesk by its key.
    await releaseClaim(services, claimId)
    throw error
  }
}

/** A repeat: the changed fields go to Zendesk as a comment first, then into the local copy. Nothing changed, no call. */
async function repeat(job: Job, existing: TicketTable, number: number): Promise<TicketOutcome> {
  const { services, command, options, zendesk } = job
  const lines = changedFieldLines(
    JSON.parse(existing.source_fields) as Record<string, unknown>,
    command.fields,
  )
  // A ticket made while the tenant used the built-in system lives only here.
  if (lines.length > 0 && existing.backend === 'zendesk') {
    await zendesk.run((client) => client.addComment(number, lines.join('\n')))
  }
  return services.database.transaction(async (trx) => {
    // The row read before the call, so the local comment is the very text sent to Zendesk.
    await recordRepeat(trx, existing, command.fields)
    const outcome: TicketOutcome = { number, created: false }
    await options.inTransaction?.(trx, outcome)
    return outcome
  })
}

/** A ticket without a dedupe key: the local copy is written once Zendesk has answered its id. */
function recordNewTicket(job: Job, number: number): Promise<TicketOutcome> {
  const { services, tenant, command, options } = job
  return services.database.transaction(async (trx) => {
    // A replay of the same delivery gets the same Zendesk ticket back: its copy is already here.
    const alreadyKept = await refuseTakenNumber(trx, tenant.id, number, command)
    if (!alreadyKept) {
      await insertTicketRow(trx, tenant.id, command, 'zendesk', number)
      await keepCounterAbove(trx, tenant.id, number)
    }
    const outcome: TicketOutcome = { number, created: true }
    await options.inTransaction?.(trx, outcome)
    return outcome
  })
}

/**
 * Ticket numbers are Zendesk's ids now, and may meet the numbers the built-in system (or another
 * Zendesk account) gave this tenant before. True when `number` is already this very ticket's copy.
 */
async function refuseTakenNumber(
  trx: Tx,
  tenantId: string,
  number: number,
  command: CreateTicket | null,
): Promise<boolean> {
  const taken = await trx
    .selectFrom('tickets')
    .select(['backend', 'subject', 'requester_email', 'source'])
    .where('tenant_id', '=', tenantId)
    .where('number', '=', number)
    .executeTakeFirst()
  if (taken === undefined) return false
  const same =
    command !== null &&
    taken.backend === 'zendesk' &&
    taken.subject === command.subject &&
    taken.requester_email === command.requesterEmail &&
    taken.source === command.source
  if (same) return true
  const owner = taken.backend === 'zendesk' ? 'an earlier Zendesk ticket' : `a ${taken.backend} ticket`
  throw new AppError('ticket_create_failed', {
    reason: `Zendesk created ticket ${number}, but ticket number ${number} of this tenant already belongs to ${owner}`,
  })
}

/**
 * Moves the built-in system's counter past a Zendesk number, so a tenant switched back to builtin
 * never hands out a number a Zendesk ticket holds. Writes (and locks) only when it has to move.
 */
async function keepCounterAbove(trx: Tx, tenantId: string, number: number): Promise<void> {
  await trx
    .updateTable('tenants')
    .set({ next_ticket_number: number + 1 })
    .where('id', '=', tenantId)
    .where('next_ticket_number', '<=', number)
    .execute()
}

/** Inserts the incident's ticket row without a number; null when another call holds the incident. */
async function claim({ services, tenant, command }: Job): Promise<string | null> {
  const row = ticketRow(tenant.id, command, 'zendesk', null)
  try {
    await services.database.transaction((trx) => trx.insertInto('tickets').values(row).execute())
    return row.id
  } catch (error) {
    if (isUniqueViolation(error)) return null
    throw error
  }
}

/** Drops a claim that never got its number; a claim that did is a ticket and stays. */
async function releaseClaim(services: Services, claimId: string): Promise<void> {
  try {
    await services.database.transaction((trx) =>
      trx.deleteFrom('tickets').where('id', '=', claimId).where('number', 'is', null).execute(),
    )
  } catch {
    // The caller's own failure is the one to report; a claim left behind goes stale and is taken over.
  }
}

/** The Zendesk calls of one webhook, sharing one deadline; a Zendesk failure becomes the contract's 400. */
class ZendeskCalls {
  constructor(
    private readonly settings: ZendeskSettings,
    private readonly tuning: ZendeskBackendOptions,
    private readonly deadline: number,
  ) {}

  timeLeft(): number {
    return this.deadline - performance.now()
  }

  async run<T>(call: (client: ZendeskClient) => Promise<T>): Promise<T> {
    const { budgetMs: _total, pollMs: _poll, ...clientOptions } = this.tuning
    if (this.timeLeft() < MIN_CALL_MS) {
      // A call squeezed into a few milliseconds could make the ticket yet time out: not started at all.
      throw new AppError('ticket_create_failed', {
        reason: "No time left for another Zendesk call within the webhook's 20 s budget",
      })
    }
    try {
      // Each call gets what is left of the webhook's budget, so the retries of all of them fit in it.
      const client = new ZendeskClient(this.settings, {
        ...clientOptions,
        budgetMs: Math.max(1, this.timeLeft()),
      })
      return await call(client)
    } catch (error) {
      if (error instanceof ZendeskError) throw ticketFailure(error)
      throw error
    }
  }
}

/** The caller reads the contract's message; the delivery log reads Zendesk's reason (never the token). */
function ticketFailure(error: ZendeskError): AppError {
  const reason =
    error.kind === 'auth'
      ? `Zendesk rejected the API token (${error.status ?? 401}): check the tenant's email and api_token settings. ${error.message}`
      : error.message
  return new AppError('ticket_create_failed', { reason, cause: error })
}

function positive(value: number | undefined, fallback: number): number {
  return value !== undefined && Number.isFinite(value) && value > 0 ? value : fallback
}

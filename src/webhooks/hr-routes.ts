/** The HR webhooks: adduser, modifyuser and deleteuser (and events) of a provisioning destination, for every HR vendor. */
import type { FastifyInstance, FastifyRequest } from 'fastify'
import qs from 'qs'
import type { Config } from '../config.js'
import { type ResolvedDestination, unsealSetting } from '../directory/destinations.js'
import {
  applyHrCommands,
  type HrCommandsOptions,
  type ProvisioningOutcome,
  type ProvisioningTarget,
  requireLinkedUser,
} from '../directory/provisioning.js'
import { describeChanges } from '../directory/user-changes.js'
import { AppError } from '../errors.js'
import { HR_ENDPOINTS, type HrEndpoint } from '../hr-vendors/hr-vendor.js'
import type { AdapterContext } from '../hr-vendors/index.js'
import { BODY_LIMIT } from '../http/body-limit.js'
import { parseJsonBody } from '../http/json-body.js'
import type { Services } from '../services.js'
import { requireStorable } from '../value-bounds.js'
import type { JsonObject } from './fields.js'
import { runWebhook, type WebhookAnswer, type WebhookCall, type WebhookResult } from './run-webhook.js'
import { signedSenders } from './signed-senders.js'
import { webhookCall } from './webhook-call.js'

/**
 * 201 for a new user; 200 for every other success, with the user as it now is. A call that reported
 * several employees answers `{"users":[...]}`, 201 when every one of them is new.
 */
function userAnswer(outcomes: ProvisioningOutcome[]): WebhookAnswer {
  const [only] = outcomes
  const held = outcomes.filter((outcome) => outcome.held !== undefined)
  if (only !== undefined && held.length > 0) {
    // A held termination changed nothing yet: 202, and the log says why and whom.
    const applied = outcomes.filter((outcome) => outcome.held === undefined)
    return {
      status: 202,
      body: applied.length === 0 ? { held: true } : { held: true, users: applied.map((o) => o.user) },
      userId: (held[0] ?? only).user.id,
      reason: held.map((o) => `${o.held} (user ${o.user.id})`).join('; '),
    }
  }
  const unchanged = outcomes.every((outcome) => !outcome.changed)
  return {
    status: outcomes.length > 0 && outcomes.every((outcome) => outcome.created) ? 201 : 200,
    body:
      outcomes.length === 1 && only !== undefined
        ? { user: only.user }
        : { users: outcomes.map((o) => o.user) },
    ...(only === undefined ? {} : { userId: only.user.id }),
    ...(unchanged ? { reason: 'nothing to change: the user was already as asked' } : {}),
  }
}

function targetOf(destination: ResolvedDestination): ProvisioningTarget {
  return {
    tenantId: destination.tenantId,
    destinationId: destination.id,
    loginId: destination.loginId,
    terminationLimit: destination.terminationLimit,
  }
}

/**
 * What a vendor's adapter may use: the destination's settings, its secrets unsealed on demand, and the
 * directory's "is this employee ours" lookup.
 *
 * @example const api = weblinkSettings(adapterContext(services, destination))
 */
export function adapterContext(
  services: { config: Config; database: Services['database']; outbound: Services['outbound'] },
  destination: ResolvedDestination,
): AdapterContext {
  return {
    settings: destination.settings,
    secret: (key) => unsealSetting(services.config, destination, key),
    ensureKnown: (ref) => requireLinkedUser(services.database.db, targetOf(destination), ref),
    outbound: services.outbound,
  }
}

/**
 * Runs one call for a destination: the vendor's adapter (which may call the vendor's API, outside any
 * transaction), then the domain change, whose transaction also writes `options`.
 */
export async function provision(
  services: Services,
  destination: ResolvedDestination,
  endpoint: HrEndpoint,
  body: JsonObject,
  options: HrCommandsOptions = {},
): Promise<ProvisioningOutcome[]> {
  const context = adapterContext(services, destination)
  // After the adapter's own checks (required fields in order, their types and lengths), and before
  // anything is read or written: the whole body must be storable (no NUL, no number out of range,
  // not nested too deeply), whatever the HR system. An adapter that looks the user up before calling
  // its vendor's API gets the check before that lookup.
  const adapted = await destination.vendor.adapt(endpoint, body, {
    ...context,
    ensureKnown: (ref) => {
      requireStorable(body)
      return context.ensureKnown(ref)
    },
  })
  requireStorable(body)
  const commands = Array.isArray(adapted) ? adapted : [adapted]
  return applyHrCommands(services.database, targetOf(destination), commands, options)
}

/**
 * One HR webhook call, from the body to the logged answer: what the route and a replay share.
 * Failures are thrown (the route's error handler, or the replay, answers and logs them).
 *
 * @example await runHrWebhook(services, call, destination, 'adduser')
 */
export function runHrWebhook(
  services: Services,
  call: WebhookCall,
  destination: ResolvedDestination,
  endpoint: HrEndpoint,
): Promise<WebhookResult> {
  if (destination.dryRun)
    return runWebhook(services.database, call, async () =>
      dryRunAnswer(await dryRun(services, destination, endpoint, call.body)),
    )
  return runWebhook(services.database, call, async (commit, deliveryId, attempt) =>
    userAnswer(
      await provision(services, destination, endpoint, call.body, {
        deliveryId,
        // Most adduser calls are new hires: the first attempt inserts without reading first.
        assumeNewEmployees: attempt === 0,
        inTransaction: (trx, outcome) => commit(trx, userAnswer(outcome)),
      }),
    ),
  )
}

/** Thrown inside a dry run's transaction so that everything it wrote is rolled back. */
class DryRunRollback extends Error {
  constructor(readonly outcomes: ProvisioningOutcome[]) {
    super('dry run: rolled back')
  }
}

/**
 * A call to a `mode=dry-run` destination: the same adapter, checks and domain change as a live call,
 * in a transaction that is then rolled back, so the answer is what a live call would answer and no
 * user changes. Nothing is kept for an Idempotency-Key either: the same key runs for real once live.
 */
async function dryRun(
  services: Services,
  destination: ResolvedDestination,
  endpoint: HrEndpoint,
  body: JsonObject,
): Promise<ProvisioningOutcome[]> {
  try {
    await provision(services, destination, endpoint, body, {
      inTransaction: async (_trx, outcomes) => {
        throw new DryRunRollback(outcomes)
      },
    })
  } catch (error) {
    if (error instanceof DryRunRollback) return error.outcomes
    throw error
  }
  throw new Error('a dry run committed: provision returned without rolling back')
}

/** The live answer plus `"dry_run":true`; the delivery log says what the call would have changed. */
function dryRunAnswer(outcomes: ProvisioningOutcome[]): WebhookAnswer {
  const live = userAnswer(outcomes)
  const would = outcomes.map((outcome) => {
    if (outcome.held !== undefined)
      return `would hold the termination of user ${outcome.user.id} (${outcome.held})`
    if (outcome.created) return `would create user ${outcome.user.email}: ${describeChanges(outcome.changes)}`
    if (!outcome.changed) return `would change nothing for user ${outcome.user.id}`
    return `would change user ${outcome.user.id}: ${describeChanges(outcome.changes)}`
  })
  const [only] = outcomes
  // A user the dry run would create does not exist: the log entry names none.
  const userId = only !== undefined && !only.created ? only.user.id : undefined
  const { userId: _liveUserId, ...rest } = live
  return {
    ...rest,
    body: { ...(live.body as object), dry_run: true },
    ...(userId === undefined ? {} : { userId }),
    reason: `dry run, nothing changed: ${would.join('; ')}`,
  }
}

export function isHrEndpoint(endpoint: string): endpoint is HrEndpoint {
  return (HR_ENDPOINTS as readonly string[]).includes(endpoint)
}

/** Form posts nest like `data[employeeId]`; limits keep a hostile body small and flat. */
const FORM_OPTIONS: qs.IParseOptions = {
  depth: 5,
  arrayLimit: 100,
  parameterLimit: 1000,
  allowPrototypes: false,
}

function isFormPost(request: FastifyRequest): boolean {
  return (request.headers['content-type'] ?? '').toLowerCase().startsWith('application/x-www-form-urlencoded')
}

export function hrRoutes(services: Services, authenticate: (request: FastifyRequest) => Promise<void>) {
  return async function register(app: FastifyInstance): Promise<void> {
    const found = new WeakMap<FastifyRequest, ResolvedDestination>()
    const signed = signedSenders(services)

    /** A signed call (BambooHR) is authenticated by its body; any other by its Authorization header. */
    async function authenticateHr(request: FastifyRequest): Promise<void> {
      const destination = await signed.claim(request)
      if (destination === null) return authenticate(request)
      request.destinationId = destination.id
      found.set(request, destination)
    }

    // Bodies are read as bytes here: a signature is checked on the exact bytes received, before parsing.
    app.removeAllContentTypeParsers()
    app.addContentTypeParser(
      '*',
      { parseAs: 'buffer', bodyLimit: BODY_LIMIT },
      async (request: FastifyRequest, raw: Buffer | string) => {
        const bytes = typeof raw === 'string' ? Buffer.from(raw) : raw
        await signed.verifyBody(request, bytes)
        const text = bytes.toString('utf8')
        if (found.get(request)?.vendor.forms === true && isFormPost(request))
          return qs.parse(text, FORM_OPTIONS)
        return parseJsonBody(request, text)
      },
    )
    // A call without a body never reaches the parser: its (empty) body is verified here.
    app.addHook('preValidation', async (request) => signed.verifyBody(request, null))

    /** After authentication: an unknown, disabled or other tenant's plugin_id is 404 whatever the body. */
    async function findDestination(request: FastifyRequest): Promise<void> {
      // A signed call found its destination to know the key its body is checked with.
      if (found.has(request)) return
      const tenant = request.tenant
      if (tenant === undefined) throw new AppError('unauthorized')
      const { pluginId } = request.params as { pluginId?: string }
      const destination = await services.destinations.findEnabled(tenant.id, pluginId ?? '')
      const endpoint = request.routeOptions.config.webhook
      // `events` is a URL only of vendors that post every event to one address.
      const served = endpoint !== 'events' || destination?.vendor.endpoints.includes('events') === true
      if (destination === null || !served) {
        throw new AppError('destination_not_found', {
          reason: `no enabled provisioning destination ${JSON.stringify((pluginId ?? '').slice(0, 80))} in this tenant`,
        })
      }
      request.destinationId = destination.id
      found.set(request, destination)
    }

    for (const endpoint of HR_ENDPOINTS) {
      app.post(
        `/provisioning/:pluginId/${endpoint}`,
        { config: { webhook: endpoint }, onRequest: [authenticateHr, findDestination] },
        async (request, reply) => {
          const destination = found.get(request)
          // findDestination guarantees it; reaching here without one is a wiring bug.
          if (destination === undefined) throw new AppError('destination_not_found')
          const answer = await runHrWebhook(services, webhookCall(request, endpoint), destination, endpoint)
          return reply.code(answer.status).send(answer.body)
        },
      )
    }
  }
}

/** The HR webhooks (SPEC §6): adduser, modifyuser and deleteuser of a provisioning destination. */
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { PaylocityClient } from '../connectors/paylocity-client.js'
import {
  type DestinationType,
  paylocityApiSettings,
  type ResolvedDestination,
} from '../directory/destinations.js'
import {
  type AddUser,
  addUser,
  type ModifyUser,
  modifyUser,
  type ProvisioningOptions,
  type ProvisioningOutcome,
  type ProvisioningTarget,
  requireLinkedUser,
  type TerminateUser,
  terminateUser,
} from '../directory/provisioning.js'
import { AppError } from '../errors.js'
import type { Services } from '../services.js'
import type { JsonObject } from './fields.js'
import { genericAddUser, genericModifyUser, genericTerminateUser } from './generic-hr-adapter.js'
import {
  type EmployeeChangeContext,
  paylocityAddUser,
  paylocityEmployeeChange,
  paylocityTerminateUser,
} from './paylocity-adapter.js'
import { runWebhook, type WebhookAnswer, type WebhookCall, type WebhookResult } from './run-webhook.js'
import { webhookCall } from './webhook-call.js'

export type HrOperation = 'adduser' | 'modifyuser' | 'deleteuser'

const PAYLOCITY_TIMEOUT_MS = 5000

/** One HR system's vendor bodies → domain commands. A new HR system is one more entry (and its adapter file). */
interface HrAdapter {
  add(body: JsonObject): AddUser
  modify(body: JsonObject, context: EmployeeChangeContext): ModifyUser | Promise<ModifyUser>
  terminate(body: JsonObject): TerminateUser
}

const adapters: Record<DestinationType, HrAdapter> = {
  'generic-hr': {
    add: (body) => genericAddUser(body),
    modify: (body) => genericModifyUser(body),
    terminate: (body) => genericTerminateUser(body),
  },
  paylocity: {
    add: paylocityAddUser,
    modify: paylocityEmployeeChange,
    terminate: paylocityTerminateUser,
  },
}

/** 201 for a new user; 200 for every other success, with the user as it now is. */
function userAnswer(outcome: ProvisioningOutcome): WebhookAnswer {
  return {
    status: outcome.created ? 201 : 200,
    body: { user: outcome.user },
    userId: outcome.user.id,
    ...(outcome.changed ? {} : { reason: 'nothing to change: the user was already as asked' }),
  }
}

/**
 * Runs one operation for a destination: adapter, then (for Paylocity Employee Change) the Weblink
 * fetch outside any transaction, then the domain change, whose transaction also writes `options`.
 */
export async function provision(
  services: Services,
  destination: ResolvedDestination,
  operation: HrOperation,
  body: JsonObject,
  options: ProvisioningOptions = {},
): Promise<ProvisioningOutcome> {
  const adapter = adapters[destination.type]
  const target: ProvisioningTarget = {
    tenantId: destination.tenantId,
    destinationId: destination.id,
    loginId: destination.loginId,
  }
  const { database } = services
  switch (operation) {
    case 'adduser':
      return addUser(database, target, adapter.add(body), options)
    case 'modifyuser': {
      const command = await adapter.modify(body, {
        api: destination.paylocity === null ? null : paylocityApiSettings(services.config, destination),
        ensureKnown: async (ref) => {
          await requireLinkedUser(database.db, target, ref)
        },
        // Two attempts each for the token and the employee must fit in the ~20 s a webhook sender waits.
        client: (settings) =>
          new PaylocityClient(settings, { timeoutMs: PAYLOCITY_TIMEOUT_MS, policy: services.outbound }),
      })
      return modifyUser(database, target, command, options)
    }
    case 'deleteuser':
      return terminateUser(database, target, adapter.terminate(body), options)
  }
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
  operation: HrOperation,
): Promise<WebhookResult> {
  return runWebhook(services.database, call, async (commit) =>
    userAnswer(
      await provision(services, destination, operation, call.body, {
        inTransaction: (trx, outcome) => commit(trx, userAnswer(outcome)),
      }),
    ),
  )
}

export function isHrOperation(endpoint: string): endpoint is HrOperation {
  return endpoint === 'adduser' || endpoint === 'modifyuser' || endpoint === 'deleteuser'
}

export function hrRoutes(services: Services, authenticate: (request: FastifyRequest) => Promise<void>) {
  return async function register(app: FastifyInstance): Promise<void> {
    const found = new WeakMap<FastifyRequest, ResolvedDestination>()

    /** After authentication: an unknown, disabled or other tenant's plugin_id is 404 whatever the body. */
    async function findDestination(request: FastifyRequest): Promise<void> {
      const tenant = request.tenant
      if (tenant === undefined) throw new AppError('unauthorized')
      const { pluginId } = request.params as { pluginId?: string }
      const destination = await services.destinations.findEnabled(tenant.id, pluginId ?? '')
      if (destination === null) {
        throw new AppError('destination_not_found', {
          reason: `no enabled provisioning destination ${JSON.stringify((pluginId ?? '').slice(0, 80))} in this tenant`,
        })
      }
      request.destinationId = destination.id
      found.set(request, destination)
    }

    for (const operation of ['adduser', 'modifyuser', 'deleteuser'] as const) {
      app.post(
        `/provisioning/:pluginId/${operation}`,
        { config: { webhook: operation }, onRequest: [authenticate, findDestination] },
        async (request, reply) => {
          const destination = found.get(request)
          // findDestination guarantees it; reaching here without one is a wiring bug.
          if (destination === undefined) throw new AppError('destination_not_found')
          const answer = await runHrWebhook(services, webhookCall(request, operation), destination, operation)
          return reply.code(answer.status).send(answer.body)
        },
      )
    }
  }
}

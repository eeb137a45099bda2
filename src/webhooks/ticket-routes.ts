/** The TICKETS webhooks: ServiceNow and Generic. */
import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { Services } from '../services.js'
import { createTicket } from '../support/support-system.js'
import type { CreateTicket, TicketOutcome } from '../support/tickets.js'
import type { JsonObject } from './fields.js'
import { runWebhook, type WebhookAnswer, type WebhookCall, type WebhookResult } from './run-webhook.js'
import { fromGenericTicket, fromServiceNow } from './ticket-adapters.js'
import { webhookCall } from './webhook-call.js'

/** The TICKETS webhooks by their name in the delivery log, each with its vendor adapter. */
const TICKET_ADAPTERS = {
  servicenow: fromServiceNow,
  createticket: fromGenericTicket,
} satisfies Record<string, (body: JsonObject) => CreateTicket>

export type TicketEndpoint = keyof typeof TICKET_ADAPTERS

export function isTicketEndpoint(endpoint: string): endpoint is TicketEndpoint {
  return Object.hasOwn(TICKET_ADAPTERS, endpoint)
}

/** 201 for a new ticket; 200 with the same number when a repeat found an earlier one. */
function ticketAnswer(outcome: TicketOutcome): WebhookAnswer {
  return {
    status: outcome.created ? 201 : 200,
    body: { ticket: outcome.number },
    ticketNumber: outcome.number,
  }
}

/**
 * What identifies one delivery to an external support system (its Idempotency-Key): the caller's
 * Idempotency-Key when it sent one, else the request id. A replay passes the original's, so Zendesk
 * answers the ticket an earlier attempt may have made instead of making another.
 *
 * @example deliveryKeyOf('req-1', null) // 'request:req-1'
 */
export function deliveryKeyOf(requestId: string, idempotencyKey: string | null): string {
  return idempotencyKey === null ? `request:${requestId}` : `key:${idempotencyKey}`
}

/**
 * One TICKETS webhook call, from the body to the logged answer: what the route and a replay share.
 * Failures are thrown (the route's error handler, or the replay, answers and logs them).
 *
 * @example await runTicketWebhook(services, call, 'createticket', deliveryKeyOf(call.requestId, null))
 */
export function runTicketWebhook(
  services: Services,
  call: WebhookCall,
  endpoint: TicketEndpoint,
  deliveryKey: string,
): Promise<WebhookResult> {
  const adapt = TICKET_ADAPTERS[endpoint]
  return runWebhook(services.database, call, async (commit) => {
    const outcome = await createTicket(services, call.tenant, adapt(call.body), {
      deliveryKey,
      inTransaction: (trx, result) => commit(trx, ticketAnswer(result)),
    })
    return ticketAnswer(outcome)
  })
}

export function ticketRoutes(services: Services, authenticate: (request: FastifyRequest) => Promise<void>) {
  return async function register(app: FastifyInstance): Promise<void> {
    const route = (path: string, endpoint: TicketEndpoint) =>
      app.post(path, { config: { webhook: endpoint }, onRequest: authenticate }, async (request, reply) => {
        const call = webhookCall(request, endpoint)
        const answer = await runTicketWebhook(
          services,
          call,
          endpoint,
          deliveryKeyOf(call.requestId, call.idempotencyKey),
        )
        return reply.code(answer.status).send(answer.body)
      })
    route('/helpdesk/servicenow', 'servicenow')
    route('/helpdesk/createticket', 'createticket')
  }
}

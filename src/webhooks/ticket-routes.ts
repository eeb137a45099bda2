/** The TICKETS webhooks (SPEC §5): ServiceNow and Generic. */
import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { Services } from '../services.js'
import { createTicket } from '../support/support-system.js'
import type { CreateTicket, TicketOutcome } from '../support/tickets.js'
import type { JsonObject } from './fields.js'
import { runWebhook, type WebhookAnswer } from './run-webhook.js'
import { fromGenericTicket, fromServiceNow } from './ticket-adapters.js'
import { webhookCall } from './webhook-call.js'

/** 201 for a new ticket; 200 with the same number when a repeat found an earlier one. */
function ticketAnswer(outcome: TicketOutcome): WebhookAnswer {
  return {
    status: outcome.created ? 201 : 200,
    body: { ticket: outcome.number },
    ticketNumber: outcome.number,
  }
}

export function ticketRoutes(services: Services, authenticate: (request: FastifyRequest) => Promise<void>) {
  return async function register(app: FastifyInstance): Promise<void> {
    const route = (path: string, endpoint: string, adapt: (body: JsonObject) => CreateTicket) =>
      app.post(path, { config: { webhook: endpoint }, onRequest: authenticate }, async (request, reply) => {
        const call = webhookCall(request, endpoint)
        const answer = await runWebhook(services.database, call, async (commit) => {
          const outcome = await createTicket(services, call.tenant, adapt(call.body), {
            deliveryKey:
              call.idempotencyKey === null ? `request:${call.requestId}` : `key:${call.idempotencyKey}`,
            inTransaction: (trx, result) => commit(trx, ticketAnswer(result)),
          })
          return ticketAnswer(outcome)
        })
        return reply.code(answer.status).send(answer.body)
      })
    route('/helpdesk/servicenow', 'servicenow', fromServiceNow)
    route('/helpdesk/createticket', 'createticket', fromGenericTicket)
  }
}

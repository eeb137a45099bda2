/** Management API: tickets of the tenant (as created by the TICKETS webhooks), with their comments. */

import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import type { FastifyInstance } from 'fastify'
import type { Services } from '../services.js'
import { getTicket, listTickets } from '../support/tickets.js'
import { MAX_TICKET_NUMBER } from '../value-bounds.js'
import { callerOf } from './guard.js'
import { errors, Limit, Nullable } from './schemas.js'

const tags = ['Tickets']

const TicketFields = {
  ticket: Type.Integer({ description: 'The ticket number' }),
  subject: Type.String(),
  priority: Type.String({ description: 'urgent, high, normal or low' }),
  requester_email: Type.String(),
  external_id: Nullable(Type.String({ description: "ServiceNow's sys_id (or number)" })),
  source: Type.String({ description: 'servicenow or generic' }),
  backend: Type.String({ description: 'builtin or zendesk' }),
  created_at: Type.String({ format: 'date-time' }),
  updated_at: Type.String({ format: 'date-time' }),
}

export const TicketSchema = Type.Object(TicketFields)

const TicketWithComments = Type.Object({
  ...TicketFields,
  comments: Type.Array(
    Type.Object({ body: Type.String(), created_at: Type.String({ format: 'date-time' }) }),
  ),
})

export function ticketRoutes(services: Services) {
  return async function register(app: FastifyInstance): Promise<void> {
    const api = app.withTypeProvider<TypeBoxTypeProvider>()

    api.get(
      '/tickets',
      {
        schema: {
          tags,
          operationId: 'listTickets',
          summary: 'List tickets, newest first (without comments)',
          querystring: Type.Object({ limit: Limit }, { additionalProperties: false }),
          response: { 200: Type.Array(TicketSchema), ...errors() },
        },
      },
      async (request) => listTickets(services.database.db, callerOf(request).tenant.id, request.query.limit),
    )

    api.get(
      '/tickets/:number',
      {
        schema: {
          tags,
          operationId: 'getTicket',
          summary: 'One ticket by number, with its comments in order',
          params: Type.Object({ number: Type.Integer({ minimum: 1, maximum: MAX_TICKET_NUMBER }) }),
          response: { 200: TicketWithComments, ...errors(404) },
        },
      },
      async (request) => getTicket(services.database.db, callerOf(request).tenant.id, request.params.number),
    )
  }
}

/** Management API: tickets of the tenant (as created by the TICKETS webhooks), with their comments. */

import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import type { FastifyInstance } from 'fastify'
import { readTimeRange } from '../lists/time-range.js'
import type { Services } from '../services.js'
import { getTicket, pageTickets } from '../support/tickets.js'
import { MAX_TICKET_NUMBER } from '../value-bounds.js'
import { callerOf } from './guard.js'
import { PagedArray, PageQuery, pageRequestOf, sendPage } from './paged.js'
import { errors, Nullable } from './schemas.js'
import { TimeRangeQuery } from './time-range-query.js'

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
          summary: 'List tickets, newest first (without comments), a page at a time',
          description:
            'Filters combine. The next page is in the `Link` header (absent on the last page); follow it as it is.',
          querystring: Type.Object(
            {
              source: Type.Optional(
                Type.Union([Type.Literal('servicenow'), Type.Literal('generic')], {
                  description: 'Only the tickets of this webhook',
                }),
              ),
              ...TimeRangeQuery,
              ...PageQuery,
            },
            { additionalProperties: false },
          ),
          response: { 200: PagedArray(TicketSchema), ...errors() },
        },
      },
      async (request, reply) => {
        const page = pageRequestOf(request.query)
        const found = await pageTickets(
          services.database.db,
          callerOf(request).tenant.id,
          { source: request.query.source, range: readTimeRange(request.query) },
          page,
        )
        return sendPage(request, reply, found, page.limit)
      },
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

/** Management API: the delivery log of webhook calls, and replay of failed deliveries. */

import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import type { FastifyInstance } from 'fastify'
import { listRefusedCalls } from '../auth/refused-calls.js'
import { pageDeliveries, readDelivery } from '../deliveries/deliveries.js'
import { viewDeliveries, viewDelivery } from '../deliveries/delivery-view.js'
import { AppError } from '../errors.js'
import { readTimeRange } from '../lists/time-range.js'
import type { Services } from '../services.js'
import { replayDelivery } from '../webhooks/replay.js'
import { callerOf } from './guard.js'
import { PagedArray, PageQuery, pageRequestOf, sendPage } from './paged.js'
import { changeErrors, DestinationFilter, errors, Nullable } from './schemas.js'
import { TimeRangeQuery } from './time-range-query.js'

const tags = ['Deliveries']

const DeliveryFields = {
  id: Type.String(),
  endpoint: Type.String({ description: 'servicenow, createticket, adduser, modifyuser or deleteuser' }),
  destination_id: Nullable(Type.String({ description: 'The provisioning destination (HR webhooks)' })),
  principal: Nullable(
    Type.String({
      description:
        'Who called: api_key:<id>, service_account:<id>, console_admin:<id> or signature:<destination>',
    }),
  ),
  caller: Nullable(
    Type.String({
      description:
        "Who called, by name: the API key's name, the service account's or administrator's email, or the destination's name for a signed call",
    }),
  ),
  destination_name: Nullable(
    Type.String({ description: "The provisioning destination's name (HR webhooks)" }),
  ),
  user_email: Nullable(Type.String({ description: "The affected user's email (HR webhooks)" })),
  status: Type.Integer({ description: 'The HTTP status answered' }),
  error: Nullable(Type.String({ description: 'The error message answered' })),
  reason: Nullable(Type.String({ description: 'Why, for the administrator' })),
  ticket: Nullable(Type.Integer()),
  user_id: Nullable(Type.String()),
  request_id: Type.String(),
  idempotency_key: Nullable(Type.String()),
  duration_ms: Type.Integer(),
  replay_of: Nullable(Type.String({ description: 'For a replay: the delivery it replayed' })),
  replayed_by: Nullable(
    Type.String({
      description: 'For a replayed delivery: its replay that succeeded, else its latest replay',
    }),
  ),
  outcome: Type.Union([Type.Literal('succeeded'), Type.Literal('failed'), Type.Literal('replayed')], {
    description: 'succeeded (answered 2xx), failed, or replayed (failed, and a replay of it succeeded)',
  }),
  body_note: Nullable(
    Type.String({
      description:
        'Set when the stored body is not the body as received (nested too deeply, numbers out of range) or there is none (not JSON, over 1 MiB): what was left out',
    }),
  ),
  created_at: Type.String({ format: 'date-time' }),
}

export const DeliverySchema = Type.Object(DeliveryFields)

const DeliveryWithBody = Type.Object({
  ...DeliveryFields,
  request_body: Type.Unknown({
    description:
      'The JSON body received (never its headers), with the value of every field whose name looks like a secret (password, secret, token, api_key, authorization, ...) at any depth shown as `********`; null if unread',
  }),
})

const ReplaySchema = Type.Object({
  delivery: DeliverySchema,
  status: Type.Integer({ description: 'What the webhook answered this time' }),
  body: Type.Unknown({ description: "The webhook's answer body" }),
})

const IdParams = Type.Object({ id: Type.String() })

const RefusedCountSchema = Type.Object({
  hour: Type.String({ format: 'date-time', description: 'The start of the hour (UTC)' }),
  endpoint: Type.String({ description: 'servicenow, createticket, adduser, modifyuser or deleteuser' }),
  count: Type.Integer({ description: 'Calls answered 401 for bad or missing credentials in that hour' }),
})

export function deliveryRoutes(services: Services) {
  return async function register(app: FastifyInstance): Promise<void> {
    const api = app.withTypeProvider<TypeBoxTypeProvider>()

    api.get(
      '/deliveries',
      {
        schema: {
          tags,
          operationId: 'listDeliveries',
          summary: 'Webhook calls, newest first, a page at a time',
          description:
            'Filters combine. The next page is in the `Link` header (absent on the last page); follow it as it is.',
          querystring: Type.Object(
            {
              outcome: Type.Optional(
                Type.Union([Type.Literal('succeeded'), Type.Literal('failed')], {
                  description: 'succeeded: answered 2xx; failed: anything else (replayed ones included)',
                }),
              ),
              failed: Type.Optional(Type.Boolean({ description: 'true: the same as outcome=failed' })),
              endpoint: Type.Optional(
                Type.String({
                  maxLength: 40,
                  description: 'servicenow, createticket, adduser, modifyuser or deleteuser',
                }),
              ),
              destination: DestinationFilter("Only this provisioning destination's calls (plugin_id)"),
              ...TimeRangeQuery,
              ...PageQuery,
            },
            { additionalProperties: false },
          ),
          response: { 200: PagedArray(DeliverySchema), ...errors() },
        },
      },
      async (request, reply) => {
        const tenantId = callerOf(request).tenant.id
        const { outcome, failed, endpoint, destination } = request.query
        if (failed === true && outcome === 'succeeded')
          throw new AppError('bad_request', { message: 'Give failed=true or outcome=succeeded, not both' })
        const page = pageRequestOf(request.query)
        const found = await pageDeliveries(
          services.database.db,
          tenantId,
          {
            outcome: failed === true ? 'failed' : outcome,
            endpoint,
            destinationId: destination,
            range: readTimeRange(request.query),
          },
          page,
        )
        const items = await viewDeliveries(services.database.db, tenantId, found.items)
        return sendPage(request, reply, { ...found, items }, page.limit)
      },
    )

    api.get(
      '/deliveries/refused',
      {
        schema: {
          tags,
          operationId: 'listRefusedCalls',
          summary: 'Webhook calls refused for bad credentials, counted per hour and endpoint, newest first',
          description:
            'Calls without valid credentials are not written to the delivery log (anyone can send them); ' +
            'they are counted here instead, within about a second. Counts are kept 30 days.',
          querystring: Type.Object(
            {
              hours: Type.Optional(
                Type.Integer({
                  minimum: 1,
                  maximum: 720,
                  description: 'How many hours back, the current one included (default 24)',
                }),
              ),
            },
            { additionalProperties: false },
          ),
          response: { 200: Type.Array(RefusedCountSchema), ...errors() },
        },
      },
      async (request) =>
        listRefusedCalls(services.database.db, callerOf(request).tenant.id, request.query.hours ?? 24),
    )

    api.get(
      '/deliveries/:id',
      {
        schema: {
          tags,
          operationId: 'getDelivery',
          summary: 'One delivery with the request body it received (secret-looking fields masked)',
          params: IdParams,
          response: { 200: DeliveryWithBody, ...errors(404) },
        },
      },
      async (request) => {
        const tenantId = callerOf(request).tenant.id
        const found = await readDelivery(services.database.db, tenantId, request.params.id)
        if (found === null) throw new AppError('not_found', { message: 'Delivery not found' })
        return {
          ...(await viewDelivery(services.database.db, tenantId, found)),
          request_body: found.request_body,
        }
      },
    )

    api.post(
      '/deliveries/:id/replay',
      {
        schema: {
          tags,
          operationId: 'replayDelivery',
          summary: 'Run a failed delivery again (same tenant, destination and body) as this key',
          description:
            'Answers 201 with the new delivery (its replay_of names the original) and what the webhook answered this time, success or not.',
          params: IdParams,
          response: { 201: ReplaySchema, ...changeErrors(404) },
        },
      },
      async (request, reply) => {
        const { tenant, principal } = callerOf(request)
        const result = await replayDelivery(
          services,
          { tenant, principal, requestId: request.id, startedAt: request.startedAt, log: request.log },
          request.params.id,
        )
        const delivery = await viewDelivery(services.database.db, tenant.id, result.delivery)
        return reply.code(201).send({ ...result, delivery })
      },
    )
  }
}

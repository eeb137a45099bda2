/** Management API: terminations held by the mass-termination safeguard, and their approval or rejection. */

import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import type { FastifyInstance } from 'fastify'
import { principalName } from '../auth/authenticator.js'
import { decideHeldChanges, listHeldChanges } from '../directory/held-changes.js'
import type { Services } from '../services.js'
import { callerOf } from './guard.js'
import { PAGED_DESCRIPTION, PagedArray, PageQuery, pageRequestOf, sendPage } from './paged.js'
import { changeErrors, DestinationFilter, errors, Nullable } from './schemas.js'

const tags = ['Held changes']

export const HeldChangeSchema = Type.Object({
  id: Type.String(),
  plugin_id: Type.String({ description: 'The destination whose deleteuser was held' }),
  destination_name: Type.String(),
  employee_id: Type.String(),
  company_id: Type.String({ description: "'' when the HR system has no companies" }),
  user_id: Type.String(),
  email: Nullable(Type.String()),
  delivery_id: Nullable(Type.String({ description: 'The delivery-log entry of the held call' })),
  reason: Type.String(),
  created_at: Type.String({ format: 'date-time' }),
})

const PluginParams = Type.Object({ pluginId: Type.String() })

export function holdRoutes(services: Services) {
  return async function register(app: FastifyInstance): Promise<void> {
    const api = app.withTypeProvider<TypeBoxTypeProvider>()

    api.get(
      '/holds',
      {
        schema: {
          tags,
          operationId: 'listHolds',
          summary: 'Terminations held by the mass-termination safeguard, oldest first',
          description: `A destination's deleteuser beyond its termination_limit per rolling hour (or while it has held changes) changes nothing, answers 202 {"held":true} and is listed here until approved or rejected. ${PAGED_DESCRIPTION}`,
          querystring: Type.Object(
            {
              destination: DestinationFilter(
                "Only this provisioning destination's held changes (plugin_id): what approving or rejecting it decides",
              ),
              ...PageQuery,
            },
            { additionalProperties: false },
          ),
          response: { 200: PagedArray(HeldChangeSchema), ...errors() },
        },
      },
      async (request, reply) => {
        const pageRequest = pageRequestOf(request.query)
        const page = await listHeldChanges(
          services.database.db,
          callerOf(request).tenant.id,
          pageRequest,
          request.query.destination,
        )
        return sendPage(request, reply, page, pageRequest.limit)
      },
    )

    for (const decision of ['approve', 'reject'] as const) {
      api.post(
        `/destinations/:pluginId/holds/${decision}`,
        {
          schema: {
            tags,
            operationId: decision === 'approve' ? 'approveHolds' : 'rejectHolds',
            summary:
              decision === 'approve'
                ? 'Apply every held termination of the destination, oldest first: {"applied":N}'
                : 'Drop every held termination of the destination, changing no user: {"rejected":N}',
            params: PluginParams,
            response: {
              200:
                decision === 'approve'
                  ? Type.Object({ applied: Type.Integer() })
                  : Type.Object({ rejected: Type.Integer() }),
              ...changeErrors(404),
            },
          },
        },
        async (request) => {
          const { tenant, principal } = callerOf(request)
          return decideHeldChanges(
            services,
            tenant.id,
            request.params.pluginId,
            decision,
            principalName(principal),
          )
        },
      )
    }
  }
}

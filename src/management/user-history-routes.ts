/** Management API: a user's history (every change, who made it, before → after). */

import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import type { FastifyInstance } from 'fastify'
import { listUserHistory } from '../directory/user-history.js'
import type { Services } from '../services.js'
import { callerOf } from './guard.js'
import { PAGED_DESCRIPTION, PagedArray, PageQuery, pageRequestOf, sendPage } from './paged.js'
import { errors, Nullable } from './schemas.js'

const tags = ['Users']

const Value = Nullable(Type.Union([Type.String(), Type.Number()]))

export const UserHistorySchema = Type.Object({
  id: Type.String(),
  user_id: Type.String(),
  action: Type.String({
    description: 'created, updated, terminated, reactivated, enabled, disabled or password_changed',
  }),
  actor: Type.String({
    description:
      'destination:<plugin_id> (an HR webhook; see delivery_id), api_key:<id>, console_admin:<user id>, cli or system',
  }),
  actor_name: Nullable(
    Type.String({
      description: "The actor by name: the destination's name, the API key's name, the administrator's email",
    }),
  ),
  delivery_id: Nullable(
    Type.String({ description: 'The delivery-log entry of the HR call that made the change' }),
  ),
  changes: Type.Record(Type.String(), Type.Object({ before: Value, after: Value }), {
    description: 'Each field that changed, before → after (a password change names no value)',
  }),
  created_at: Type.String({ format: 'date-time' }),
})

export function userHistoryRoutes(services: Services) {
  return async function register(app: FastifyInstance): Promise<void> {
    const api = app.withTypeProvider<TypeBoxTypeProvider>()
    api.get(
      '/users/:id/history',
      {
        schema: {
          tags,
          operationId: 'getUserHistory',
          summary:
            "A user's history, oldest first: every change with its time, actor and fields before → after",
          description: PAGED_DESCRIPTION,
          params: Type.Object({ id: Type.String() }),
          querystring: Type.Object(PageQuery, { additionalProperties: false }),
          response: { 200: PagedArray(UserHistorySchema), ...errors(404) },
        },
      },
      async (request, reply) => {
        const pageRequest = pageRequestOf(request.query)
        const page = await listUserHistory(
          services.database.db,
          callerOf(request).tenant.id,
          request.params.id,
          pageRequest,
        )
        return sendPage(request, reply, page, pageRequest.limit)
      },
    )
  }
}

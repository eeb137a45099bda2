/** Management API: support accounts (requesters), who may open tickets in the built-in support system. */

import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import type { FastifyInstance } from 'fastify'
import type { Services } from '../services.js'
import { addRequester, pageRequesters } from '../support/requesters.js'
import { MAX_FIELD_LENGTH } from '../value-bounds.js'
import { callerOf } from './guard.js'
import { PagedArray, PageQuery, pageRequestOf, sendPage } from './paged.js'
import { changeErrors, errors, Nullable } from './schemas.js'

const tags = ['Requesters']

export const RequesterSchema = Type.Object({
  email: Type.String(),
  name: Nullable(Type.String()),
  created_at: Type.String({ format: 'date-time' }),
})

const NewRequesterBody = Type.Object(
  {
    email: Type.String({ description: 'Compared without case when a ticket arrives' }),
    // The length is checked by addRequester (a maxLength inside a union would answer "must be a string or null").
    name: Type.Optional(
      Nullable(Type.String({ description: `Full name, at most ${MAX_FIELD_LENGTH} characters` })),
    ),
  },
  { additionalProperties: false },
)

export function requesterRoutes(services: Services) {
  return async function register(app: FastifyInstance): Promise<void> {
    const api = app.withTypeProvider<TypeBoxTypeProvider>()

    api.get(
      '/requesters',
      {
        schema: {
          tags,
          operationId: 'listRequesters',
          summary: 'List support accounts by email, a page at a time (next page in the `Link` header)',
          querystring: Type.Object({ ...PageQuery }, { additionalProperties: false }),
          response: { 200: PagedArray(RequesterSchema), ...errors() },
        },
      },
      async (request, reply) => {
        const page = pageRequestOf(request.query)
        const found = await pageRequesters(services.database.db, callerOf(request).tenant.id, page)
        return sendPage(request, reply, found, page.limit)
      },
    )

    api.post(
      '/requesters',
      {
        schema: {
          tags,
          operationId: 'addRequester',
          summary: 'Add a support account (adding an existing email again updates its name)',
          body: NewRequesterBody,
          response: { 201: RequesterSchema, ...changeErrors() },
        },
      },
      async (request, reply) => {
        const { email, name } = request.body
        const saved = await addRequester(services.database, callerOf(request).tenant.id, email, name ?? null)
        return reply.code(201).send(saved)
      },
    )
  }
}

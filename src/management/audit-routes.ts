/** Management API: the audit log of administrators' changes and sign-ins. Read only: there is no route that changes it. */

import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import type { FastifyInstance } from 'fastify'
import { listAudit } from '../audit/audit-log.js'
import type { Services } from '../services.js'
import { callerOf } from './guard.js'
import { PAGED_DESCRIPTION, PagedArray, PageQuery, pageRequestOf, sendPage } from './paged.js'
import { errors, Nullable } from './schemas.js'

const tags = ['Audit log']

export const AuditEntrySchema = Type.Object({
  id: Type.String(),
  actor: Type.String({
    description: 'api_key:<id>, console_admin:<user id>, cli, or anonymous (a failed sign-in)',
  }),
  actor_name: Nullable(
    Type.String({ description: "The actor by name: the API key's name, the administrator's email" }),
  ),
  action: Type.String({
    description:
      'The management API operation it was (createApiKey, updateDestination, approveHolds, …), or signIn, signInFailed, signOut',
  }),
  target: Nullable(Type.String({ description: 'What it acted on: an id, a plugin_id, an email' })),
  details: Type.Unknown({ description: 'What was asked, every secret-looking field reading ********' }),
  client_address: Nullable(Type.String({ description: 'The client address (for the CLI: user@host)' })),
  request_id: Nullable(Type.String()),
  created_at: Type.String({ format: 'date-time' }),
})

export function auditRoutes(services: Services) {
  return async function register(app: FastifyInstance): Promise<void> {
    const api = app.withTypeProvider<TypeBoxTypeProvider>()
    api.get(
      '/audit',
      {
        schema: {
          tags,
          operationId: 'listAudit',
          summary: "The audit log, newest first: every administrator's change and every console sign-in",
          description: `Append-only: nothing in the product changes or deletes an entry. ${PAGED_DESCRIPTION}`,
          querystring: Type.Object(PageQuery, { additionalProperties: false }),
          response: { 200: PagedArray(AuditEntrySchema), ...errors() },
        },
      },
      async (request, reply) => {
        const pageRequest = pageRequestOf(request.query)
        const page = await listAudit(services.database.db, callerOf(request).tenant.id, pageRequest)
        return sendPage(request, reply, page, pageRequest.limit)
      },
    )
  }
}

/** Management API: the API Key Manager (list, create, revoke). */

import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import type { FastifyInstance } from 'fastify'
import { createApiKey, MAX_KEY_NAME, pageApiKeys, parseDuration, revokeApiKey } from '../auth/api-keys.js'
import type { Services } from '../services.js'
import { callerOf } from './guard.js'
import { PagedArray, PageQuery, pageRequestOf, sendPage } from './paged.js'
import { changeErrors, errors, Nullable } from './schemas.js'

const tags = ['API keys']

/** A key as listed: never the key itself, nor its hash. */
export const ApiKeySchema = Type.Object({
  id: Type.String(),
  name: Type.String(),
  prefix: Type.String({ description: 'The first characters of the key, to recognise it' }),
  management: Type.Boolean({ description: 'The Management API option (webhooks and this API need it)' }),
  created_at: Type.String({ format: 'date-time' }),
  expires_at: Nullable(Type.String({ format: 'date-time' })),
  revoked_at: Nullable(Type.String({ format: 'date-time' })),
})

const CreatedApiKey = Type.Object({
  ...ApiKeySchema.properties,
  key: Type.String({ description: 'The key: shown this once, stored only as a SHA-256 hash' }),
})

const NewApiKeyBody = Type.Object(
  {
    name: Type.String({ description: 'What the key is for, e.g. servicenow', maxLength: MAX_KEY_NAME }),
    management: Type.Optional(
      Type.Boolean({ description: 'The Management API option; default false', default: false }),
    ),
    expires_in: Type.Optional(
      Type.String({ description: 'A lifetime such as 90d, 12h, 30m or 45s, from 1s to 3650d (ten years)' }),
    ),
  },
  { additionalProperties: false },
)

const IdParams = Type.Object({ id: Type.String() })
const Revoked = Type.Object({ id: Type.String(), revoked: Type.Literal(true) })

export function apiKeyRoutes(services: Services) {
  return async function register(app: FastifyInstance): Promise<void> {
    const api = app.withTypeProvider<TypeBoxTypeProvider>()

    api.get(
      '/apikeys',
      {
        schema: {
          tags,
          operationId: 'listApiKeys',
          summary: 'List API keys, oldest first, a page at a time (next page in the `Link` header)',
          querystring: Type.Object({ ...PageQuery }, { additionalProperties: false }),
          response: { 200: PagedArray(ApiKeySchema), ...errors() },
        },
      },
      async (request, reply) => {
        const page = pageRequestOf(request.query)
        const found = await pageApiKeys(services.database.db, callerOf(request).tenant.id, page)
        return sendPage(request, reply, found, page.limit)
      },
    )

    api.post(
      '/apikeys',
      {
        schema: {
          tags,
          operationId: 'createApiKey',
          summary: 'Create an API key (the key is in this answer only)',
          body: NewApiKeyBody,
          response: { 201: CreatedApiKey, ...changeErrors() },
        },
      },
      async (request, reply) => {
        const { name, management, expires_in } = request.body
        const expiresInMs = expires_in === undefined ? null : parseDuration(expires_in)
        const created = await createApiKey(services.database, callerOf(request).tenant.id, {
          name,
          management: management === true,
          expiresInMs,
        })
        return reply.code(201).send(created)
      },
    )

    const revoke = async (tenantId: string, id: string) => {
      const revoked = await revokeApiKey(services.database, tenantId, id)
      // This instance stops accepting the key at once; others within the recheck time.
      services.authenticator.forget()
      return { id: revoked.id, revoked: true as const }
    }
    const revokeSchema = (operationId: string) => ({
      tags,
      operationId,
      summary: 'Revoke an API key (it stops working at once here, within seconds everywhere)',
      params: IdParams,
      response: { 200: Revoked, ...changeErrors(404) },
    })
    api.post('/apikeys/:id/revoke', { schema: revokeSchema('revokeApiKey') }, async (request) =>
      revoke(callerOf(request).tenant.id, request.params.id),
    )
    api.delete('/apikeys/:id', { schema: revokeSchema('deleteApiKey') }, async (request) =>
      revoke(callerOf(request).tenant.id, request.params.id),
    )
  }
}

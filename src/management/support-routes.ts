/** Management API: the tenant's support system (builtin or Zendesk); the Zendesk token is never shown. */

import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import type { FastifyInstance } from 'fastify'
import type { Services } from '../services.js'
import { configureSupport, supportView } from '../support/support-settings.js'
import { callerOf } from './guard.js'
import { changeErrors, errors } from './schemas.js'

const tags = ['Support']

const Backend = Type.Union([Type.Literal('builtin'), Type.Literal('zendesk')])

export const SupportSchema = Type.Object({
  backend: Backend,
  url: Type.Optional(Type.String({ description: 'Zendesk only' })),
  email: Type.Optional(Type.String({ description: 'Zendesk only' })),
  api_token: Type.Optional(Type.String({ description: 'Zendesk only: `********` (set, never shown)' })),
})

const SupportBody = Type.Object(
  {
    backend: Backend,
    settings: Type.Optional(
      Type.Record(Type.String(), Type.String(), {
        description:
          'zendesk: url, email, api_token (merged over the stored ones; a new url needs the token again). builtin: none',
      }),
    ),
  },
  { additionalProperties: false },
)

export function supportRoutes(services: Services) {
  return async function register(app: FastifyInstance): Promise<void> {
    const api = app.withTypeProvider<TypeBoxTypeProvider>()

    api.get(
      '/support',
      {
        schema: {
          tags,
          operationId: 'getSupport',
          summary: "The tenant's support system",
          response: { 200: SupportSchema, ...errors() },
        },
      },
      async (request) => supportView(callerOf(request).tenant),
    )

    api.put(
      '/support',
      {
        schema: {
          tags,
          operationId: 'configureSupport',
          summary: 'Use the built-in support system or Zendesk',
          body: SupportBody,
          response: { 200: SupportSchema, ...changeErrors() },
        },
      },
      async (request) =>
        configureSupport(
          services,
          callerOf(request).tenant,
          request.body.backend,
          request.body.settings ?? {},
        ),
    )
  }
}

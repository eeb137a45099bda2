/** The Management REST API and its OpenAPI document, generated from the routes' TypeBox schemas. */

import swagger from '@fastify/swagger'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { auditChanges, MANAGEMENT_NAMING } from '../audit/audit-hook.js'
import { readBodiesAsJson } from '../http/json-body.js'
import type { Services } from '../services.js'
import { apiKeyRoutes } from './api-key-routes.js'
import { auditRoutes } from './audit-routes.js'
import { deliveryRoutes } from './delivery-routes.js'
import { destinationRoutes } from './destination-routes.js'
import { authenticateAdministrator } from './guard.js'
import { holdRoutes } from './hold-routes.js'
import { requesterRoutes } from './requester-routes.js'
import { supportRoutes } from './support-routes.js'
import { ticketRoutes } from './ticket-routes.js'
import { userHistoryRoutes } from './user-history-routes.js'
import { userRoutes } from './user-routes.js'
import { schemaErrorFormatter, validatorCompiler } from './validation.js'

/** One plugin per resource; each takes the services and registers its routes. */
const RESOURCES = [
  apiKeyRoutes,
  userRoutes,
  requesterRoutes,
  destinationRoutes,
  supportRoutes,
  ticketRoutes,
  deliveryRoutes,
  holdRoutes,
  userHistoryRoutes,
  auditRoutes,
]

/**
 * Registers, under the prefix it is given, `GET /openapi.json` (no credentials needed) and every
 * management route, each behind the webhooks' authenticate hook and a Management API key check.
 * The OpenAPI document sees only the routes of this plugin: the webhooks are documented in docs/.
 *
 * @example await app.register(managementApi(services, authenticate), { prefix: '/v5.0/mgmt/api/v1.0' })
 */
export function managementApi(services: Services, authenticate: (request: FastifyRequest) => Promise<void>) {
  return async function register(app: FastifyInstance): Promise<void> {
    await app.register(swagger, { openapi: openapiBase() })
    app.get('/openapi.json', { schema: { hide: true } }, async (request) => ({
      ...app.swagger(),
      // The address the document was fetched from, so "try it" tools call the tenant the reader is on.
      servers: [{ url: `${request.protocol}://${request.host}`, description: 'This address' }],
    }))

    await app.register(async function secured(api: FastifyInstance): Promise<void> {
      // Schemas are checked only here: the webhooks validate their bodies by hand, with exact messages.
      api.setValidatorCompiler(validatorCompiler)
      api.setSchemaErrorFormatter(schemaErrorFormatter)
      readEmptyBodyAsNone(api)
      api.addHook('onRequest', authenticateAdministrator(services, authenticate))
      api.addHook('onSend', auditChanges(services, MANAGEMENT_NAMING))
      for (const resource of RESOURCES) await api.register(resource(services))
    })
  }
}

/**
 * Like the service's parser (everything is JSON), except that an empty body is no body: actions such
 * as `POST …/revoke` take none, and clients often send `Content-Type: application/json` anyway.
 * A route that needs a body then answers `Request body must be a JSON object`.
 */
function readEmptyBodyAsNone(api: FastifyInstance): void {
  readBodiesAsJson(api, { emptyIsNone: true })
}

function openapiBase() {
  return {
    openapi: '3.0.3',
    info: {
      title: 'OptimalCloud Management API',
      version: '1.0',
      description:
        'Administer one tenant: API keys, users and service accounts, provisioning destinations, support ' +
        'accounts and system, tickets, and the delivery log with replay. The tenant is the first label of ' +
        'the host. Every call needs an API key of that tenant made with the Management API option, sent in ' +
        '`Authorization` in any of three forms (`Bearer <key>`, `ApiKey <key>`, the bare key), or a signed-in ' +
        "administrator's console session.",
    },
    components: {
      securitySchemes: {
        managementKey: {
          type: 'http' as const,
          scheme: 'bearer',
          description: 'An API key with the Management API option: `Authorization: Bearer <key>`',
        },
        managementKeyApiKeyPrefix: {
          type: 'apiKey' as const,
          in: 'header' as const,
          name: 'Authorization',
          description: 'The same key as `Authorization: ApiKey <key>`',
        },
        managementKeyBare: {
          type: 'apiKey' as const,
          in: 'header' as const,
          name: 'Authorization',
          description: 'The same key alone: `Authorization: <key>`',
        },
        consoleSession: {
          type: 'apiKey' as const,
          in: 'cookie' as const,
          name: 'oc_session',
          description:
            "A signed-in administrator's console session; any call but a read also needs the session's CSRF token in `X-CSRF-Token`",
        },
      },
    },
    security: [
      { managementKey: [] },
      { managementKeyApiKeyPrefix: [] },
      { managementKeyBare: [] },
      { consoleSession: [] },
    ] as Array<Record<string, string[]>>,
  }
}

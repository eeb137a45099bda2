/** Every Management API route, and a way to call them, for the tests that must hold on all of them. */
import assert from 'node:assert/strict'
import type { FastifyInstance, InjectOptions } from 'fastify'
// A CommonJS module: its class is the `default` of what ESM imports.
import ResponseValidators from 'openapi-response-validator'
import { createApiKey } from '../../src/auth/api-keys.js'
import { createDestination, updateDestination } from '../../src/directory/destinations.js'
import { changeUserStatus } from '../../src/directory/user-status.js'
import { createUser } from '../../src/directory/users.js'
import type { Services } from '../../src/services.js'
import { post, SERVICE_PASSWORD, type SeededTenant, TICKETS } from './test-app.js'

export const MGMT = '/v5.0/mgmt/api/v1.0'

/** What the answer checks read of the Management API's OpenAPI document (`GET /openapi.json`). */
export interface OpenApiOperations {
  components: unknown
  paths: Record<string, Record<string, { responses: Record<string, unknown> }>>
}

/** `route`'s operation in `document`; fails the test when the document leaves it out. */
export function documentedOperation(document: OpenApiOperations, route: ManagementRoute) {
  const operation = document.paths[`${MGMT}${route.route}`]?.[route.method.toLowerCase()]
  assert.ok(operation !== undefined, `${route.method} ${route.route} is not in the document`)
  return operation
}

/**
 * What is wrong with `route` answering `status` with `body` (parsed JSON, or undefined for none), by its
 * OpenAPI document, as openapi-response-validator reads it: undefined when nothing is.
 */
export function answerProblems(
  document: OpenApiOperations,
  route: ManagementRoute,
  status: number,
  body: unknown,
): unknown {
  const validator = new ResponseValidators.default({
    responses: documentedOperation(document, route).responses as never,
    components: document.components as never,
  })
  return validator.validateResponse(status, body)
}

export type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE'

/** Calls a management path as a tenant; `auth` is the whole Authorization header. */
export function mgmt(
  app: FastifyInstance,
  method: Method,
  path: string,
  options: {
    host: string
    auth?: string
    body?: unknown
    raw?: string
    headers?: Record<string, string>
    remoteAddress?: string
  },
) {
  const payload = options.raw ?? (options.body === undefined ? undefined : JSON.stringify(options.body))
  const headers: Record<string, string> = {
    host: options.host,
    ...(payload === undefined ? {} : { 'content-type': 'application/json' }),
    ...options.headers,
  }
  if (options.auth !== undefined) headers.authorization = options.auth
  const request: InjectOptions = {
    method,
    url: `${MGMT}${path}`,
    headers,
    ...(payload === undefined ? {} : { payload }),
    ...(options.remoteAddress === undefined ? {} : { remoteAddress: options.remoteAddress }),
  }
  return app.inject(request)
}

/** A management call as the tenant's own Management API key, parsed. */
export async function as<T = unknown>(
  app: FastifyInstance,
  tenant: SeededTenant,
  method: Method,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: T; raw: string }> {
  const res = await mgmt(app, method, path, {
    host: tenant.host,
    auth: `Bearer ${tenant.key}`,
    ...(body === undefined ? {} : { body }),
  })
  return { status: res.statusCode, body: res.json() as T, raw: res.body }
}

export interface ManagementRoute {
  method: Method
  /** The route as the OpenAPI document names it, e.g. `/users/{id}` (after the prefix). */
  route: string
  /** Makes what the route needs in `tenant` and returns the concrete path and a body that succeeds. */
  prepare(
    services: Services,
    app: FastifyInstance,
    tenant: SeededTenant,
  ): Promise<{ path: string; body?: unknown }>
}

let counter = 0
/** A name no other call of this process got. */
function unique(prefix: string): string {
  counter += 1
  return `${prefix}${counter}`
}

async function someUser(services: Services, tenant: SeededTenant, serviceAccount = false) {
  return createUser(services.database, tenant.tenant.id, {
    email: `${unique('user')}@${tenant.tenant.name}.example.com`,
    ...(serviceAccount ? { serviceAccount: true, password: SERVICE_PASSWORD } : {}),
  })
}

/** A failed createticket delivery (unknown requester) of the tenant; returns its id. */
export async function failedTicketDelivery(
  services: Services,
  app: FastifyInstance,
  tenant: SeededTenant,
): Promise<string> {
  const requestId = unique('failed-')
  const res = await post(app, `${TICKETS}/createticket`, {
    host: tenant.host,
    auth: `Bearer ${tenant.key}`,
    headers: { 'x-request-id': requestId },
    body: { title: 'T', description: 'D', requester_email: 'nobody@example.com' },
  })
  if (res.statusCode !== 400) throw new Error(`expected a failed delivery, got ${res.statusCode}`)
  const row = await services.database.db
    .selectFrom('deliveries')
    .select('id')
    .where('tenant_id', '=', tenant.tenant.id)
    .where('request_id', '=', requestId)
    .executeTakeFirstOrThrow()
  return row.id
}

/**
 * Every management route. The security tests run against each, and a test checks this list against
 * the OpenAPI document, so a new route without an entry here fails the suite.
 */
export const MANAGEMENT_ROUTES: ManagementRoute[] = [
  { method: 'GET', route: '/apikeys', prepare: async () => ({ path: '/apikeys' }) },
  {
    method: 'POST',
    route: '/apikeys',
    prepare: async () => ({ path: '/apikeys', body: { name: unique('key'), management: true } }),
  },
  ...(['POST', 'DELETE'] as const).map((method) => ({
    method,
    route: method === 'POST' ? '/apikeys/{id}/revoke' : '/apikeys/{id}',
    prepare: async (services: Services, _app: FastifyInstance, tenant: SeededTenant) => {
      const key = await createApiKey(services.database, tenant.tenant.id, {
        name: unique('doomed'),
        management: false,
        expiresInMs: null,
      })
      return { path: method === 'POST' ? `/apikeys/${key.id}/revoke` : `/apikeys/${key.id}` }
    },
  })),
  { method: 'GET', route: '/users', prepare: async () => ({ path: '/users' }) },
  {
    method: 'GET',
    route: '/users/{id}',
    prepare: async (services, _app, tenant) => ({ path: `/users/${(await someUser(services, tenant)).id}` }),
  },
  {
    method: 'POST',
    route: '/users',
    prepare: async (_services, _app, tenant) => ({
      path: '/users',
      body: { email: `${unique('new')}@${tenant.tenant.name}.example.com` },
    }),
  },
  {
    method: 'PUT',
    route: '/users/{id}/password',
    prepare: async (services, _app, tenant) => ({
      path: `/users/${(await someUser(services, tenant, true)).id}/password`,
      body: { password: 'another long password' },
    }),
  },
  ...(['disable', 'enable'] as const).map((action) => ({
    method: 'POST' as const,
    route: `/users/{id}/${action}`,
    prepare: async (services: Services, _app: FastifyInstance, tenant: SeededTenant) => ({
      path: `/users/${(await someUser(services, tenant)).id}/${action}`,
    }),
  })),
  { method: 'GET', route: '/requesters', prepare: async () => ({ path: '/requesters' }) },
  {
    method: 'POST',
    route: '/requesters',
    prepare: async () => ({ path: '/requesters', body: { email: `${unique('req')}@example.com` } }),
  },
  { method: 'GET', route: '/destinations', prepare: async () => ({ path: '/destinations' }) },
  {
    method: 'POST',
    route: '/destinations',
    prepare: async () => ({ path: '/destinations', body: { type: 'generic-hr', name: unique('HR ') } }),
  },
  ...(['GET', 'PATCH'] as const).map((method) => ({
    method,
    route: '/destinations/{pluginId}',
    prepare: async (services: Services, _app: FastifyInstance, tenant: SeededTenant) => {
      const destination = await createDestination(services, tenant.tenant, { type: 'generic-hr', name: 'HR' })
      return {
        path: `/destinations/${destination.plugin_id}`,
        ...(method === 'PATCH' ? { body: { name: unique('Renamed ') } } : {}),
      }
    },
  })),
  ...(['enable', 'disable'] as const).map((action) => ({
    method: 'POST' as const,
    route: `/destinations/{pluginId}/${action}`,
    prepare: async (services: Services, _app: FastifyInstance, tenant: SeededTenant) => {
      const destination = await createDestination(services, tenant.tenant, { type: 'generic-hr', name: 'HR' })
      return { path: `/destinations/${destination.plugin_id}/${action}` }
    },
  })),
  { method: 'GET', route: '/support', prepare: async () => ({ path: '/support' }) },
  {
    method: 'PUT',
    route: '/support',
    prepare: async () => ({ path: '/support', body: { backend: 'builtin' } }),
  },
  { method: 'GET', route: '/tickets', prepare: async () => ({ path: '/tickets' }) },
  {
    method: 'GET',
    route: '/tickets/{number}',
    prepare: async (_services, app, tenant) => {
      const res = await post(app, `${TICKETS}/createticket`, {
        host: tenant.host,
        auth: `Bearer ${tenant.key}`,
        body: { title: 'T', description: 'D', requester_email: tenant.requester },
      })
      const { ticket } = res.json() as { ticket: number }
      return { path: `/tickets/${ticket}` }
    },
  },
  {
    method: 'DELETE',
    route: '/destinations/{pluginId}',
    prepare: async (services, _app, tenant) => {
      const destination = await createDestination(services, tenant.tenant, {
        type: 'generic-hr',
        name: 'Old HR',
      })
      await updateDestination(services, tenant.tenant, destination.plugin_id, { enabled: false })
      return { path: `/destinations/${destination.plugin_id}` }
    },
  },
  {
    method: 'DELETE',
    route: '/users/{id}',
    prepare: async (services, _app, tenant) => {
      const account = await someUser(services, tenant, true)
      await changeUserStatus(services, tenant.tenant.id, account.id, 'disable', { actor: 'test' })
      return { path: `/users/${account.id}` }
    },
  },
  { method: 'GET', route: '/deliveries', prepare: async () => ({ path: '/deliveries' }) },
  { method: 'GET', route: '/deliveries/refused', prepare: async () => ({ path: '/deliveries/refused' }) },
  {
    method: 'GET',
    route: '/deliveries/{id}',
    prepare: async (services, app, tenant) => ({
      path: `/deliveries/${await failedTicketDelivery(services, app, tenant)}`,
    }),
  },
  {
    method: 'POST',
    route: '/deliveries/{id}/replay',
    prepare: async (services, app, tenant) => ({
      path: `/deliveries/${await failedTicketDelivery(services, app, tenant)}/replay`,
    }),
  },
]

MANAGEMENT_ROUTES.push(
  {
    method: 'GET',
    route: '/users/{id}/history',
    prepare: async (services, _app, tenant) => ({
      path: `/users/${(await someUser(services, tenant)).id}/history`,
    }),
  },
  { method: 'GET', route: '/holds', prepare: async () => ({ path: '/holds' }) },
  { method: 'GET', route: '/audit', prepare: async () => ({ path: '/audit' }) },
  ...(['approve', 'reject'] as const).map((decision) => ({
    method: 'POST' as const,
    route: `/destinations/{pluginId}/holds/${decision}`,
    prepare: async (services: Services, _app: FastifyInstance, tenant: SeededTenant) => {
      const destination = await createDestination(services, tenant.tenant, { type: 'generic-hr', name: 'HR' })
      return { path: `/destinations/${destination.plugin_id}/holds/${decision}` }
    },
  })),
)

const TENANT_TABLES = [
  'api_keys',
  'users',
  'requesters',
  'destinations',
  'tickets',
  'ticket_comments',
  'deliveries',
  'idempotency_keys',
  'held_changes',
  'hr_terminations',
  'user_history',
  'audit_log',
] as const

/**
 * Everything a tenant holds, as one comparable string: equal before and after a call means the call
 * changed nothing (and wrote nothing to the delivery log).
 *
 * @example assert.equal(await tenantSnapshot(services, id), before)
 */
export async function tenantSnapshot(services: Services, tenantId: string): Promise<string> {
  const { db } = services.database
  const parts: unknown[] = [
    await db.selectFrom('tenants').selectAll().where('id', '=', tenantId).executeTakeFirst(),
  ]
  for (const table of TENANT_TABLES) {
    const rows = await db.selectFrom(table).selectAll().where('tenant_id', '=', tenantId).execute()
    parts.push(rows.map((row) => JSON.stringify(row)).sort())
  }
  return JSON.stringify(parts)
}

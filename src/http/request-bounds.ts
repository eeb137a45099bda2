/** The hook that bounds what every route receives in its path, query string and (outside the webhooks) body. */
import type { FastifyInstance } from 'fastify'
import { requireStorable } from '../value-bounds.js'

/**
 * Before any handler (after authentication, which runs in onRequest): path parameters, query
 * strings and the bodies of the Management API and the console (JSON or form fields) must be
 * storable: no NUL character (PostgreSQL refuses it even in a lookup), no number out of range, no
 * nesting deeper than 32 levels. The webhooks check their bodies themselves, after their required
 * fields, so that the contract's messages keep their order (see webhooks/ticket-adapters.ts and
 * webhooks/hr-routes.ts). A route that checks credentials in its handler (console sign-in) answers a
 * body it cannot use as a failed sign-in, before authentication as everywhere.
 *
 * @example registerRequestBounds(app) // GET /users?email=%00 → 400 query parameter email must not contain NUL characters
 */
export function registerRequestBounds(app: FastifyInstance): void {
  app.addHook('preValidation', async (request) => {
    requireStorable(request.params, 'params')
    requireStorable(request.query, 'query')
    const { webhook, checksCredentials } = request.routeOptions.config
    if (webhook === undefined && checksCredentials !== true) requireStorable(request.body, 'body')
  })
}

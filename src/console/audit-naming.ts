/** How the console's changes are named in the audit log: the same names as the management API's operations. */
import type { AuditNaming } from '../audit/audit-hook.js'

/** Each console form (route) and the management API operation it is the same change as. */
const ACTIONS: Record<string, string> = {
  '/console/administration/api-keys': 'createApiKey',
  '/console/administration/api-keys/:id/revoke': 'revokeApiKey',
  '/console/administration/provisioning': 'createDestination',
  '/console/administration/provisioning/:pluginId': 'updateDestination',
  '/console/administration/provisioning/:pluginId/enable': 'enableDestination',
  '/console/administration/provisioning/:pluginId/disable': 'disableDestination',
  '/console/users': 'createUser',
  '/console/users/:id/disable': 'disableUser',
  '/console/users/:id/enable': 'enableUser',
  '/console/users/:id/password': 'setUserPassword',
  '/console/users/:id/delete': 'deleteServiceAccount',
  '/console/administration/api-keys/:id/delete': 'deleteRevokedApiKey',
  '/console/administration/provisioning/:id/delete': 'deleteDestination',
  '/console/support/settings': 'configureSupport',
  '/console/support/requesters': 'addRequester',
  '/console/activity/:id/replay': 'replayDelivery',
  '/console/holds/:pluginId/approve': 'approveHolds',
  '/console/holds/:pluginId/reject': 'rejectHolds',
  '/console/logout': 'signOut',
}

/**
 * A console form that succeeded answered a page (200) or a redirect (303); its failures answer 4xx.
 * Sign-in is audited by the sign-in route itself (it knows who tried, and failures count too).
 */
export const CONSOLE_NAMING: AuditNaming = {
  action: (request) => {
    const route = request.routeOptions.url ?? ''
    if (route === '/console/login') return null
    return ACTIONS[route] ?? `console ${route}`
  },
  actor: (request) => {
    const session = request.consoleSession
    return session === null ? null : { tenantId: session.tenant.id, actor: `console_admin:${session.userId}` }
  },
  succeeded: (reply) => reply.statusCode < 400,
}

/** Every webhook route, for the tests that must hold on all of them (authentication first of all). */
import { createDestination } from '../../src/directory/destinations.js'
import type { Services } from '../../src/services.js'
import { type SeededTenant, TICKETS } from './test-app.js'

/** The HR webhooks' prefix: `${PROVISIONING}/{plugin_id}/adduser|modifyuser|deleteuser`. */
export const PROVISIONING = '/v5.0/mgmt/api/v1.0/webhooks/provisioning'

export interface WebhookRoute {
  /** The route's name in the delivery log and in test titles. */
  name: string
  /**
   * The path to POST to as `tenant`; may create what the route needs first (an HR route makes a
   * provisioning destination and returns `.../webhooks/provisioning/{plugin_id}/adduser`).
   */
  path(services: Services, tenant: SeededTenant): Promise<string>
}

/**
 * Append the HR routes (adduser, modifyuser, deleteuser of a provisioning destination) here: the
 * shared authentication tests in test/auth/webhook-auth.test.ts then run against them too.
 */
export const WEBHOOK_ROUTES: WebhookRoute[] = [
  { name: 'servicenow', path: async () => `${TICKETS}/servicenow` },
  { name: 'createticket', path: async () => `${TICKETS}/createticket` },
  ...(['adduser', 'modifyuser', 'deleteuser'] as const).map((operation) => ({
    name: operation,
    path: async (services: Services, tenant: SeededTenant) => {
      const destination = await createDestination(services, tenant.tenant, { type: 'generic-hr', name: 'HR' })
      return `${PROVISIONING}/${destination.plugin_id}/${operation}`
    },
  })),
]

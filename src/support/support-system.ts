/** The tenant's support system: the built-in one, or Zendesk. */
import type { Services } from '../services.js'
import type { Tenant } from '../tenancy/tenants.js'
import {
  type CreateTicket,
  createBuiltinTicket,
  type TicketOutcome,
  type TicketWriteOptions,
} from './tickets.js'
import { createZendeskTicket } from './zendesk-tickets.js'

export interface CreateTicketOptions extends TicketWriteOptions {
  /** Stable across retries and replays of one delivery: external systems get it as their idempotency key. */
  deliveryKey: string
}

/**
 * Creates (or, for a repeat, comments on) a ticket in the tenant's support system.
 *
 * @example await createTicket(services, tenant, fromGenericTicket(body), { deliveryKey: requestId })
 */
export async function createTicket(
  services: Services,
  tenant: Tenant,
  command: CreateTicket,
  options: CreateTicketOptions,
): Promise<TicketOutcome> {
  if (tenant.supportBackend === 'zendesk') return createZendeskTicket(services, tenant, command, options)
  return createBuiltinTicket(services.database, tenant.id, command, options)
}

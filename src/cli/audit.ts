/** The CLI's changes in the tenant's audit log: actor `cli`, and the account and machine that ran it as the client. */
import { hostname, userInfo } from 'node:os'
import { recordAudit } from '../audit/audit-log.js'
import type { Services } from '../services.js'

/** `user@host` of the process: the CLI has no client address, this is who ran it. */
function runBy(): string {
  try {
    return `${userInfo().username}@${hostname()}`
  } catch {
    return hostname()
  }
}

/**
 * Records one change the CLI made (after it committed); `details` has its secret-looking fields masked.
 *
 * @example await auditCli(services, tenant.id, 'revokeApiKey', keyId)
 */
export async function auditCli(
  services: Services,
  tenantId: string,
  action: string,
  target: string | null,
  details?: unknown,
): Promise<void> {
  await services.database.transaction((trx) =>
    recordAudit(trx, {
      tenantId,
      actor: 'cli',
      action,
      target,
      details,
      clientAddress: runBy(),
      requestId: null,
    }),
  )
}

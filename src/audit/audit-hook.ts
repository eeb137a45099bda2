/**
 * Records every change made through the management API or the console in the audit log: an `onSend`
 * hook, so it runs for every route (a new one is audited without an edit) once the answer is known
 * and before it leaves. Reads change nothing and are not recorded; neither are refused changes.
 */
import type { FastifyReply, FastifyRequest } from 'fastify'
import { principalName } from '../auth/authenticator.js'
import type { Services } from '../services.js'
import { recordAudit } from './audit-log.js'

declare module 'fastify' {
  interface FastifyRequest {
    /** What a change acted on, when neither its path nor its JSON answer names it (a console form that creates). */
    auditTarget?: string
  }
}

const READS = new Set(['GET', 'HEAD', 'OPTIONS'])

/** How a change is named and who made it, for one surface. */
export interface AuditNaming {
  /** The action's name (null: not an administrator's change, e.g. the console's sign-in, audited by itself). */
  action(request: FastifyRequest): string | null
  /** Who made it, or null when nobody is signed in (then nothing is recorded here). */
  actor(request: FastifyRequest): { tenantId: string; actor: string } | null
  /** Whether the answer says the change went through. */
  succeeded(reply: FastifyReply): boolean
}

/** The management API: actions are the OpenAPI operation ids, the actor is the key or the console session. */
export const MANAGEMENT_NAMING: AuditNaming = {
  action: (request) => {
    const schema = request.routeOptions.schema as { operationId?: unknown } | undefined
    return typeof schema?.operationId === 'string' ? schema.operationId : null
  },
  actor: (request) =>
    request.tenant === undefined || request.principal === undefined
      ? null
      : { tenantId: request.tenant.id, actor: principalName(request.principal) },
  succeeded: (reply) => reply.statusCode >= 200 && reply.statusCode < 300,
}

/**
 * The hook: for a change that succeeded, one entry with the action, the target (the id in the path,
 * or the id of what was created), what was asked (secrets masked), the client address and request id.
 * The change is already committed: an entry that cannot be written is logged loudly, and the answer
 * still says what happened.
 */
export function auditChanges(services: Services, naming: AuditNaming) {
  return async function auditChange(request: FastifyRequest, reply: FastifyReply, payload: unknown) {
    if (READS.has(request.method) || !naming.succeeded(reply)) return payload
    const action = naming.action(request)
    const who = naming.actor(request)
    if (action === null || who === null) return payload
    try {
      await services.database.transaction((trx) =>
        recordAudit(trx, {
          tenantId: who.tenantId,
          actor: who.actor,
          action,
          target: targetOf(request, reply, payload),
          details: detailsOf(request.body),
          clientAddress: request.ip,
          requestId: request.id,
        }),
      )
    } catch (error) {
      request.log.error({ err: error, action }, 'audit entry not written')
    }
    return payload
  }
}

/** The id in the path, else what the handler named, else the id (or plugin_id) of what the answer shows or leads to. */
function targetOf(request: FastifyRequest, reply: FastifyReply, payload: unknown): string | null {
  const params = (request.params ?? {}) as Record<string, unknown>
  for (const key of ['id', 'pluginId', 'number']) {
    const value = params[key]
    if (typeof value === 'string' || typeof value === 'number') return String(value)
  }
  if (request.auditTarget !== undefined) return request.auditTarget
  const location = reply.getHeader('location')
  // A console form that created something leads to its page: /console/…/<id>?created=1
  if (typeof location === 'string' && location.includes('created='))
    return location.split('?')[0]?.split('/').at(-1) ?? null
  if (typeof payload !== 'string' || !payload.startsWith('{')) return null
  try {
    const body = JSON.parse(payload) as Record<string, unknown>
    for (const key of ['plugin_id', 'id', 'email', 'backend']) {
      const value = body[key]
      if (typeof value === 'string') return value
    }
  } catch {
    // Not JSON: no target to name.
  }
  return null
}

/** What was asked, without the console's CSRF token (masking of secrets happens in recordAudit). */
function detailsOf(body: unknown): unknown {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return null
  const { _csrf: _token, ...rest } = body as Record<string, unknown>
  return rest
}

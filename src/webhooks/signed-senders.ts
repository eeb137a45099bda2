/**
 * HR systems that sign each call instead of sending an `Authorization` header (BambooHR): the call is
 * taken aside before the header check, and authenticated once its raw body has been read, before
 * that body is parsed.
 */
import type { FastifyRequest } from 'fastify'
import { type ResolvedDestination, unsealSetting } from '../directory/destinations.js'
import { refuse } from '../http/authenticate.js'
import type { Services } from '../services.js'
import { tenantOfHost } from '../tenancy/host.js'
import type { Tenant } from '../tenancy/tenants.js'

interface PendingSignature {
  tenant: Tenant
  destination: ResolvedDestination
  secret: string
  checked: boolean
}

/**
 * @example
 * const signed = signedSenders(services)
 * // onRequest: const destination = await signed.claim(request); if (destination === null) await authenticate(request)
 * // body parser: await signed.verifyBody(request, rawBytes); preValidation: await signed.verifyBody(request, null)
 */
export function signedSenders(services: Services) {
  const pending = new WeakMap<FastifyRequest, PendingSignature>()
  return {
    /**
     * The destination, when the request is a signed call (no `Authorization`, the vendor's signature
     * headers) to an enabled destination of a signing vendor that has its secret set: its body decides.
     * Null for anything else, which is left to the `Authorization` check (and then fails with the
     * uniform 401). Until its body is verified, the request has no tenant: a refusal logs nothing.
     */
    async claim(request: FastifyRequest): Promise<ResolvedDestination | null> {
      if (request.headers.authorization !== undefined) return null
      if (services.failures.isBlocked(request.ip)) throw refuse(services, request, 'rate_limited')
      const tenant = await tenantOfHost(services, request.headers.host)
      if (tenant === null) return null
      const { pluginId } = request.params as { pluginId?: string }
      const destination = await services.destinations.findEnabled(tenant.id, pluginId ?? '')
      const authentication = destination?.vendor.authentication
      if (destination == null || authentication?.kind !== 'signature') return null
      if (!authentication.isSigned(request.headers)) return null
      let secret: string | null
      try {
        secret = unsealSetting(services.config, destination, authentication.secretSetting)
      } catch {
        // Sealed under another OPTIMALCLOUD_SECRET_KEY: no call can be verified until it is set again.
        secret = null
      }
      if (secret === null) return null
      pending.set(request, { tenant, destination, secret, checked: false })
      return destination
    },

    /**
     * Checks the signature of a claimed call on the exact bytes received (`null`: the call had no body),
     * under the same failure limits as any credential check (a slot taken first, given back when it
     * holds). A bad or stale one is the uniform 401, counted like any refusal; it runs once a request.
     */
    async verifyBody(request: FastifyRequest, rawBody: Buffer | null): Promise<void> {
      const call = pending.get(request)
      if (call === undefined || call.checked) return
      call.checked = true
      const { tenant, destination, secret } = call
      const slot = await services.failures.reserve(request.ip)
      if (slot === null) throw refuse(services, request, 'rate_limited')
      const { authentication } = destination.vendor
      const valid =
        authentication.kind === 'signature' &&
        authentication.verify(rawBody ?? Buffer.alloc(0), request.headers, secret, new Date())
      if (!valid) {
        await slot.failed()
        const endpoint = request.routeOptions.config.webhook
        if (endpoint !== undefined) services.refusedCalls.record(tenant.id, endpoint)
        throw refuse(services, request, 'bad_credentials')
      }
      await slot.succeeded()
      request.tenant = tenant
      request.principal = { kind: 'signature', id: destination.id, tenantId: destination.tenantId }
    },
  }
}

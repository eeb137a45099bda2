/**
 * HR systems that sign each call instead of sending an `Authorization` header (BambooHR): the call is
 * taken aside before the header check, and authenticated once its raw body has been read, before
 * that body is parsed.
 */
import type { FastifyRequest } from 'fastify'
import { type ResolvedDestination, unsealSetting } from '../directory/destinations.js'
import { AppError } from '../errors.js'
import type { Services } from '../services.js'
import { tenantOfHost } from '../tenancy/host.js'

interface PendingSignature {
  destination: ResolvedDestination
  secret: string
  checked: boolean
}

/**
 * @example
 * const signed = signedSenders(services)
 * // onRequest: if (!(await signed.claim(request))) await authenticate(request)
 * // body parser: signed.verifyBody(request, rawBytes); preValidation: signed.verifyBody(request, null)
 */
export function signedSenders(services: Services) {
  const pending = new WeakMap<FastifyRequest, PendingSignature>()
  return {
    /**
     * True when the request is a signed call (no `Authorization`, the vendor's signature headers) to an
     * enabled destination of a signing vendor that has its secret set: its body decides. Anything
     * else is left to the `Authorization` check, which then fails with the uniform 401.
     */
    async claim(request: FastifyRequest): Promise<boolean> {
      if (request.headers.authorization !== undefined) return false
      if (services.failures.isBlocked(request.ip)) throw new AppError('rate_limited')
      const tenant = await tenantOfHost(services, request.headers.host)
      if (tenant === null) return false
      const { pluginId } = request.params as { pluginId?: string }
      const destination = await services.destinations.findEnabled(tenant.id, pluginId ?? '')
      const authentication = destination?.vendor.authentication
      if (destination == null || authentication?.kind !== 'signature') return false
      if (!authentication.isSigned(request.headers)) return false
      let secret: string | null
      try {
        secret = unsealSetting(services.config, destination, authentication.secretSetting)
      } catch {
        // Sealed under another OPTIMALCLOUD_SECRET_KEY: no call can be verified until it is set again.
        secret = null
      }
      if (secret === null) return false
      request.tenant = tenant
      pending.set(request, { destination, secret, checked: false })
      return true
    },

    /**
     * Checks the signature of a claimed call on the exact bytes received (`null`: the call had no body);
     * a bad or stale one is the uniform 401 and counts as a failed authentication. Runs once a request.
     */
    verifyBody(request: FastifyRequest, rawBody: Buffer | null): void {
      const call = pending.get(request)
      if (call === undefined || call.checked) return
      call.checked = true
      const { destination, secret } = call
      const { authentication } = destination.vendor
      const valid =
        authentication.kind === 'signature' &&
        authentication.verify(rawBody ?? Buffer.alloc(0), request.headers, secret, new Date())
      if (!valid) {
        services.failures.recordFailure(request.ip)
        throw new AppError('unauthorized', { reason: 'bad or stale signature' })
      }
      request.principal = { kind: 'signature', id: destination.id, tenantId: destination.tenantId }
    },
  }
}

/** Which tenant a request is for, read from its Host header. */
import type { Config } from '../config.js'
import { TENANT_NAME_PATTERN, type Tenant, type TenantDirectory } from './tenants.js'

/**
 * `acme.localhost:8080` → `acme` when the base domain is `localhost`; otherwise the default tenant.
 *
 * @example tenantNameFromHost('acme.example.com', 'example.com', null) // 'acme'
 */
export function tenantNameFromHost(
  host: string | undefined,
  baseDomain: string,
  defaultTenant: string | null,
): string | null {
  if (host !== undefined) {
    const hostname = stripPort(host.trim().toLowerCase())
    // Host names have no case; a base domain given by flag or config may have some.
    const suffix = `.${baseDomain.toLowerCase()}`
    if (hostname.endsWith(suffix)) {
      const label = hostname.slice(0, -suffix.length)
      if (TENANT_NAME_PATTERN.test(label)) return label
    }
  }
  return defaultTenant
}

/**
 * The tenant a request's Host names (or the default tenant), or null when it names none that exists.
 * Webhooks, the Management API and the console all find their tenant here.
 *
 * @example const tenant = await tenantOfHost(services, request.headers.host)
 */
export async function tenantOfHost(
  services: { config: Pick<Config, 'baseDomain' | 'defaultTenant'>; tenants: TenantDirectory },
  host: string | undefined,
): Promise<Tenant | null> {
  const name = tenantNameFromHost(host, services.config.baseDomain, services.config.defaultTenant)
  return name === null ? null : services.tenants.findByName(name)
}

function stripPort(host: string): string {
  if (host.startsWith('[')) return host // an IPv6 literal is never a tenant host
  const colon = host.lastIndexOf(':')
  return colon === -1 ? host : host.slice(0, colon)
}

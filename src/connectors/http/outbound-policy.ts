/** The outbound URL policy: connectors call only https URLs of public hosts, checked when saved and when connecting. */
import { lookup } from 'node:dns/promises'
import { isIP } from 'node:net'
import ipaddr from 'ipaddr.js'
import { AppError } from '../../errors.js'

/** One address a host name resolves to. */
export interface ResolvedAddress {
  address: string
  family: 4 | 6
}

/** Every address of a host name; rejects (like `dns.lookup`) when it has none. */
export type Resolver = (hostname: string) => Promise<ResolvedAddress[]>

/**
 * What a connector may call. Production builds it from `OPTIMALCLOUD_ALLOW_PRIVATE_CONNECTORS` alone;
 * tests replace the resolver (names like `evil.example.test` without touching /etc/hosts), the
 * address predicate (so a local fake can stand for a public host while the check still runs) and
 * the trusted certificates (a local https fake).
 */
export interface OutboundPolicy {
  /** Plain http and private addresses allowed: local development and tests only. */
  readonly allowPrivate: boolean
  readonly resolve: Resolver
  /** Whether a connection to this IP address may be made (after resolution, at every connect). */
  readonly isAllowedAddress: (address: string) => boolean
  /** PEM certificates trusted instead of the system's (tests with a local https fake); unset in production. */
  readonly ca?: string | undefined
  /** How long a save waits for DNS before accepting the name (default 3000 ms). */
  readonly saveLookupTimeoutMs: number
}

export interface OutboundPolicyOptions {
  allowPrivate?: boolean
  resolve?: Resolver
  isAllowedAddress?: (address: string) => boolean
  ca?: string
  saveLookupTimeoutMs?: number
}

// A save waits this long for DNS at most: the check is advisory there (the call-time check is the
// one that holds), and a slow resolver must not turn a settings form into a hang.
const DEFAULT_SAVE_LOOKUP_TIMEOUT_MS = 3000

// 2000::/3 is the only IPv6 space that is routed on the internet; everything outside it (the
// deprecated IPv4-compatible ::a.b.c.d, discard, site-local...) is refused unless named below.
const GLOBAL_UNICAST = ipaddr.IPv6.parseCIDR('2000::/3')
// The well-known NAT64 prefix carries an IPv4 address in its last 32 bits (RFC 6052); the
// local-use prefix 64:ff9b:1::/48 (RFC 8215) may embed it anywhere, so it is not decoded.
const NAT64_WELL_KNOWN = ipaddr.IPv6.parseCIDR('64:ff9b::/96')

/**
 * The policy an operator's setting gives: strict by default.
 *
 * @example const policy = outboundPolicy({ allowPrivate: config.allowPrivateConnectors })
 */
export function outboundPolicy(options: OutboundPolicyOptions = {}): OutboundPolicy {
  const allowPrivate = options.allowPrivate ?? false
  return {
    allowPrivate,
    resolve: options.resolve ?? systemResolver,
    isAllowedAddress: options.isAllowedAddress ?? (allowPrivate ? () => true : isPublicAddress),
    ca: options.ca,
    saveLookupTimeoutMs: options.saveLookupTimeoutMs ?? DEFAULT_SAVE_LOOKUP_TIMEOUT_MS,
  }
}

/** The system's resolver (getaddrinfo, so /etc/hosts and search domains count, as they do for a connection). */
export async function systemResolver(hostname: string): Promise<ResolvedAddress[]> {
  const found = await lookup(hostname, { all: true, verbatim: true })
  return found.map(({ address, family }) => ({ address, family: family === 6 ? 6 : 4 }))
}

/**
 * Whether an IP address is a public unicast one. Refused: loopback, private (RFC 1918, fc00::/7),
 * link-local (169.254/16 with the cloud metadata address, fe80::/10), multicast, unspecified,
 * broadcast, CGNAT (100.64/10), benchmarking, documentation and other reserved ranges; IPv4-mapped,
 * NAT64 and 6to4 addresses are judged by the IPv4 address they carry; Teredo is refused.
 *
 * @example isPublicAddress('169.254.169.254') // false
 */
export function isPublicAddress(address: string): boolean {
  let parsed: ipaddr.IPv4 | ipaddr.IPv6
  try {
    parsed = ipaddr.parse(address)
  } catch {
    return false
  }
  if (parsed.kind() === 'ipv4') return parsed.range() === 'unicast'
  const v6 = parsed as ipaddr.IPv6
  const range = v6.range()
  if (range === 'ipv4Mapped') return isPublicAddress(v6.toIPv4Address().toString())
  if (range === 'rfc6052') {
    if (!v6.match(NAT64_WELL_KNOWN)) return false
    return isPublicAddress(embeddedIPv4(v6.parts[6], v6.parts[7]))
  }
  // 2002:AABB:CCDD::/48 reaches the IPv4 host AA.BB.CC.DD through a 6to4 relay.
  if (range === '6to4') return isPublicAddress(embeddedIPv4(v6.parts[1], v6.parts[2]))
  return range === 'unicast' && v6.match(GLOBAL_UNICAST)
}

function embeddedIPv4(high: number | undefined, low: number | undefined): string {
  const h = high ?? 0
  const l = low ?? 0
  return `${h >> 8}.${h & 0xff}.${l >> 8}.${l & 0xff}`
}

/** A URL's host as an address when it is an IP literal (`[::1]` → `::1`), else null. */
export function literalAddress(hostname: string): string | null {
  const bare = hostname.startsWith('[') && hostname.endsWith(']') ? hostname.slice(1, -1) : hostname
  return isIP(bare) === 0 ? null : bare
}

/** `localhost` and its subdomains (RFC 6761) are this machine whatever DNS says. */
function isLocalName(hostname: string): boolean {
  const name = hostname.toLowerCase().replace(/\.$/, '')
  return name === 'localhost' || name.endsWith('.localhost')
}

/** Why a URL may not be called, judged without DNS; null when it may (subject to resolution). */
export type UrlProblem = 'scheme' | 'credentials' | 'address'

/**
 * The checks that need no network: the scheme, credentials in the URL, and a host that is an IP
 * literal or a local name. The WHATWG parser has already turned decimal, octal, hex and short
 * IPv4 forms (`2130706433`, `0x7f.1`, `127.1`) into dotted quads.
 *
 * @example urlProblem(policy, new URL('http://2130706433/')) // 'scheme' (and 'address' once https)
 */
export function urlProblem(policy: OutboundPolicy, url: URL): UrlProblem | null {
  const schemeOk = url.protocol === 'https:' || (policy.allowPrivate && url.protocol === 'http:')
  if (!schemeOk) return 'scheme'
  if (url.username !== '' || url.password !== '') return 'credentials'
  const literal = literalAddress(url.hostname)
  if (literal !== null) return policy.isAllowedAddress(literal) ? null : 'address'
  if (!policy.allowPrivate && isLocalName(url.hostname)) return 'address'
  return null
}

/**
 * The save-time check of a URL setting (every connector's URL settings go through it): `400` naming
 * the setting when the URL is not https, carries credentials, or its host is, or resolves to, an
 * address that is not public. A name that does not resolve at all (or not in time) is accepted:
 * the call-time check after resolution is the one that holds, and the server may see a DNS the
 * saving process does not (the CLI on another machine, a name not published yet).
 *
 * @example await checkOutboundUrl(services.outbound, 'url', 'https://acme.zendesk.com')
 * @example await checkOutboundUrl(policy, 'Setting token_url', value) // 400 "Setting token_url must be an https URL of a public host"
 */
export async function checkOutboundUrl(
  policy: OutboundPolicy,
  settingName: string,
  value: string,
): Promise<void> {
  const refuse = (): AppError =>
    new AppError('bad_request', {
      message: policy.allowPrivate
        ? `${settingName} must be an http(s) URL`
        : `${settingName} must be an https URL of a public host`,
    })
  let url: URL
  try {
    url = new URL(value.trim())
  } catch {
    throw refuse()
  }
  const problem = urlProblem(policy, url)
  if (problem === 'credentials') {
    throw new AppError('bad_request', { message: `${settingName} must not carry a user name or password` })
  }
  if (problem !== null) throw refuse()
  if (policy.allowPrivate || literalAddress(url.hostname) !== null) return
  const addresses = await resolveWithin(policy, url.hostname, policy.saveLookupTimeoutMs)
  if (addresses.some(({ address }) => !policy.isAllowedAddress(address))) throw refuse()
}

/** The addresses of a name, or none when it does not resolve in time (the caller decides what that means). */
async function resolveWithin(
  policy: OutboundPolicy,
  hostname: string,
  timeoutMs: number,
): Promise<ResolvedAddress[]> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<ResolvedAddress[]>((resolve) => {
    timer = setTimeout(() => resolve([]), timeoutMs)
  })
  try {
    return await Promise.race([policy.resolve(hostname).catch(() => []), timeout])
  } finally {
    clearTimeout(timer)
  }
}

/** Why a connection failed, in a few fixed words: never the error's own text, which names addresses and hosts. */

/** Raised by the connector's DNS hook and IP check when an address is not allowed by the outbound policy. */
export class AddressNotAllowedError extends Error {
  readonly code = 'OPTIMALCLOUD_ADDRESS_NOT_ALLOWED'

  constructor() {
    super('the address is not allowed by the outbound URL policy')
    this.name = 'AddressNotAllowedError'
  }
}

const CAUSES: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  EPIPE: 'connection closed',
  UND_ERR_SOCKET: 'connection closed',
  UND_ERR_CLOSED: 'connection closed',
  ENOTFOUND: 'host not found',
  ENODATA: 'host not found',
  EAI_AGAIN: 'name lookup failed',
  ETIMEDOUT: 'connection timed out',
  UND_ERR_CONNECT_TIMEOUT: 'connection timed out',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  CERT_HAS_EXPIRED: 'certificate expired',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'certificate not trusted',
  SELF_SIGNED_CERT_IN_CHAIN: 'certificate not trusted',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'certificate not trusted',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'certificate not trusted',
  ERR_TLS_CERT_ALTNAME_INVALID: 'certificate does not match the host',
  EPROTO: 'TLS handshake failed',
  UND_ERR_HEADERS_OVERFLOW: 'answer headers too large',
  HPE_INVALID_CONSTANT: 'not an HTTP answer',
}

/**
 * A short, fixed description of a network failure: a known code in words, another error code as
 * itself when it looks like one, else `network error`.
 *
 * @example describeNetworkCause(Object.assign(new Error('connect ECONNREFUSED 10.0.0.5:443'), { code: 'ECONNREFUSED' })) // 'connection refused'
 */
export function describeNetworkCause(error: unknown): string {
  const code = codeOf(error)
  if (code === null) return 'network error'
  const known = CAUSES[code]
  if (known !== undefined) return known
  if (code.startsWith('ERR_SSL_') || code.startsWith('ERR_TLS_')) return 'TLS handshake failed'
  if (code.startsWith('HPE_')) return 'not an HTTP answer'
  return /^[A-Z][A-Z0-9_]{1,40}$/.test(code) ? code : 'network error'
}

/** The error's code, or its cause's (fetch and undici wrap the socket's error), to a few levels. */
function codeOf(error: unknown): string | null {
  let current: unknown = error
  for (let depth = 0; depth < 4 && typeof current === 'object' && current !== null; depth++) {
    const { code, cause } = current as { code?: unknown; cause?: unknown }
    if (typeof code === 'string' && code !== '') return code
    current = cause
  }
  return null
}

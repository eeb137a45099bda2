/** How a call to an HR system's employee API (Paylocity, BambooHR) fails, one rule for both clients. */
import type { OutboundFailureKind } from './http/connector-http.js'

export type HrApiFailureKind =
  | 'auth'
  | 'not_found'
  | 'server'
  | 'timeout'
  | 'network'
  | 'bad_response'
  /** A configured URL that is not an https URL of a public host (the outbound URL policy); never called. */
  | 'not_allowed'

/** A failure before any answer: timeouts, network errors and refused URLs keep their kind, the rest is a bad answer. */
export function hrApiKindOfOutbound(kind: OutboundFailureKind): HrApiFailureKind {
  return kind === 'timeout' || kind === 'network' || kind === 'not_allowed' ? kind : 'bad_response'
}

/** A non-2xx answer: 404 not found, 401/403 credentials, 5xx and 429 the vendor's side, anything else a bad answer. */
export function hrApiKindOfStatus(status: number): HrApiFailureKind {
  if (status === 404) return 'not_found'
  if (status === 401 || status === 403) return 'auth'
  if (status >= 500 || status === 429) return 'server'
  return 'bad_response'
}

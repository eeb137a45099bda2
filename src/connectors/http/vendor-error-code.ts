/** The vendor's error code, and nothing else, from an error body: the only part of an answer a tenant may read. */

/** A code is a short token; anything else (sentences, markup, an echoed header) is left out. */
const CODE_PATTERN = /^[A-Za-z0-9_.-]{1,64}$/

/**
 * Reads the error code from the documented error shapes, and returns it only when it is a short
 * token (`/^[A-Za-z0-9_.-]{1,64}$/`) that holds none of `secrets` (nor is part of one, so an echoed
 * token cannot leak even in pieces):
 * - Zendesk `{"error":"RecordInvalid","description":…,"details":…}` and `{"error":{"title":…}}`;
 * - Zendesk (newer APIs) `{"errors":[{"code":"…","title":…,"detail":…}]}`;
 * - Paylocity Weblink `[{"code":"…","message":…}]`;
 * - OAuth2 / IdentityServer `{"error":"invalid_client","error_description":…}`.
 * Descriptions, titles, details and messages are never read: vendors quote the request in them.
 *
 * @example vendorErrorCode('{"error":"RecordInvalid","description":"Record validation errors"}') // 'RecordInvalid'
 */
export function vendorErrorCode(text: string, secrets: Iterable<string> = []): string | null {
  let body: unknown
  try {
    body = JSON.parse(text)
  } catch {
    return null
  }
  const code = codeOf(body)
  if (code === null || !CODE_PATTERN.test(code)) return null
  for (const secret of secrets) {
    if (secret !== '' && (secret.includes(code) || code.includes(secret))) return null
  }
  return code
}

function codeOf(body: unknown): string | null {
  if (Array.isArray(body)) return stringField(body[0], 'code')
  if (!isRecord(body)) return null
  if (typeof body.error === 'string') return body.error
  if (isRecord(body.error)) return stringField(body.error, 'code') ?? stringField(body.error, 'title')
  if (Array.isArray(body.errors)) return stringField(body.errors[0], 'code')
  return stringField(body, 'code')
}

function stringField(value: unknown, name: string): string | null {
  if (!isRecord(value)) return null
  const field = value[name]
  if (typeof field === 'string') return field.trim()
  // Some vendors number their codes.
  if (typeof field === 'number' && Number.isSafeInteger(field)) return String(field)
  return null
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

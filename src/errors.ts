/** Every error the service answers with: its code, HTTP status and exact message, in one place. */

export const errorCatalog = {
  unauthorized: { status: 401, message: 'ERROR' },
  rate_limited: { status: 429, message: 'ERROR' },
  body_not_object: { status: 400, message: 'Request body must be a JSON object' },
  body_too_large: { status: 413, message: 'Request body too large' },
  requester_not_found: { status: 400, message: 'Requestor email was not found in Zendesk' },
  ticket_create_failed: { status: 400, message: 'Failed to create the new ticket in Zendesk' },
  idempotency_key_reused: {
    status: 400,
    message: 'Idempotency-Key was already used with a different request',
  },
  idempotency_key_invalid: { status: 400, message: 'Idempotency-Key must be 1 to 255 printable characters' },
  destination_not_found: { status: 404, message: 'Provisioning destination not found' },
  user_not_found: { status: 400, message: 'User not found in the OptimalCloud' },
  user_create_failed: { status: 400, message: 'Failed to create user in the OptimalCloud' },
  user_update_failed: { status: 400, message: 'Failed to update user in the OptimalCloud' },
  paylocity_fetch_failed: { status: 400, message: 'Failed to fetch the employee from Paylocity' },
  bamboohr_fetch_failed: { status: 400, message: 'Failed to fetch the employee from BambooHR' },
  invalid_email: { status: 400, message: 'email must be a valid email address' },
  not_found: { status: 404, message: 'Not found' },
  conflict: { status: 409, message: 'Already exists' },
  bad_request: { status: 400, message: 'Bad request' },
  forbidden: { status: 403, message: 'Forbidden' },
  internal: { status: 500, message: 'Internal server error' },
} as const satisfies Record<string, { status: number; message: string }>

export type ErrorCode = keyof typeof errorCatalog

/**
 * An error meant for the caller: `message` is what the caller reads; `reason` is the detail an
 * administrator reads in the delivery log (never a secret).
 *
 * @example throw new AppError('requester_not_found', { reason: 'no support account bob@x.com' })
 */
export class AppError extends Error {
  readonly code: ErrorCode
  readonly status: number
  readonly reason: string | undefined

  constructor(code: ErrorCode, options: { message?: string; reason?: string; cause?: unknown } = {}) {
    super(options.message ?? errorCatalog[code].message, { cause: options.cause })
    this.code = code
    this.status = errorCatalog[code].status
    this.reason = options.reason
  }
}

/** `400 {"error":"<field> is a required field"}` */
export function requiredField(field: string): AppError {
  return new AppError('bad_request', { message: `${field} is a required field` })
}

/** `400 {"error":"<field> must be a string"}` */
export function mustBeString(field: string): AppError {
  return new AppError('bad_request', { message: `${field} must be a string` })
}

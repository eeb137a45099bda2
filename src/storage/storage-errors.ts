/** What a database error means for the caller: a value it cannot hold (the request's fault), or a database that cannot be used (ours). */

/** The error's code: PostgreSQL's SQLSTATE, better-sqlite3's `SQLITE_*`, or Node's `E*`. */
function codeOf(error: unknown): string {
  if (typeof error !== 'object' || error === null) return ''
  const code = (error as { code?: unknown }).code
  return typeof code === 'string' ? code : ''
}

/**
 * PostgreSQL refusing a value: a NUL or a character it cannot encode (22021, 22P05), a number out
 * of range (22003), a text too long for its column or index (22001, 54000). The service bounds
 * every value before storage (src/value-bounds.ts); this is what still answers 400, not 500, should
 * a value slip through.
 */
const UNSTORABLE_VALUE_CODES = new Set(['22021', '22P05', '22003', '22001', '54000', 'SQLITE_TOOBIG'])

/**
 * True when the database refused a value of the request (see above).
 *
 * @example isUnstorableValue({ code: '22021' }) // true
 */
export function isUnstorableValue(error: unknown): boolean {
  return UNSTORABLE_VALUE_CODES.has(codeOf(error))
}

/**
 * PostgreSQL unable to write or be reached: read-only (25006), no write permission (42501), disk
 * full (53100), out of memory or connections (53200, 53300), I/O error (58030), shutting down or
 * starting (57P01-57P03), connection failures (08xxx).
 */
const POSTGRES_UNAVAILABLE = new Set([
  '25006',
  '42501',
  '53100',
  '53200',
  '53300',
  '58030',
  '57P01',
  '57P02',
  '57P03',
])
const NODE_UNAVAILABLE = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND'])

/**
 * True when the database cannot be used right now, whatever the request: a read-only or full
 * SQLite file, an I/O error, a lock held too long; PostgreSQL read-only, without write permission,
 * full, or unreachable. Such failures answer 503 and make /readyz answer 503.
 *
 * @example isStorageFailure({ code: 'SQLITE_READONLY' }) // true
 */
export function isStorageFailure(error: unknown): boolean {
  const code = codeOf(error)
  if (code.startsWith('SQLITE_')) {
    return /^SQLITE_(READONLY|FULL|IOERR|CANTOPEN|BUSY|LOCKED|NOMEM|CORRUPT|NOTADB|PROTOCOL)/.test(code)
  }
  if (POSTGRES_UNAVAILABLE.has(code) || code.startsWith('08') || NODE_UNAVAILABLE.has(code)) return true
  // pg reports a connection that died mid-query without a code.
  return error instanceof Error && /Connection terminated|connection timeout/i.test(error.message)
}

/**
 * Cursor paging (keyset) for every list of the management API, the CLI and the console: a page is the
 * rows after (or, going back, before) the sort key of the row a cursor names, never an offset, so a
 * page stays right while rows are added and costs one index range read however deep it is.
 */
import { AppError } from '../errors.js'

export const DEFAULT_LIMIT = 100
export const MAX_LIMIT = 1000

/** What a caller asked for: how many, and from where (null: the first page). */
export interface PageRequest {
  limit: number
  cursor: Cursor | null
}

/** A position in a list: after the row with key `key` (next pages), or before it (previous pages). */
export interface Cursor {
  direction: 'next' | 'previous'
  key: string
}

/** One page of a list, with the cursors of its neighbours (null at either end). */
export interface Page<T> {
  items: T[]
  /** The cursor of the page after this one, or null on the last page. */
  next: string | null
  /** The cursor of the page before this one, or null on the first page. */
  previous: string | null
}

/** A bound on the sort key: rows strictly after (`>` ascending, `<` descending) or before a key. */
export interface KeyBound {
  op: '>' | '<'
  key: string
}

const MAX_KEY = 400

/**
 * The cursor's text: opaque to callers (base64url), so its shape may change without breaking anyone.
 *
 * @example encodeCursor({ direction: 'next', key: 'dlv_0mx4…' }) // 'bjpkbHZfMG14NH…'
 */
export function encodeCursor(cursor: Cursor): string {
  return Buffer.from(`${cursor.direction === 'next' ? 'n' : 'p'}:${cursor.key}`, 'utf8').toString('base64url')
}

/** A cursor read back; `400 cursor is not valid` for anything this service did not make. */
export function decodeCursor(text: string): Cursor {
  const invalid = () => new AppError('bad_request', { message: 'cursor is not valid' })
  if (text.length === 0 || text.length > 600 || !/^[A-Za-z0-9_-]+$/.test(text)) throw invalid()
  const decoded = Buffer.from(text, 'base64url').toString('utf8')
  const match = /^([np]):(.+)$/s.exec(decoded)
  const key = match?.[2]
  // A key is a stored id or email: never a control character.
  if (match === null || key === undefined || key.length > MAX_KEY || hasControlCharacter(key)) throw invalid()
  return { direction: match[1] === 'n' ? 'next' : 'previous', key }
}

/**
 * Reads `limit` and `cursor` as the API, the CLI and the console take them (limit 1..1000, default 100).
 *
 * @example const page = readPageRequest({ limit: request.query.limit, cursor: request.query.cursor })
 */
export function readPageRequest(input: {
  limit?: number | string | undefined
  cursor?: string | undefined
}): PageRequest {
  const given = input.limit
  // Digits only when it arrives as text (a flag or a query string): `1e3` or ` 10` is a typo, not a number.
  const limit =
    given === undefined || given === ''
      ? DEFAULT_LIMIT
      : typeof given === 'number'
        ? given
        : /^\d{1,4}$/.test(given)
          ? Number(given)
          : Number.NaN
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT)
    throw new AppError('bad_request', { message: `limit must be an integer from 1 to ${MAX_LIMIT}` })
  return {
    limit,
    cursor: input.cursor === undefined || input.cursor === '' ? null : decodeCursor(input.cursor),
  }
}

/**
 * One page of a list sorted by a unique key (`order`: how the list reads, e.g. newest first is `desc`).
 * `fetch` runs the list's query with the bound (null: from the start), in the order given (reversed
 * when going back), for at most `limit` rows; it must sort by the same key the bound is on.
 *
 * @example
 * const page = await keysetPage(request, 'desc', (row) => row.id, (bound, order, limit) => {
 *   let query = db.selectFrom('deliveries').selectAll().where('tenant_id', '=', tenantId)
 *   if (bound !== null) query = query.where('id', bound.op, bound.key)
 *   return query.orderBy('id', order).limit(limit).execute()
 * })
 */
export async function keysetPage<T>(
  request: PageRequest,
  order: 'asc' | 'desc',
  keyOf: (row: T) => string,
  fetch: (bound: KeyBound | null, order: 'asc' | 'desc', limit: number) => Promise<T[]>,
): Promise<Page<T>> {
  const { cursor, limit } = request
  const backwards = cursor?.direction === 'previous'
  const readOrder = backwards ? flip(order) : order
  const bound: KeyBound | null =
    cursor === null ? null : { op: readOrder === 'asc' ? '>' : '<', key: cursor.key }
  // One more than asked: its presence says whether another page follows in the reading direction.
  const rows = await fetch(bound, readOrder, limit + 1)
  const more = rows.length > limit
  const taken = rows.slice(0, limit)
  const items = backwards ? taken.reverse() : taken
  const first = items[0]
  const last = items.at(-1)
  const hasNext = backwards ? cursor !== null : more
  const hasPrevious = backwards ? more : cursor !== null
  return {
    items,
    next: hasNext && last !== undefined ? encodeCursor({ direction: 'next', key: keyOf(last) }) : null,
    previous:
      hasPrevious && first !== undefined ? encodeCursor({ direction: 'previous', key: keyOf(first) }) : null,
  }
}

function hasControlCharacter(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i)
    if (code < 0x20 || code === 0x7f) return true
  }
  return false
}

function flip(order: 'asc' | 'desc'): 'asc' | 'desc' {
  return order === 'asc' ? 'desc' : 'asc'
}

/**
 * The `Link` header of a page of the management API: the same path and query with the next page's
 * cursor and the limit, or undefined on the last page.
 *
 * @example reply.header('link', linkHeader(request.url, page, limit)) // '</v5.0/…/deliveries?failed=true&cursor=…&limit=100>; rel="next"'
 */
export function linkHeader(
  url: string,
  page: Pick<Page<unknown>, 'next'>,
  limit: number,
): string | undefined {
  if (page.next === null) return undefined
  const [path = '', query = ''] = url.split('?', 2)
  const params = new URLSearchParams(query)
  params.set('cursor', page.next)
  params.set('limit', String(limit))
  return `<${path}?${params.toString()}>; rel="next"`
}

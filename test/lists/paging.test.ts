/** Cursor paging over an in-memory list: forward, back, bounds, and hostile cursors. */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import {
  decodeCursor,
  encodeCursor,
  type KeyBound,
  keysetPage,
  linkHeader,
  type PageRequest,
  readPageRequest,
} from '../../src/lists/paging.js'

const KEYS = Array.from({ length: 25 }, (_, i) => `k${String(i).padStart(3, '0')}`)

/** What a database would answer: the keys past the bound, in the order asked, at most `limit`. */
async function fetchKeys(bound: KeyBound | null, order: 'asc' | 'desc', limit: number): Promise<string[]> {
  const sorted = [...KEYS].sort()
  if (order === 'desc') sorted.reverse()
  const past =
    bound === null ? sorted : sorted.filter((key) => (bound.op === '>' ? key > bound.key : key < bound.key))
  return past.slice(0, limit)
}

async function walk(order: 'asc' | 'desc', limit: number) {
  const pages: string[][] = []
  let request: PageRequest = { limit, cursor: null }
  for (;;) {
    const page = await keysetPage(request, order, (key) => key, fetchKeys)
    pages.push(page.items)
    if (page.next === null) return { pages, last: page }
    request = { limit, cursor: decodeCursor(page.next) }
  }
}

describe('keysetPage', () => {
  it('walks a list to its end, newest first or oldest first, every row once', async () => {
    for (const order of ['asc', 'desc'] as const) {
      const { pages } = await walk(order, 10)
      assert.deepEqual(
        pages.map((p) => p.length),
        [10, 10, 5],
      )
      const expected = [...KEYS].sort()
      if (order === 'desc') expected.reverse()
      assert.deepEqual(pages.flat(), expected)
    }
  })

  it('goes back with the previous cursor, to the same pages; none before the first, none after the last', async () => {
    const first = await keysetPage({ limit: 10, cursor: null }, 'desc', (k) => k, fetchKeys)
    assert.equal(first.previous, null)
    assert.ok(first.next !== null)
    const second = await keysetPage(
      { limit: 10, cursor: decodeCursor(first.next) },
      'desc',
      (k) => k,
      fetchKeys,
    )
    assert.ok(second.previous !== null)
    const back = await keysetPage(
      { limit: 10, cursor: decodeCursor(second.previous) },
      'desc',
      (k) => k,
      fetchKeys,
    )
    assert.deepEqual(back.items, first.items)
    assert.equal(back.previous, null)
    assert.ok(back.next !== null)
    const { last } = await walk('desc', 10)
    assert.equal(last.next, null)
    assert.ok(last.previous !== null)
  })

  it('a list that fits one page has no cursors', async () => {
    const page = await keysetPage({ limit: 1000, cursor: null }, 'asc', (k) => k, fetchKeys)
    assert.equal(page.items.length, 25)
    assert.equal(page.next, null)
    assert.equal(page.previous, null)
  })
})

describe('reading limit and cursor', () => {
  it('takes 1..1000, 100 by default, and a cursor this service made', () => {
    assert.deepEqual(readPageRequest({}), { limit: 100, cursor: null })
    assert.equal(readPageRequest({ limit: '1000' }).limit, 1000)
    const cursor = encodeCursor({ direction: 'next', key: 'dlv_0mx4abc' })
    assert.deepEqual(readPageRequest({ cursor }).cursor, { direction: 'next', key: 'dlv_0mx4abc' })
  })

  it('refuses bad limits and hostile cursors with a clear 400', () => {
    for (const limit of ['0', '1001', '-1', '1.5', 'ten', '1e3'])
      assert.throws(
        () => readPageRequest({ limit }),
        { message: 'limit must be an integer from 1 to 1000' },
        limit,
      )
    const hostile = [
      'not base64!',
      Buffer.from('x:key').toString('base64url'),
      Buffer.from('n:').toString('base64url'),
      Buffer.from('n:a\u0000b').toString('base64url'),
      Buffer.from(`n:${'k'.repeat(401)}`).toString('base64url'),
      'A'.repeat(601),
      "'; drop table deliveries; --",
    ]
    for (const cursor of hostile)
      assert.throws(() => readPageRequest({ cursor }), { message: 'cursor is not valid' }, cursor)
  })
})

describe('linkHeader', () => {
  it('keeps the path and the other filters, and sets cursor and limit; none on the last page', () => {
    const link = linkHeader('/v5.0/mgmt/api/v1.0/deliveries?failed=true&cursor=old', { next: 'NEXT' }, 50)
    assert.equal(link, '</v5.0/mgmt/api/v1.0/deliveries?failed=true&cursor=NEXT&limit=50>; rel="next"')
    assert.equal(linkHeader('/x', { next: null }, 50), undefined)
  })
})

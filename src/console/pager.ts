/**
 * Paging of the console's lists: a page of rows with Previous and Next links that carry the list's
 * filters and a cursor (`?cursor=`), so a long list never cuts silently and every page has an address.
 */
import { type Page, type PageRequest, readPageRequest } from '../lists/paging.js'
import { field } from './forms.js'
import { html, type SafeHtml } from './layout.js'

/**
 * The named query parameters as single strings (the first of a repeated one; absent ones left out):
 * a list page reads its filters and cursor through this, never the raw query.
 *
 * @example listQuery(request.query, ['status', 'cursor']) // { status: 'active' }
 */
export function listQuery<K extends string>(query: unknown, names: readonly K[]): Partial<Record<K, string>> {
  const out: Partial<Record<K, string>> = {}
  for (const name of names) {
    const value = field(query, name)
    if (value !== '') out[name] = value
  }
  return out
}

/** Rows per page in the console: enough to scan, small enough to render at once. */
export const CONSOLE_PAGE_SIZE = 50

/** The page a console list asks for; a cursor this service did not make is a 400 page. */
export function consolePageRequest(cursor: string | undefined, limit = CONSOLE_PAGE_SIZE): PageRequest {
  return readPageRequest({ limit, cursor })
}

/**
 * Previous and Next links for a page of the list at `path`, keeping `params` (its filters, and the
 * cursors of other lists on the same page); nothing at all when the list fits on one page.
 *
 * @example pagerLinks('/console/activity', { outcome: 'failed' }, page) // <nav class="pager">…</nav>
 */
export function pagerLinks(
  path: string,
  params: Record<string, string | undefined>,
  page: Pick<Page<unknown>, 'next' | 'previous'>,
  cursorParam = 'cursor',
): SafeHtml {
  if (page.next === null && page.previous === null) return html``
  const href = (cursor: string) => {
    const query = new URLSearchParams()
    for (const [name, value] of Object.entries(params)) {
      if (value !== undefined && value !== '' && name !== cursorParam) query.set(name, value)
    }
    query.set(cursorParam, cursor)
    return `${path}?${query.toString()}`
  }
  return html`<nav class="pager" aria-label="Pages">${
    page.previous === null
      ? html`<span class="muted">← Previous</span>`
      : html`<a rel="prev" href="${href(page.previous)}">← Previous</a>`
  }${
    page.next === null
      ? html`<span class="muted">Next →</span>`
      : html`<a rel="next" href="${href(page.next)}">Next →</a>`
  }</nav>`
}

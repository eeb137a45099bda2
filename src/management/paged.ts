/**
 * Paging of the management API's lists: `?limit=` (1..1000, default 100) and `?cursor=` in, the same
 * JSON array out, and the next page's address in a `Link` header (absent on the last page).
 */
import { type TSchema, Type } from '@sinclair/typebox'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { linkHeader, type Page, type PageRequest, readPageRequest } from '../lists/paging.js'
import { Limit } from './schemas.js'

/** The query parameters every list takes, to spread into its querystring schema. */
export const PageQuery = {
  limit: Limit,
  cursor: Type.Optional(
    Type.String({
      maxLength: 600,
      description: 'Where the page starts: the cursor in the previous page\'s `Link` header (rel="next")',
    }),
  ),
}

/** A list's 200 answer: the array, with the `Link` header documented beside it. */
export function PagedArray<T extends TSchema>(item: T) {
  return Type.Array(item, {
    headers: {
      link: Type.String({
        description:
          'The next page: `<…?cursor=…&limit=…>; rel="next"`; absent on the last page; pages stay right while rows are added',
      }),
    },
  })
}

/** The page a request asks for; `400` for a limit out of 1..1000 or a cursor this service did not make. */
export function pageRequestOf(query: {
  limit?: number | undefined
  cursor?: string | undefined
}): PageRequest {
  return readPageRequest({ limit: query.limit, cursor: query.cursor })
}

/**
 * Sets the `Link` header for the next page and answers the page's rows.
 *
 * @example return sendPage(request, reply, await pageDeliveries(db, tenantId, filters, page), page.limit)
 */
export function sendPage<T>(request: FastifyRequest, reply: FastifyReply, page: Page<T>, limit: number): T[] {
  const link = linkHeader(request.url, page, limit)
  if (link !== undefined) reply.header('link', link)
  return page.items
}

/** The description of a paged list's operation, for the OpenAPI document. */
export const PAGED_DESCRIPTION =
  'Pages: the next page is in the `Link` header (`<…?cursor=…&limit=…>; rel="next"`), absent on the last page.'

/** `?limit=&cursor=` of the paged lists, and the `Link` header that gives the next page. */
import { Type } from '@sinclair/typebox'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { linkHeader, type Page, readPageRequest } from '../lists/paging.js'
import { Limit } from './schemas.js'

export const PageQuery = {
  limit: Limit,
  cursor: Type.Optional(
    Type.String({ maxLength: 600, description: 'From the `Link` header of the previous page (rel="next")' }),
  ),
}

export const PAGED_DESCRIPTION =
  'Pages: the next page is in the `Link` header (`<…?cursor=…&limit=…>; rel="next"`), absent on the last page.'

/** The page request of a query that has PageQuery's fields. */
export function pageRequestOf(query: { limit?: number | undefined; cursor?: string | undefined }) {
  return readPageRequest({ limit: query.limit, cursor: query.cursor })
}

/** Sends a page's items, with its `Link` header when more follow. */
export function sendPage<T>(request: FastifyRequest, reply: FastifyReply, page: Page<T>, limit: number): T[] {
  const link = linkHeader(request.url, page, limit)
  if (link !== undefined) reply.header('link', link)
  return page.items
}

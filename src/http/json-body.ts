/** Reading every request body as JSON, refusing `__proto__` fields, and noting for the delivery log why a body was not kept. */
import type { FastifyInstance, FastifyRequest } from 'fastify'
import secureJsonParse from 'secure-json-parse'
import { AppError } from '../errors.js'

declare module 'fastify' {
  interface FastifyRequest {
    /** Why the body could not be kept for the delivery log (not JSON, forbidden field names), when it could not. */
    bodyNote: string | undefined
  }
}

/** The message for a body with a `__proto__` field, or a `constructor` field holding a `prototype`. */
export const FORBIDDEN_FIELD_NAME =
  'Field names __proto__ and constructor.prototype are not allowed (they could change how the service reads the body)'

/**
 * Registers, in `app` (and the plugins below it), one parser for every content type (or none):
 * the body is read as JSON. Text that is not JSON is `400 Request body must be a JSON object`; a
 * body with a `__proto__` field (or `constructor.prototype`), which could otherwise change the
 * objects that read it, is refused with its own 400. With `emptyIsNone`, an empty body is no body
 * (actions such as `POST …/revoke` take none); otherwise it is refused too.
 *
 * @example readBodiesAsJson(app, { bodyLimit: 1024 * 1024 })
 */
export function readBodiesAsJson(
  app: FastifyInstance,
  options: { bodyLimit?: number; emptyIsNone?: boolean } = {},
): void {
  if (!app.hasRequestDecorator('bodyNote')) app.decorateRequest('bodyNote', undefined)
  app.removeAllContentTypeParsers()
  app.addContentTypeParser(
    '*',
    { parseAs: 'string', ...(options.bodyLimit === undefined ? {} : { bodyLimit: options.bodyLimit }) },
    (request, body, done) => {
      try {
        done(null, parseJsonBody(request, typeof body === 'string' ? body : body.toString('utf8'), options))
      } catch (error) {
        done(error as Error, undefined)
      }
    },
  )
}

/**
 * One body's text read as JSON by the rules above (what readBodiesAsJson registers, and what a route
 * that reads bytes first, such as a signed HR call, calls itself); throws the contract's 400s and
 * sets `request.bodyNote` when the body cannot be kept for the delivery log.
 *
 * @example const body = parseJsonBody(request, bytes.toString('utf8'))
 */
export function parseJsonBody(
  request: FastifyRequest,
  text: string,
  options: { emptyIsNone?: boolean } = {},
): unknown {
  if (text.trim() === '') {
    if (options.emptyIsNone === true) return undefined
    request.bodyNote = text === '' ? 'The body was empty' : 'The body was only white space'
    throw new AppError('body_not_object')
  }
  try {
    return secureJsonParse.parse(text, { protoAction: 'error', constructorAction: 'error' })
  } catch (error) {
    const forbidden =
      error instanceof Error && /forbidden (prototype|constructor) property/.test(error.message)
    const size = Buffer.byteLength(text)
    if (forbidden) {
      request.bodyNote = `Not kept: the body (${size} bytes) has a field named __proto__ or constructor.prototype`
      throw new AppError('bad_request', { message: FORBIDDEN_FIELD_NAME })
    }
    request.bodyNote = `Not kept: the body (${size} bytes) is not valid JSON`
    throw new AppError('body_not_object')
  }
}

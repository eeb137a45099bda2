/** Reading every request body as JSON, refusing `__proto__` fields, and noting for the delivery log why a body was not kept. */
import type { FastifyInstance } from 'fastify'
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
      const text = typeof body === 'string' ? body : body.toString('utf8')
      if (text.trim() === '') {
        if (options.emptyIsNone === true) return done(null, undefined)
        request.bodyNote = text === '' ? 'The body was empty' : 'The body was only white space'
        return done(new AppError('body_not_object'), undefined)
      }
      try {
        done(null, secureJsonParse.parse(text, { protoAction: 'error', constructorAction: 'error' }))
      } catch (error) {
        const forbidden =
          error instanceof Error && /forbidden (prototype|constructor) property/.test(error.message)
        const size = Buffer.byteLength(text)
        if (forbidden) {
          request.bodyNote = `Not kept: the body (${size} bytes) has a field named __proto__ or constructor.prototype`
          return done(new AppError('bad_request', { message: FORBIDDEN_FIELD_NAME }), undefined)
        }
        request.bodyNote = `Not kept: the body (${size} bytes) is not valid JSON`
        done(new AppError('body_not_object'), undefined)
      }
    },
  )
}

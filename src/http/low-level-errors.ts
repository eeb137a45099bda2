/** Errors found before a request reaches a route (bad framing, bad URL, no Host): answered in the contract's `{"error":…}` shape too. */
import { randomUUID } from 'node:crypto'
import { STATUS_CODES } from 'node:http'
import type { Socket } from 'node:net'
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { AppError } from '../errors.js'

/** Node's HTTP parser codes worth their own status; every other parse failure is a 400. */
const PARSER_ANSWERS: Record<string, { status: number; message: string }> = {
  HPE_HEADER_OVERFLOW: { status: 431, message: 'Request headers too large' },
  ERR_HTTP_REQUEST_TIMEOUT: { status: 408, message: 'Request timeout' },
}

const UNREADABLE = {
  status: 400,
  message: 'Bad request: the HTTP request could not be read (malformed request line, headers or framing)',
}

/**
 * Fastify's `clientErrorHandler`: what Node's HTTP parser refuses (a body with both Content-Length
 * and Transfer-Encoding, invalid chunking, a bad header, headers over 16 KiB, a request that takes
 * too long) gets a JSON answer and the connection is closed. Nothing is written when an answer on
 * this connection has already begun (as Node itself does), so the peer never reads a corrupt answer.
 *
 * @example Fastify({ clientErrorHandler })
 */
export function clientErrorHandler(error: Error & { code?: string }, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return
  const inFlight = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage
  if (socket.writable && inFlight?.headersSent !== true) {
    const { status, message } = PARSER_ANSWERS[error.code ?? ''] ?? UNREADABLE
    const body = JSON.stringify({ error: message })
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\n` +
        'Content-Type: application/json; charset=utf-8\r\n' +
        `Content-Length: ${Buffer.byteLength(body)}\r\n` +
        `X-Request-Id: ${randomUUID()}\r\n` +
        'Connection: close\r\n\r\n' +
        body,
    )
  }
  socket.destroy(error)
}

/**
 * Fastify's `frameworkErrors`: a URL whose percent-encoding is invalid (`/users/%zz`) or a path
 * parameter over 100 characters answers 400 with the contract's shape, before any route runs.
 *
 * @example Fastify({ frameworkErrors })
 */
export function frameworkErrors(error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  const answer =
    error.code === 'FST_ERR_BAD_URL'
      ? { status: 400, message: 'Bad request: the URL is not valid (check its percent-encoding)' }
      : error.code === 'FST_ERR_MAX_PARAM_LENGTH'
        ? { status: 400, message: 'Bad request: a part of the URL path is longer than 100 characters' }
        : { status: 500, message: 'Internal server error' }
  if (answer.status >= 500) request.log.error({ err: error }, 'request failed before routing')
  void reply.code(answer.status).header('x-request-id', request.id).send({ error: answer.message })
}

/**
 * Node answers an HTTP/1.1 request without a Host header with an empty 400 by itself; the service
 * turns that off (`requireHostHeader: false`) and answers it here instead, in its own shape. Runs
 * before authentication: without a Host there is no tenant to authenticate against.
 *
 * @example registerHostRequirement(app)
 */
export function registerHostRequirement(app: FastifyInstance): void {
  app.addHook('onRequest', async (request) => {
    if (request.raw.httpVersion !== '1.0' && request.headers.host === undefined)
      throw new AppError('bad_request', { message: 'Bad request: the Host header is required' })
  })
}

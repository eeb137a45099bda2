/**
 * Graceful drain at SIGTERM: answer every request that reached the server, then let go of the
 * connections. Why it is more than `server.close()`:
 * - Closing a listener resets every connection still waiting in the kernel's accept queue, and the
 *   client of such a connection has already seen it established (it sent its request). Node (libuv
 *   ≥ 1.45) accepts one connection per event-loop turn, so on a busy process a burst waits in that
 *   queue for a while; "no connection arrived lately" does not mean the queue is empty. The drain
 *   therefore sends a probe request through its own listener: the queue is first in, first out, so
 *   once the probe is answered every connection queued before it has been accepted (under
 *   `--workers`, by whichever worker took it).
 * - Node's http `close()` also drops "idle" connections, among them ones just accepted whose request
 *   is not read yet; only the listener is closed here.
 */
import { type Server as HttpServer, type IncomingMessage, request, type ServerResponse } from 'node:http'
import { Server as NetServer, type Socket } from 'node:net'

/** A connection that has not started a request for this long, with none in flight, is closed at shutdown. */
const IDLE_CONNECTION_MS = 1000
/** The listener closes once no connection has arrived for this long (load balancers stop sending). */
const QUIET_MS = 100
/** Whatever is still open after this long is closed anyway. */
const DRAIN_LIMIT_MS = 30_000
/** A probe not answered within this long is sent again (the process, or the machine, is very busy). */
const PROBE_TIMEOUT_MS = 5000

interface ConnectionState {
  inFlight: number
  lastAt: number
}

export type TrackedConnections = ReturnType<typeof trackConnections>

/** The server's open connections with their requests in flight, kept from the start for the drain. */
export function trackConnections(server: HttpServer) {
  const sockets = new Map<Socket, ConnectionState>()
  let lastConnectionAt = 0
  server.on('connection', (socket: Socket) => {
    lastConnectionAt = Date.now()
    sockets.set(socket, { inFlight: 0, lastAt: lastConnectionAt })
    socket.once('close', () => sockets.delete(socket))
  })
  server.on('request', (request: IncomingMessage, response: ServerResponse) => {
    const state = sockets.get(request.socket)
    if (state === undefined) return
    state.inFlight++
    state.lastAt = Date.now()
    // Finished (answer written) or closed (client gone), whichever comes first.
    let done = false
    const end = () => {
      if (done) return
      done = true
      state.inFlight--
      state.lastAt = Date.now()
    }
    response.once('finish', end)
    response.once('close', end)
  })
  return { sockets, lastConnectionAt: () => lastConnectionAt }
}

/**
 * 1. keeps accepting for `drainMs` (a load balancer's health check sees /readyz 503 and stops
 *    sending), then until no connection has arrived for QUIET_MS and a probe sent through the
 *    listener has been answered: everything queued before the probe has then been accepted;
 * 2. closes the listener only;
 * 3. waits for the requests in flight, each answered with `Connection: close`; a connection with no
 *    request in flight and none started for IDLE_CONNECTION_MS is closed (a keep-alive client's).
 * Resolves with the connections still busy at DRAIN_LIMIT_MS (the app's close then ends them).
 */
export async function drain(
  server: HttpServer,
  connections: TrackedConnections,
  drainMs: number,
): Promise<ConnectionState[]> {
  const started = Date.now()
  const withinLimit = () => Date.now() - started < DRAIN_LIMIT_MS
  await sleep(drainMs)
  for (;;) {
    while (Date.now() - connections.lastConnectionAt() < QUIET_MS && withinLimit()) await sleep(20)
    if (!withinLimit() || (await probeAnswered(server))) break
    await sleep(20)
  }
  // net.Server's close: stops accepting, leaves every open connection alone.
  await new Promise<void>((resolve) => netServerClose.call(server, () => resolve()))
  const { sockets } = connections
  while (sockets.size > 0 && withinLimit()) {
    const now = Date.now()
    for (const [socket, state] of sockets)
      if (state.inFlight === 0 && now - state.lastAt >= IDLE_CONNECTION_MS) socket.destroy()
    await sleep(20)
  }
  return [...sockets.values()]
}

/** True once a `GET /healthz` through the server's own listener has been answered (by any process). */
function probeAnswered(server: HttpServer): Promise<boolean> {
  const address = server.address()
  if (address === null || typeof address === 'string') return Promise.resolve(true)
  const loopback = address.family === 'IPv6' ? '::1' : '127.0.0.1'
  const host = unspecified.has(address.address) ? loopback : address.address
  return new Promise((resolve) => {
    const probe = request(
      { host, port: address.port, path: '/healthz', agent: false, timeout: PROBE_TIMEOUT_MS },
      (response) => {
        response.resume()
        response.once('end', () => resolve(true))
        response.once('error', () => resolve(false))
      },
    )
    probe.once('timeout', () => probe.destroy())
    probe.once('error', () => resolve(false))
    probe.end()
  })
}

const unspecified = new Set(['0.0.0.0', '::'])

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

const netServerClose = NetServer.prototype.close as (this: HttpServer, done: () => void) => void

/** Raw HTTP over a socket, for requests an HTTP client would refuse to send or would tidy up. */
import { connect } from 'node:net'

/**
 * Writes `text` on a new connection and resolves with everything the server sent until it closed.
 *
 * @example const answer = await exchange(port, 'GET /healthz HTTP/1.0\r\n\r\n')
 */
export function exchange(port: number, text: string, timeoutMs = 5000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(text))
    let received = ''
    socket.setEncoding('utf8')
    socket.on('data', (chunk: string) => {
      received += chunk
    })
    socket.on('error', () => {}) // a reset after the answer is fine: the answer is what is checked
    socket.on('close', () => resolve(received))
    setTimeout(() => {
      socket.destroy()
      reject(new Error(`no close within ${timeoutMs} ms; received: ${JSON.stringify(received)}`))
    }, timeoutMs).unref()
  })
}

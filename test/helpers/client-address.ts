/** Client addresses for app.inject: the failure limiter counts per address, so tests keep theirs apart. */

// Starts past 127.0.0.1, the address app.inject uses when none is given.
let counter = 1 << 16

/**
 * A loopback address no other call of this process got (127.0.0.0/8 has room for 16 million).
 *
 * @example await post(app, path, { host, auth, body, remoteAddress: uniqueAddress() })
 */
export function uniqueAddress(): string {
  counter += 1
  return `127.${(counter >> 16) & 255}.${(counter >> 8) & 255}.${counter & 255}`
}

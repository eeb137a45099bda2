/** Identifiers and secrets made by the service: time-ordered ids, unguessable tokens, hashes. */
import { createHash, randomBytes } from 'node:crypto'

let lastMillis = 0
let sequence = 0

/**
 * A time-ordered, URL-safe id such as `tkt_0mbz3k2a000a9f3kq1c7v2x8`: ids made later sort later
 * (within one process), so lists and comments read back in creation order without another column.
 *
 * @example newId('key') // 'key_0mbz3k2a0001h6w0d2c1m8qz'
 */
export function newId(prefix: string): string {
  const now = Date.now()
  sequence = now === lastMillis ? sequence + 1 : 0
  lastMillis = now
  const time = now.toString(36).padStart(9, '0')
  const seq = sequence.toString(36).padStart(4, '0')
  return `${prefix}_${time}${seq}${idSuffix()}`
}

const ID_ALPHABET = '0123456789abcdefghijklmnopqrstuvwxyz'

/** CSPRNG bytes for ids, drawn 4 KiB at a time: a `randomBytes` call per id cost more than the rest of a webhook's ids. */
let pool = Buffer.alloc(0)
let poolOffset = 0

/** 8 random lowercase base-36 characters: ids made by two processes in the same millisecond still differ. */
function idSuffix(): string {
  let out = ''
  while (out.length < 8) {
    if (poolOffset >= pool.length) {
      pool = randomBytes(4096)
      poolOffset = 0
    }
    const byte = pool[poolOffset++] ?? 255
    // 252 = 7 * 36: bytes above it are dropped so every character is equally likely.
    if (byte < 252) out += ID_ALPHABET[byte % 36]
  }
  return out
}

const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'

/** `length` characters of base62 from the system CSPRNG (about 5.95 bits each). */
export function randomToken(length: number): string {
  let out = ''
  while (out.length < length) {
    for (const byte of randomBytes(length * 2)) {
      // 248 = 4 * 62: bytes above it are dropped so every character is equally likely.
      if (byte < 248 && out.length < length) out += ALPHABET[byte % 62]
    }
  }
  return out
}

/** Hex SHA-256, the only form in which API keys and session tokens are stored. */
export function sha256(value: string): string {
  return createHash('sha256').update(value).digest('hex')
}

/** Masking of credential-like fields in stored bodies, for every read (management API, CLI, console). */

/** What a masked value reads as. */
export const MASKED = '********'

/**
 * Words that make a field name look like a secret, matched in the name lower-cased with `-`, `_`,
 * `.` and spaces removed, anywhere in it: `password`, `Client_Secret`, `X-Api-Key`, `refreshToken`,
 * `AUTHORIZATION`, `db.passwd`. Over-masking a harmless field is the safe mistake.
 */
const SECRET_WORDS = [
  'password',
  'passwd',
  'passphrase',
  'passcode',
  'pwd',
  'secret',
  'token',
  'apikey',
  'authorization',
  'credential',
  'privatekey',
  'cookie',
]

/**
 * True when a field of this name is masked.
 *
 * @example looksSecret('X-Api-Key') // true
 */
export function looksSecret(name: string): boolean {
  const squashed = name.toLowerCase().replace(/[-_.\s]/g, '')
  return SECRET_WORDS.some((word) => squashed.includes(word))
}

/**
 * A copy of `value` in which the value of every field that looks like a secret, at any depth
 * (inside arrays too), whatever its type, reads `********`. The original is left untouched: a
 * replay runs the body as it was received.
 *
 * @example maskSecrets({ user: 'a', auth: { Password: 'p' } }) // { user: 'a', auth: { Password: '********' } }
 */
export function maskSecrets(value: unknown): unknown {
  if (typeof value !== 'object' || value === null) return value
  if (Array.isArray(value)) return value.map(maskSecrets)
  // A null prototype: a stored field named `__proto__` stays a plain field of the copy.
  const out: Record<string, unknown> = Object.create(null)
  for (const [key, item] of Object.entries(value)) out[key] = looksSecret(key) ? MASKED : maskSecrets(item)
  return out
}

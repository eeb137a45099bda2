/** Encrypts connector secrets (Zendesk tokens, Paylocity client secrets) at rest with AES-256-GCM. */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname } from 'node:path'

const PREFIX = 'enc:v1:'

export interface SecretBox {
  encrypt(plain: string): string
  decrypt(sealed: string): string
}

/**
 * A box keyed by `key` (any string of high entropy: it is hashed to 32 bytes).
 *
 * @example const box = secretBox(process.env.OPTIMALCLOUD_SECRET_KEY ?? '')
 */
export function secretBox(key: string): SecretBox {
  const keyBytes = createHash('sha256').update(key).digest()
  return {
    encrypt(plain) {
      const iv = randomBytes(12)
      const cipher = createCipheriv('aes-256-gcm', keyBytes, iv)
      const data = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()])
      return PREFIX + Buffer.concat([iv, cipher.getAuthTag(), data]).toString('base64url')
    },
    decrypt(sealed) {
      if (!sealed.startsWith(PREFIX)) throw new Error('Not an encrypted value')
      const raw = Buffer.from(sealed.slice(PREFIX.length), 'base64url')
      const decipher = createDecipheriv('aes-256-gcm', keyBytes, raw.subarray(0, 12))
      decipher.setAuthTag(raw.subarray(12, 28))
      return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8')
    },
  }
}

/**
 * A fresh secret key: 32 random bytes, base64url (43 characters).
 *
 * @example process.stdout.write(`${generateSecretKey()}\n`)
 */
export function generateSecretKey(): string {
  return randomBytes(32).toString('base64url')
}

/**
 * The key from OPTIMALCLOUD_SECRET_KEY, or for the embedded default a key generated once into
 * the data folder (mode 0600) beside the database file.
 */
export function loadSecretKey(envKey: string | undefined, keyFile: string | null): string {
  if (envKey !== undefined && envKey !== '') return envKey
  if (keyFile === null)
    throw new Error(
      'OPTIMALCLOUD_SECRET_KEY must be set when the database is not a local file: it encrypts connector secrets. ' +
        'Make one with `optimalcloud secret-key generate`, keep it in your secret store, and give every instance the same one.',
    )
  if (!existsSync(keyFile)) {
    mkdirSync(dirname(keyFile), { recursive: true })
    try {
      writeFileSync(keyFile, generateSecretKey(), { mode: 0o600, flag: 'wx' })
    } catch (error) {
      // Another process (the CLI beside the server) made it first: use theirs.
      if ((error as { code?: string }).code !== 'EEXIST') throw error
    }
  }
  return readFileSync(keyFile, 'utf8').trim()
}

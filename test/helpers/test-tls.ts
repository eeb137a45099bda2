/** The test-only certificate for `example.test` and `*.example.test`, so local fakes can speak https. */
import { readFileSync } from 'node:fs'

const dir = new URL('../fixtures/tls/', import.meta.url)

/**
 * The key and certificate a local https fake serves; the certificate is also what a test's outbound
 * policy trusts (`ca`). Self-signed, valid until 2126, never trusted outside tests.
 *
 * @example const fake = await startFakeZendesk({ tls: testTls() })
 */
export function testTls(): { key: string; cert: string } {
  return {
    key: readFileSync(new URL('test-only-key.pem', dir), 'utf8'),
    cert: readFileSync(new URL('test-only-cert.pem', dir), 'utf8'),
  }
}

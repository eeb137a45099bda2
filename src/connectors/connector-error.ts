/** The failure of a call to another system: what kind, the HTTP status if any, and a message safe to log. */

/**
 * `message` says why, for the delivery log; the clients that throw it make sure it never holds a
 * token, secret or Authorization header.
 */
export class ConnectorError<Kind extends string> extends Error {
  readonly kind: Kind
  readonly status: number | undefined

  constructor(kind: Kind, message: string, status?: number) {
    super(message)
    this.name = new.target.name
    this.kind = kind
    this.status = status
  }
}

/** Counts failed authentications per client address and shuts out an address that fails too often. */

/**
 * More than `limit` failures within a minute from one address blocks it until a minute has passed
 * since the oldest of those failures. Hand-written because rate-limit libraries count every
 * request: here only failures count, so a busy helpdesk behind one address is never slowed.
 * Per process: each instance counts its own (document: a load balancer spreads an attacker over them).
 */
export class FailureLimiter {
  private readonly failures = new Map<string, number[]>()

  constructor(
    private readonly limit = 30,
    private readonly windowMs = 60_000,
    private readonly now: () => number = Date.now,
  ) {}

  isBlocked(address: string): boolean {
    const times = this.recent(address)
    return times !== undefined && times.length > this.limit
  }

  recordFailure(address: string): void {
    const times = this.recent(address) ?? []
    times.push(this.now())
    // Keep one more than the limit: that is all the rule looks at.
    if (times.length > this.limit + 1) times.shift()
    this.failures.set(address, times)
    if (this.failures.size > 100_000) this.prune()
  }

  private recent(address: string): number[] | undefined {
    const times = this.failures.get(address)
    if (times === undefined) return undefined
    const cutoff = this.now() - this.windowMs
    while (times.length > 0 && (times[0] ?? 0) <= cutoff) times.shift()
    if (times.length === 0) {
      this.failures.delete(address)
      return undefined
    }
    return times
  }

  private prune(): void {
    for (const address of [...this.failures.keys()]) this.recent(address)
  }
}

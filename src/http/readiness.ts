/** GET /readyz: ready when the database takes writes, probed at most about once a second whatever the request rate. */
import type { Database } from '../storage/database.js'

/**
 * The answer of /readyz. A probe (database.probeWrite: a committed write) runs at most once per
 * `minIntervalMs`; callers in between share the last result, and concurrent callers share one
 * probe. A write of a request that failed because the database could not be written since the last
 * probe makes the answer "not ready" at once, without waiting for the next probe. After any
 * failure, the next probe is thorough (on SQLite: the database must also be able to grow), and the
 * answer stays "not ready" until a probe succeeds: the service recovers without a restart.
 *
 * @example const readiness = new Readiness(database); if (!(await readiness.isReady())) reply.code(503)
 */
export class Readiness {
  private ready = true
  private probedAt = Number.NEGATIVE_INFINITY
  private inFlight: Promise<boolean> | undefined

  constructor(
    private readonly database: Database,
    private readonly minIntervalMs = 1000,
    private readonly now: () => number = Date.now,
  ) {}

  async isReady(): Promise<boolean> {
    const failedAt = this.database.lastStorageFailureAt()
    const failedSince = failedAt > 0 && failedAt >= this.probedAt
    if (this.now() - this.probedAt < this.minIntervalMs) return this.ready && !failedSince
    this.inFlight ??= this.probe(!this.ready || failedSince).finally(() => {
      this.inFlight = undefined
    })
    return this.inFlight
  }

  private async probe(thorough: boolean): Promise<boolean> {
    const startedAt = this.now()
    try {
      await this.database.probeWrite(thorough)
      this.ready = true
    } catch {
      this.ready = false
    }
    this.probedAt = startedAt
    return this.ready
  }
}

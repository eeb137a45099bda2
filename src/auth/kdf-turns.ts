/** Takes turns at the KDF per client address, so one address's guesses cannot fill libuv's thread pool. */

/** KDF runs one address may have at once; libuv's pool has 4 threads by default. */
export const KDF_RUNS_PER_ADDRESS = 2

interface Line {
  running: number
  waiting: Array<() => void>
}

/**
 * Runs `work` when `key` has fewer than `limit` runs going, else after its earlier ones (first come,
 * first served). The 30 checks an address may have in a minute then queue behind each other instead of
 * in front of everybody else's sign-in.
 *
 * @example const matches = await turns.run(request.ip, () => verifyPassword(password, stored))
 */
export class KdfTurns {
  private readonly lines = new Map<string, Line>()

  constructor(private readonly limit = KDF_RUNS_PER_ADDRESS) {}

  async run<T>(key: string, work: () => Promise<T>): Promise<T> {
    let line = this.lines.get(key)
    if (line === undefined) {
      line = { running: 0, waiting: [] }
      this.lines.set(key, line)
    }
    if (line.running >= this.limit) {
      const queue = line.waiting
      await new Promise<void>((resolve) => queue.push(resolve))
    } else line.running += 1
    try {
      return await work()
    } finally {
      const next = line.waiting.shift()
      // The turn passes on to the next in line (running stays the same), or is given back.
      if (next !== undefined) next()
      else if (--line.running === 0) this.lines.delete(key)
    }
  }
}

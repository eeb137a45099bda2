/** Where the service's log lines go: a file descriptor (stdout) that is written without ever blocking or crashing the service. */
import { write as fsWrite, writeSync } from 'node:fs'

export interface LogDestinationOptions {
  /** Lines waiting to be written are kept up to this many bytes; further lines are dropped. Default 4 MiB. */
  maxQueuedBytes?: number
  /** After a failed write (disk full, closed pipe), how long before the next attempt. Default 1 s. */
  retryAfterMs?: number
}

/** How much one write hands to the kernel at most. */
const MAX_CHUNK = 64 * 1024

/**
 * A pino destination for a file descriptor. Lines are queued and written asynchronously (one write
 * at a time, on libuv's thread pool), so a slow, blocked or full stdout never stalls the event
 * loop: `/healthz` and the webhooks keep answering. When the queue is full, or a write fails
 * (ENOSPC on a full disk, EPIPE, EIO...), the lines concerned are dropped and counted; a failure
 * never throws or emits an unhandled error, so it never ends the process. Writing resumes by
 * itself when the destination takes writes again. pino's own destination (sonic-boom) keeps a
 * failed chunk and retries it with every new line, and throws on exit, which is what this avoids.
 *
 * @example const destination = new LogDestination(1); pino({}, destination); destination.dropped // 0
 */
export class LogDestination {
  /** Lines never written: the queue was full, or their write failed. */
  dropped = 0
  /** Writes that failed (each drops the lines it carried). */
  failedWrites = 0

  private queue: string[] = []
  private queuedBytes = 0
  private writing = false
  private pausedUntil = 0
  private retryTimer: NodeJS.Timeout | undefined
  private readonly maxQueuedBytes: number
  private readonly retryAfterMs: number

  constructor(
    private readonly fd: number,
    options: LogDestinationOptions = {},
  ) {
    this.maxQueuedBytes = options.maxQueuedBytes ?? 4 * 1024 * 1024
    this.retryAfterMs = options.retryAfterMs ?? 1000
  }

  /** Called by pino with one serialised line (newline included). Never throws. */
  write(line: string): boolean {
    const size = Buffer.byteLength(line)
    if (this.queuedBytes + size > this.maxQueuedBytes) {
      this.dropped += 1
      return false
    }
    this.queue.push(line)
    this.queuedBytes += size
    this.flush()
    return true
  }

  /**
   * Writes what is queued, synchronously, one attempt per chunk (at exit, when nothing asynchronous
   * will run again; a write already in flight may then land after these lines). Never throws.
   */
  flushSync(): void {
    while (this.queue.length > 0) {
      const lines = this.take()
      try {
        writeSync(this.fd, lines.text)
      } catch {
        this.failedWrites += 1
        this.dropped += lines.count + this.queue.length
        this.queue = []
        this.queuedBytes = 0
      }
    }
  }

  private flush(): void {
    if (this.writing || this.queue.length === 0) return
    const wait = this.pausedUntil - Date.now()
    if (wait > 0) {
      this.retryTimer ??= setTimeout(() => {
        this.retryTimer = undefined
        this.flush()
      }, wait).unref()
      return
    }
    this.writing = true
    const lines = this.take()
    this.send(Buffer.from(lines.text), lines.count)
  }

  /** Lines from the head of the queue, up to MAX_CHUNK bytes (at least one line). */
  private take(): { text: string; count: number } {
    let text = ''
    let count = 0
    while (this.queue.length > 0) {
      const line = this.queue[0] ?? ''
      if (count > 0 && text.length + line.length > MAX_CHUNK) break
      this.queue.shift()
      this.queuedBytes -= Buffer.byteLength(line)
      text += line
      count += 1
    }
    return { text, count }
  }

  private send(chunk: Buffer, count: number): void {
    fsWrite(this.fd, chunk, 0, chunk.length, null, (error, written) => {
      if (error !== null) {
        if (error.code === 'EAGAIN') {
          // A non-blocking pipe whose reader is behind: try the same chunk again shortly.
          setTimeout(() => this.send(chunk, count), 20).unref()
          return
        }
        this.failedWrites += 1
        this.dropped += count
        this.pausedUntil = Date.now() + this.retryAfterMs
        this.writing = false
        this.flush()
        return
      }
      if (written < chunk.length) {
        this.send(chunk.subarray(written), count)
        return
      }
      this.writing = false
      this.flush()
    })
  }
}

let stdout: LogDestination | undefined

/**
 * The process's one destination for stdout (several apps in one process share it), flushed as far
 * as it can be when the process exits.
 *
 * @example Fastify({ logger: { stream: stdoutDestination() } })
 */
export function stdoutDestination(): LogDestination {
  if (stdout === undefined) {
    const destination = new LogDestination(1)
    process.once('exit', () => destination.flushSync())
    stdout = destination
  }
  return stdout
}

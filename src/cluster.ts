/**
 * `serve --workers N`: N server processes sharing one port (node:cluster), on PostgreSQL.
 *
 * The primary brings the schema up to date once, runs the retention sweeper (one for all workers, not
 * one each), forks, watches and forwards signals; each worker is a `serve` without those two (its own
 * pool, caches and ticket-number blocks). SQLite is refused: a file has one writer, and one process
 * with group commit already uses it fully; several would queue on its lock.
 */
import cluster, { type Worker } from 'node:cluster'
import type { Config } from './config.js'
import { AppError } from './errors.js'
import { RetentionSweeper, retentionRules } from './retention/sweeper.js'
import { openDatabase } from './storage/database.js'
import { migrateToLatest } from './storage/migrate.js'

/** The number of workers asked for, checked: 1 to 64, and 1 on SQLite. */
export function checkWorkers(value: string, databaseUrl: string): number {
  const workers = Number(value)
  if (!Number.isInteger(workers) || workers < 1 || workers > 64)
    throw new AppError('bad_request', { message: '--workers must be 1-64' })
  if (workers > 1 && databaseUrl.startsWith('sqlite:'))
    throw new AppError('bad_request', {
      message:
        '--workers > 1 needs PostgreSQL: a SQLite database has one writer, which one process already keeps busy (run one process, or use OPTIMALCLOUD_DATABASE_URL=postgres://…)',
    })
  return workers
}

/** True in a process that cluster.fork() started. */
export function isClusterWorker(): boolean {
  return cluster.isWorker
}

/**
 * Runs the primary: forks `workers` processes that each run `serve`, forwards SIGTERM/SIGINT to them
 * (each drains, see server.ts) and exits once all have: 0 when every one stopped cleanly. A worker
 * that dies on its own is replaced, unless it died before listening (a port in use, a bad
 * configuration): then the others are stopped and the primary fails too.
 */
export async function runPrimary(config: Config, workers: number): Promise<void> {
  const database = openDatabase(config.databaseUrl, { pgSchema: config.pgSchema })
  try {
    await migrateToLatest(database)
    const sweeper = new RetentionSweeper(database, retentionRules(config), (message, deleted) =>
      process.stdout.write(
        `${JSON.stringify({ level: 30, time: Date.now(), pid: process.pid, deleted, msg: message })}\n`,
      ),
    )
    sweeper.start()
    await runWorkers(workers)
    await sweeper.stop()
  } finally {
    await database.close()
  }
}

function runWorkers(workers: number): Promise<void> {
  return new Promise((resolve) => {
    let stopping: NodeJS.Signals | null = null
    let failed = false
    const listening = new WeakSet<Worker>()
    const stopAll = (signal: NodeJS.Signals) => {
      stopping = signal
      for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill(signal)
    }
    const start = () => {
      const worker = cluster.fork()
      worker.once('listening', () => listening.add(worker))
    }
    cluster.on('exit', (worker, code, signal) => {
      // A worker still starting when the signal came has no handler for it yet and ends by the signal
      // itself; it had accepted nothing, so that is a clean stop too.
      const clean =
        (code === 0 && signal === null) ||
        (stopping !== null && signal === stopping && !listening.has(worker))
      if (stopping === null && listening.has(worker)) {
        process.stderr.write(`worker ${worker.process.pid} ended (${signal ?? code}): starting another\n`)
        start()
        return
      }
      if (!clean) failed = true
      if (stopping === null) stopAll('SIGTERM')
      if (Object.keys(cluster.workers ?? {}).length === 0) {
        process.exitCode = failed ? 1 : 0
        resolve()
      }
    })
    process.once('SIGTERM', () => stopAll('SIGTERM'))
    process.once('SIGINT', () => stopAll('SIGINT'))
    // Every worker accepts from the one listening socket (SCHED_NONE) instead of the primary accepting
    // and handing each connection over (round robin): a handed-over connection waits in the primary,
    // where a draining worker cannot see it, and whatever still waits there when the last worker stops
    // listening is reset. In the kernel's queue a draining worker sees it (http/drain.ts), and since
    // libuv accepts one connection per event-loop turn, a busy worker takes fewer of them.
    cluster.schedulingPolicy = cluster.SCHED_NONE
    for (let i = 0; i < workers; i++) start()
  })
}

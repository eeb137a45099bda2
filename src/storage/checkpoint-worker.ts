/**
 * SQLite WAL checkpoints on a worker thread, so the event loop never runs one.
 *
 * By default the connection that commits runs a checkpoint once the WAL passes a size: with group
 * commit that is the request path, and a checkpoint of tens of MiB (copy the pages into the database
 * file, fsync it) stalled every request waiting on the event loop for as long: the p99 and max latency
 * under load were mostly checkpoints. So the service's connections run with `wal_autocheckpoint = 0`
 * and this thread, with a connection of its own, checkpoints instead:
 *
 * - PASSIVE after each turn with writes, once the WAL file has reached CHECKPOINT_AT_BYTES: it copies
 *   what no reader still needs and never waits for, nor blocks, the writer; the writer starts the WAL
 *   over from its beginning once a checkpoint has copied all of it, so the file stays that size;
 * - RESTART when PASSIVE cannot catch up with the writes and the file reaches twice that size: the
 *   writer waits while the last frames are copied (a short stall, the price of a bounded WAL);
 * - TRUNCATE once writes have stopped for IDLE_MS: the WAL file shrinks back to nothing.
 *
 * RESTART and TRUNCATE hold the write lock while they run. A writer that begins meanwhile would wait in
 * SQLite's busy handler, which sleeps the whole thread, event loop included, in steps of 1, 2, 5 ms
 * (a RESTART of 1.2 ms could cost the server 3 ms, 1 then 2 ms of sleep, with no request read meanwhile).
 * Under load 1.5 % of batches began that way, 1-8.6 ms each. So the thread raises a flag
 * in shared memory for as long as it holds the lock, and `writerHeld` lets the writer wait for it with
 * the event loop free; the requests that arrive meanwhile join its next batch.
 *
 * Commits are as durable as before: a commit is in the WAL (synced with synchronous=FULL) before it is
 * acknowledged, whoever checkpoints it later. If the thread dies, `onFailure` lets the owner turn
 * automatic checkpoints back on.
 */
import { createRequire } from 'node:module'
import { Worker } from 'node:worker_threads'

/** PASSIVE checkpoints start once the WAL file is this large (before that, SQLite's WAL just grows). */
export const CHECKPOINT_AT_BYTES = 16 * 1024 * 1024
/** How often the thread looks for writes. */
const POLL_MS = 100
/** No writes for this long: the WAL is truncated. */
const IDLE_MS = 1000
/**
 * The longest the writer waits on the flag before it tries BEGIN anyway (and SQLite's busy handler waits
 * the rest): a RESTART that waits for a long reader, or a thread that died holding the flag, cannot
 * stall writes past it.
 */
const HELD_WAIT_MS = 1000

/** The thread's code: CommonJS run with `eval`, so it needs no file of its own next to the compiled or the tsx-run source. */
const THREAD = `
const { parentPort, workerData } = require('node:worker_threads')
const { statSync } = require('node:fs')
const Database = require(workerData.driver)
const db = new Database(workerData.path)
// 1 while a checkpoint that holds the write lock runs (see writerHeld).
const holding = workerData.holding
db.pragma('busy_timeout = 5000')
db.pragma('synchronous = ' + workerData.synchronous)
db.pragma('wal_autocheckpoint = 0')
parentPort.postMessage({ type: 'ready' })
const walSize = () => { try { return statSync(workerData.path + '-wal').size } catch { return 0 } }
// Changes whenever another connection commits: how the thread sees writes (the WAL file's size does
// not change once the writer starts it over from the beginning).
const dataVersion = () => db.pragma('data_version', { simple: true })
let version = dataVersion()
let lastChange = Date.now()
let truncated = walSize() === 0
const checkpoint = (mode) => {
  const holds = mode !== 'PASSIVE'
  if (holds) Atomics.store(holding, 0, 1)
  try {
    const [result] = db.pragma('wal_checkpoint(' + mode + ')')
    parentPort.postMessage({ type: 'checkpoint', mode: mode.toLowerCase() })
    return result
  } finally {
    if (holds) {
      Atomics.store(holding, 0, 0)
      Atomics.notify(holding, 0)
    }
  }
}
const timer = setInterval(() => {
  try {
    const now = dataVersion()
    if (now !== version) {
      version = now
      lastChange = Date.now()
      truncated = false
      if (walSize() < workerData.checkpointAt) return
      // A checkpoint copies the frames there were when it began; the writer starts the WAL over only
      // once all of them are copied. Writes keep coming, so a few quick rounds catch up with them.
      checkpoint('PASSIVE')
      // A checkpoint copies the frames there were when it began, and the writer starts the WAL over
      // (and cuts the file back to journal_size_limit) only when a transaction begins with all of them
      // copied. Under steady writes that moment may not come: RESTART then makes the writer wait for
      // the few frames PASSIVE left, and the WAL starts over. A short stall, the price of the bound.
      if (walSize() >= workerData.checkpointAt * 2) checkpoint('RESTART')
    } else if (!truncated && Date.now() - lastChange >= workerData.idleMs) {
      if (walSize() > 0) checkpoint('TRUNCATE')
      truncated = true
    }
  } catch (error) {
    // SQLITE_BUSY: a writer or a reader is in the way; the next turn tries again.
    if (!String(error && error.code).startsWith('SQLITE_BUSY')) throw error
  }
}, workerData.pollMs)
parentPort.on('message', (message) => {
  if (message !== 'stop') return
  clearInterval(timer)
  db.close()
  parentPort.close()
})
`

export interface CheckpointWorker {
  /** Stops the thread and closes its connection. */
  stop(): Promise<void>
  /**
   * Null when no checkpoint holds the write lock; else a promise that settles when it lets go (or after
   * HELD_WAIT_MS at most). The writer awaits it before BEGIN instead of sleeping in the busy handler.
   */
  writerHeld(): Promise<unknown> | null
  /** Checkpoints run so far, by mode (for tests and diagnostics). */
  readonly counts: { passive: number; restart: number; truncate: number }
}

/**
 * Starts the checkpoint thread for the SQLite file at `path`.
 *
 * @example const worker = startCheckpointWorker('./data/x.db', 'NORMAL', () => writer.pragma('wal_autocheckpoint = 1000'))
 */
export function startCheckpointWorker(
  path: string,
  synchronous: 'NORMAL' | 'FULL',
  onFailure: (error: unknown) => void,
  checkpointAt = CHECKPOINT_AT_BYTES,
): CheckpointWorker {
  const driver = createRequire(import.meta.url).resolve('better-sqlite3')
  const holding = new Int32Array(new SharedArrayBuffer(4))
  const worker = new Worker(THREAD, {
    eval: true,
    workerData: { driver, path, synchronous, checkpointAt, pollMs: POLL_MS, idleMs: IDLE_MS, holding },
    // The thread needs none of the parent's loaders (tsx); it is plain CommonJS.
    execArgv: [],
  })
  // Never what keeps the process alive.
  worker.unref()
  const counts = { passive: 0, restart: 0, truncate: 0 }
  let stopping = false
  let ready = false
  worker.on('message', (message: { type?: string; mode?: 'passive' | 'truncate' | 'restart' }) => {
    if (message.type === 'ready') ready = true
    if (message.type === 'checkpoint' && message.mode !== undefined && message.mode in counts)
      counts[message.mode]++
  })
  worker.on('error', (error) => {
    if (!stopping) onFailure(error)
  })
  const exited = new Promise<void>((resolve) =>
    worker.once('exit', () => {
      // A thread ended mid-checkpoint holds no lock any more; nobody may wait on its flag.
      Atomics.store(holding, 0, 0)
      Atomics.notify(holding, 0)
      resolve()
    }),
  )
  return {
    counts,
    writerHeld() {
      if (Atomics.load(holding, 0) === 0) return null
      const wait = Atomics.waitAsync(holding, 0, 1, HELD_WAIT_MS)
      return wait.async ? wait.value : null
    },
    async stop() {
      stopping = true
      // Still starting (loading the driver takes a while on a busy machine): it has checkpointed
      // nothing and holds no lock, so it is ended at once rather than waited for.
      if (!ready) {
        await worker.terminate()
        return
      }
      // Unreferenced, the thread's exit would not keep the loop alive for this wait.
      worker.ref()
      worker.postMessage('stop')
      await exited
    },
  }
}

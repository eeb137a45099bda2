/**
 * How far the server lets V8's old generation grow before its next full collection.
 *
 * Under load a webhook promotes a little garbage into the old generation (objects alive across two
 * young collections). By default V8 lets that space grow to about 3.5 times what the last full
 * collection found live: under the bench's createticket load on SQLite, 31 MB live let the heap reach
 * 110 MB and the process 222-239 MiB resident (PostgreSQL: 196-199 MiB). Limited to twice the live
 * size, the same loads stayed at 182-186 MiB (PostgreSQL: 152-155 MiB) with the same CPU time a
 * request and the same p99 (the full collections are mostly concurrent and incremental). At 1.5 times,
 * memory fell further (166-169 MiB) but PostgreSQL's CPU time a request rose by several percent and the
 * p99 by 3-5 ms. The server's memory is what an operator sizes a container by.
 */
import { setFlagsFromString } from 'node:v8'

/** The old generation may grow to (1 + this/100) × its live size before the next full collection. */
export const HEAP_GROWING_PERCENT = 100

/** For the long-running server process (`serve`, each of its workers); V8 applies it from the next collection. */
export function limitHeapGrowth(): void {
  setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`)
}

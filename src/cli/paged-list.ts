/**
 * Paging of the CLI's list commands: `--limit N` (1..1000, default 100), `--cursor C` and `--all`.
 * Without `--all`, one page is printed and, when more remain, a line on stderr gives the `--cursor`
 * that continues, so a list never cuts silently and stdout stays the rows alone.
 */
import type { Command } from 'commander'
import { MAX_LIMIT, type Page, type PageRequest, readPageRequest } from '../lists/paging.js'

export interface PageOptions {
  limit?: string
  cursor?: string
  all?: boolean
}

/** Adds `--limit`, `--cursor` and `--all` to a list command. */
export function pageFlags(command: Command): Command {
  return command
    .option('--limit <n>', 'rows per page, 1 to 1000 (default 100)')
    .option('--cursor <cursor>', 'start where the previous page ended (the cursor it printed on stderr)')
    .option('--all', 'every row, a page at a time (pages of --limit rows, 1000 when not given)')
}

/**
 * The rows the flags ask for: one page, or with `--all` every page from `--cursor` (or the start) on.
 * `400` for a bad limit or cursor, before any read.
 *
 * @example const rows = await readPages(opts, (page) => pageUsers(db, tenantId, {}, page))
 */
export async function readPages<T>(
  options: PageOptions,
  fetch: (request: PageRequest) => Promise<Page<T>>,
  write: (line: string) => void = (line) => process.stderr.write(line),
): Promise<T[]> {
  const all = options.all === true
  let request = readPageRequest({
    limit: options.limit ?? (all ? String(MAX_LIMIT) : undefined),
    cursor: options.cursor,
  })
  const rows: T[] = []
  for (;;) {
    const page = await fetch(request)
    rows.push(...page.items)
    if (page.next === null) return rows
    if (!all) {
      write(`More rows remain: run again with --cursor ${page.next} (or --all for every row)\n`)
      return rows
    }
    request = readPageRequest({ limit: request.limit, cursor: page.next })
  }
}

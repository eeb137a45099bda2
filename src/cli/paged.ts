/** `--limit N`, `--cursor C` and `--all` of the CLI's paged lists; stderr says when more remain. */
import type { Command } from 'commander'
import { type Page, type PageRequest, readPageRequest } from '../lists/paging.js'

export interface PageOptions {
  limit?: string
  cursor?: string
  all?: boolean
}

/** Adds the paging flags to a list command. */
export function pagedFlags(command: Command): Command {
  return command
    .option('--limit <n>', 'how many (1 to 1000, default 100)')
    .option('--cursor <cursor>', 'where the previous page ended (printed on stderr)')
    .option('--all', 'every page')
}

/**
 * One page (or, with `--all`, every page) of a list; when more remain, says so on stderr with the
 * flag that reads on, so stdout stays the JSON array.
 *
 * @example const rows = await readPages(opts, (request) => listHeldChanges(db, tenantId, request))
 */
export async function readPages<T>(
  options: PageOptions,
  fetch: (request: PageRequest) => Promise<Page<T>>,
): Promise<T[]> {
  let request = readPageRequest({ limit: options.limit, cursor: options.cursor })
  const items: T[] = []
  for (;;) {
    const page = await fetch(request)
    items.push(...page.items)
    if (page.next === null) return items
    if (options.all !== true) {
      process.stderr.write(`More remain: add --cursor ${page.next} (or --all)\n`)
      return items
    }
    request = readPageRequest({ limit: request.limit, cursor: page.next })
  }
}

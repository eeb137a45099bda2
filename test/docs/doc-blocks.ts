/**
 * The shell blocks of a Markdown page, as a reader pastes them, and the answers they say to expect.
 *
 * Conventions (for writers in docs/architecture.md, "Tested docs"):
 * - every ```sh or ```bash block runs, in page order, in one shell session per page;
 * - `<!-- not-tested: why -->` on the line before a block skips it (the reason is shown in the test output);
 * - a comment line `# 201 {"ticket":1}` in a block is the expected answer of the block's curl calls, in order
 *   (status, then the body, where `…` stands for anything; a trailing `(…)` remark is prose). A block without
 *   such lines expects every curl call to answer 2xx.
 */
import { readFileSync } from 'node:fs'

export interface DocBlock {
  page: string
  /** 1-based, among the page's shell blocks. */
  index: number
  /** The line of the opening fence. */
  line: number
  code: string
  /** Why the block is not run, from `<!-- not-tested: why -->`; undefined when it runs. */
  skip?: string
  expected: ExpectedAnswer[]
}

export interface ExpectedAnswer {
  status: number
  /** The body as written, `…` for anything; empty when only the status is given. */
  body: string
}

/** A fence may be indented (a block inside a list item); its lines then carry the same indent. */
const FENCE = /^(\s*)```(sh|bash)\s*$/
const NOT_TESTED = /^<!--\s*not-tested:\s*(.+?)\s*-->\s*$/
const EXPECTATION = /^#\s+(\d{3})(?:\s+(.*))?$/

export function shellBlocks(page: string, text = readFileSync(page, 'utf8')): DocBlock[] {
  const lines = text.split('\n')
  const blocks: DocBlock[] = []
  for (let i = 0; i < lines.length; i++) {
    const fence = FENCE.exec(lines[i] ?? '')
    if (fence === null) continue
    const indent = fence[1] ?? ''
    const start = i
    const body: string[] = []
    for (i += 1; i < lines.length && !(lines[i] ?? '').trim().startsWith('```'); i++) {
      const line = lines[i] ?? ''
      body.push(line.startsWith(indent) ? line.slice(indent.length) : line.trimStart())
    }
    let previous = start - 1
    while (previous >= 0 && (lines[previous] ?? '').trim() === '') previous -= 1
    const skip = NOT_TESTED.exec((lines[previous] ?? '').trim())?.[1]
    blocks.push({
      page,
      index: blocks.length + 1,
      line: start + 1,
      code: body.join('\n'),
      ...(skip === undefined ? {} : { skip }),
      expected: body.flatMap((line) => {
        const match = EXPECTATION.exec(line.trim())
        return match === null ? [] : [{ status: Number(match[1]), body: bodyOf(match[2] ?? '') }]
      }),
    })
  }
  return blocks
}

/** `{"error":"x"} (the email is taken)` → `{"error":"x"}`: a remark in parentheses after the JSON is prose. */
function bodyOf(text: string): string {
  const remark = /^([[{].*[\]}])\s+\(.*\)$/.exec(text.trim())
  return (remark?.[1] ?? text).trim()
}

/** Whether an answer's body is what the doc shows: `…` matches anything, the rest literally. */
export function bodyMatches(expected: string, actual: string): boolean {
  if (expected === '') return true
  const pattern = expected
    .split('…')
    .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
    .join('[\\s\\S]*')
  return new RegExp(`^${pattern}$`).test(actual.trim())
}

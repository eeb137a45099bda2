/** How the docs test reads a page: which blocks run, which are skipped, and what answers they expect. */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { bodyMatches, shellBlocks } from './doc-blocks.js'

const PAGE = [
  '# A page',
  '```sh',
  'npx optimalcloud tenant create acme',
  '```',
  '',
  '<!-- not-tested: needs a ServiceNow instance -->',
  '```bash',
  'echo skipped',
  '```',
  '',
  '1. In a list:',
  '',
  '   ```sh',
  '   curl -s http://acme.localhost:8080/x \\',
  '     -d "{}"',
  '   # 400 {"error":"x is a required field"} (the remark is prose)',
  '   # 201 {"ticket":…}',
  '   ```',
  '```json',
  '{"not":"shell"}',
  '```',
].join('\n')

describe('doc blocks', () => {
  it('finds sh and bash blocks, indented ones too, skips the marked one with its reason', () => {
    const blocks = shellBlocks('page.md', PAGE)
    assert.deepEqual(
      blocks.map((b) => [b.index, b.line, b.skip]),
      [
        [1, 2, undefined],
        [2, 7, 'needs a ServiceNow instance'],
        [3, 13, undefined],
      ],
    )
    assert.equal(blocks[2]?.code.split('\n')[1], '  -d "{}"')
  })

  it('reads the expected answers in order, without the trailing remark', () => {
    const [, , listed] = shellBlocks('page.md', PAGE)
    assert.deepEqual(listed?.expected, [
      { status: 400, body: '{"error":"x is a required field"}' },
      { status: 201, body: '{"ticket":…}' },
    ])
    assert.deepEqual(shellBlocks('page.md', PAGE)[0]?.expected, [])
  })

  it('matches bodies literally, with … for anything', () => {
    assert.ok(bodyMatches('{"ticket":…}', '{"ticket":12}\n'))
    assert.ok(bodyMatches('', 'anything'))
    assert.ok(bodyMatches('[{"id":"dlv_…",…}]', '[{"id":"dlv_1","status":400}]'))
    assert.ok(!bodyMatches('{"ticket":1}', '{"ticket":12}'))
    assert.ok(!bodyMatches('{"error":"a.b"}', '{"error":"aXb"}'))
  })
})

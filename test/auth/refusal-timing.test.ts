/** Nobody learns which tenants exist from timing: refusing an unknown tenant costs what refusing a known one with bad credentials costs. */
import assert from 'node:assert/strict'
import { it } from 'node:test'
import { uniqueAddress } from '../helpers/client-address.js'
import { onEachDatabase } from '../helpers/suite.js'
import { post, TICKETS } from '../helpers/test-app.js'

const PATH = `${TICKETS}/createticket`
const CALLS = 400

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)] ?? 0
}

onEachDatabase('refusal timing', { tenants: ['acme'] }, (s) => {
  /** Milliseconds from the request to the 401, each from an address of its own (no limit interferes). */
  const time = async (host: string, auth: string | undefined): Promise<number> => {
    const start = process.hrtime.bigint()
    const res = await post(s.app, PATH, {
      host,
      ...(auth === undefined ? {} : { auth }),
      body: { title: 'T' },
      remoteAddress: uniqueAddress(),
    })
    const ms = Number(process.hrtime.bigint() - start) / 1e6
    assert.equal(res.statusCode, 401)
    return ms
  }

  for (const [name, auth] of [
    ['an unknown key', `Bearer oc_${'T'.repeat(43)}`],
    ['no Authorization header', undefined],
  ] as const) {
    it(`${name}: an unknown tenant's median is within 25 % or 0.3 ms of a known tenant's`, async (t) => {
      const known: number[] = []
      const unknown: number[] = []
      const differences: number[] = []
      for (let i = 0; i < 20; i++) {
        await time(s.acme.host, auth)
        await time('nosuch.localhost', auth)
      }
      // Measured in pairs, back to back and in alternating order: a busy moment of the machine weighs on
      // both calls of a pair alike, and the median of the pairs' differences is what a prober would see.
      for (let i = 0; i < CALLS; i++) {
        let a: number
        let b: number
        if (i % 2 === 0) {
          a = await time(s.acme.host, auth)
          b = await time('nosuch.localhost', auth)
        } else {
          b = await time('nosuch.localhost', auth)
          a = await time(s.acme.host, auth)
        }
        known.push(a)
        unknown.push(b)
        differences.push(a - b)
      }
      const a = median(known)
      const b = median(unknown)
      const difference = median(differences)
      const tolerance = Math.max(0.25 * Math.min(a, b), 0.3)
      t.diagnostic(
        `medians: known ${a.toFixed(3)} ms, unknown ${b.toFixed(3)} ms, paired difference ${difference.toFixed(3)} ms`,
      )
      assert.ok(
        Math.abs(difference) <= tolerance,
        `known ${a.toFixed(3)} ms, unknown ${b.toFixed(3)} ms, median difference ${difference.toFixed(3)} ms, tolerance ${tolerance.toFixed(3)} ms`,
      )
    })
  }
})

// Summarises a V8 .cpuprofile (from BENCH_CPU_PROF): self time by function and by package, heaviest first.
// Usage: node bench/profile-summary.js /tmp/prof/pg-apikey-0.cpuprofile [top] [skip seconds]
// The first `skip` seconds (start-up and warm-up: module loading, JIT) are left out; so is idle time.
import { readFileSync } from 'node:fs'

const [file, topArg, skipArg] = process.argv.slice(2)
const top = Number(topArg ?? 25)
const skipMicros = Number(skipArg ?? 4) * 1e6
const profile = JSON.parse(readFileSync(file, 'utf8'))
const byId = new Map(profile.nodes.map((node) => [node.id, node]))
const self = new Map()
// Each sample names the node that was running; the time between samples is that node's.
let elapsed = 0
for (let i = 0; i < profile.samples.length; i++) {
  const id = profile.samples[i]
  elapsed += profile.timeDeltas[i] ?? 0
  if (elapsed < skipMicros || byId.get(id).callFrame.functionName === '(idle)') continue
  self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0))
}
const total = [...self.values()].reduce((a, b) => a + b, 0)
const group = (keyOf) => {
  const sums = new Map()
  for (const [id, micros] of self) {
    const key = keyOf(byId.get(id).callFrame)
    sums.set(key, (sums.get(key) ?? 0) + micros)
  }
  return [...sums].sort((a, b) => b[1] - a[1])
}
const where = ({ url }) => {
  if (url === '') return '(native / V8)'
  const match = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)
  if (match) return match[1]
  if (url.startsWith('node:')) return 'node core'
  if (url.includes('/dist/')) return 'service (dist)'
  return url.replace(/^file:\/\//, '')
}
const pct = (micros) => `${((100 * micros) / total).toFixed(1).padStart(5)} %`
console.log(`${file}: ${(total / 1e6).toFixed(1)} s busy after the first ${skipMicros / 1e6} s`)
console.log('\nBy package:')
for (const [key, micros] of group(where).slice(0, 15)) console.log(`  ${pct(micros)}  ${key}`)
console.log('\nBy function:')
for (const [key, micros] of group(
  (f) => `${f.functionName || '(anonymous)'}  ${where(f)}:${f.lineNumber + 1}`,
).slice(0, top))
  console.log(`  ${pct(micros)}  ${key}`)

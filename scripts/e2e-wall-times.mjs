// Prints the wall time of each e2e file (the JSON lines test/support/wall-time.ts wrote), slowest
// first, and the suite's own wall time: `node scripts/e2e-wall-times.mjs FILE SUITE_SECONDS`.
/* global process, console */
import { existsSync, readFileSync } from 'node:fs'

const [file, suiteSeconds] = process.argv.slice(2)
const rows = file && existsSync(file)
  ? readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l))
  : []
rows.sort((a, b) => b.seconds - a.seconds)
console.log('\nWall time per e2e file (slowest first; files run three at a time):')
for (const r of rows) console.log(`  ${String(r.seconds).padStart(6)} s  ${r.file}${r.code ? `  (exit ${r.code})` : ''}`)
if (suiteSeconds) console.log(`  ${String(suiteSeconds).padStart(6)} s  the whole e2e run`)

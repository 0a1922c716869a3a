// The e2e files and the version matrix, three at a time, the slowest first: `node --test` starts
// files in path order, which let the longest file (the cluster) start late and end the suite alone.
// The order comes from the wall times of the last whole run (scripts/e2e-wall-times.mjs prints
// them); a file not listed yet starts after those listed. The matrix stays in the second half: beside
// the others from the start, it made the suite 52 minutes, not 43. Files given as arguments run in
// their order instead. Run with `--import tsx`: the test files' processes inherit it.
/* global process */
import { readdirSync } from 'node:fs'
import { resolve } from 'node:path'
import { run } from 'node:test'
import { spec } from 'node:test/reporters'

const SLOWEST_FIRST = [
  'test/e2e/cluster.test.ts',
  'test/e2e/action-site.test.ts',
  'test/e2e/site.test.ts',
  'test/e2e/backend.test.ts',
  'test/e2e/default-install.test.ts',
  'test/e2e/backup.test.ts',
  'test/e2e/project.test.ts',
  'test/matrix/matrix.test.ts',
  'test/e2e/bootstrap-base.test.ts',
  'test/e2e/migrations.test.ts',
  'test/e2e/boundary.test.ts',
  'test/e2e/catch-up.test.ts',
  'test/e2e/frontend.test.ts',
  'test/e2e/action.test.ts',
]

function suiteFiles() {
  const all = ['test/e2e', 'test/matrix'].flatMap((dir) =>
    readdirSync(dir).filter((f) => f.endsWith('.test.ts')).sort().map((f) => `${dir}/${f}`))
  return [...SLOWEST_FIRST.filter((f) => all.includes(f)), ...all.filter((f) => !SLOWEST_FIRST.includes(f))]
}

const files = process.argv.length > 2 ? process.argv.slice(2) : suiteFiles()
run({ files: files.map((f) => resolve(f)), concurrency: 3 })
  .on('test:fail', () => { process.exitCode = 1 })
  .compose(spec)
  .pipe(process.stdout)

// Loaded with --import by the e2e runs (package.json): each test file's process says, when it ends,
// how long the file took from its start, on stderr (the spec reporter shows it) and, when
// E2E_WALL_TIMES names a file, as a JSON line there (scripts/run-tests.sh prints the table).
import { appendFileSync } from 'node:fs'
import { relative } from 'node:path'

const file = process.argv[1]
if (file && /\.test\.[cm]?[jt]s$/.test(file)) {
  const started = Date.now()
  process.on('exit', (code) => {
    const seconds = Math.round((Date.now() - started) / 1000)
    const name = relative(process.cwd(), file)
    process.stderr.write(`wall time of ${name}: ${seconds} s (exit ${code})\n`)
    if (process.env.E2E_WALL_TIMES) appendFileSync(process.env.E2E_WALL_TIMES, JSON.stringify({ file: name, seconds, code }) + '\n')
  })
}

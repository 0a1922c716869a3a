// The CLI runs wherever Node runs: init, plan and deploy load none of the test server harness
// (src/lab reads /proc, needs root and systemd-nspawn); only `demo` does, by a dynamic import.
// Checked on the bundle built as scripts/build.mjs builds it: its module graph, then what a run loads.
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { build, type Metafile } from 'esbuild'
import { runSync } from '../../src/core/exec.ts'
import { cli } from '../../scripts/build-options.mjs'

const ROOT = resolve(fileURLToPath(import.meta.url), '../../..')
const HOOK = join(ROOT, 'test/support/record-loads.mjs')
const COMMANDS = ['init', 'plan', 'deploy']

/** Output files reached from `entry` by static imports only (what loads before any code runs). */
function staticClosure(meta: Metafile, entry: string): Set<string> {
  const seen = new Set<string>()
  const visit = (out: string) => {
    if (seen.has(out) || !meta.outputs[out]) return
    seen.add(out)
    for (const i of meta.outputs[out]!.imports) if (i.kind === 'import-statement') visit(i.path)
  }
  visit(entry)
  return seen
}

const labInputs = (meta: Metafile, out: string) => Object.keys(meta.outputs[out]!.inputs).filter((i) => i.startsWith('src/lab/'))

describe('what the CLI loads', () => {
  let dir: string
  let meta: Metafile
  let entry: string
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cli-load-'))
    const r = await build({ ...cli, absWorkingDir: ROOT, outdir: dir, metafile: true, logLevel: 'silent' })
    meta = r.metafile!
    entry = relative(ROOT, join(dir, 'cli.js'))
  })
  after(() => rmSync(dir, { recursive: true, force: true }))

  test('the statically imported part of the bundle holds no lab module; a dynamic-only chunk holds them', () => {
    const loaded = staticClosure(meta, entry)
    for (const out of loaded) assert.deepEqual(labInputs(meta, out), [], `${out} is loaded by every command`)
    const withLab = Object.keys(meta.outputs).filter((o) => labInputs(meta, o).length > 0)
    assert.ok(withLab.length > 0 && withLab.every((o) => !loaded.has(o)), `lab code in ${withLab.join(', ')}`)
    assert.ok(labInputs(meta, withLab[0]!).includes('src/lab/index.ts'))
  })

  test('init, plan and deploy load only the static part; demo loads the lab chunk', () => {
    const loadsOf = (args: string[]) => {
      const file = join(dir, `loads-${args.join('-')}`)
      const r = runSync('env', [`RECORD_LOADS=${file}`, process.execPath, '--import', HOOK, join(dir, 'cli.js'), ...args], { cwd: dir })
      const urls = readFileSync(file, 'utf8').trim().split('\n')
      return { r, files: new Set(urls.map((u) => relative(ROOT, fileURLToPath(u)))) }
    }
    const allowed = staticClosure(meta, entry)
    for (const command of COMMANDS) {
      const { r, files } = loadsOf([command, '--help'])
      assert.equal(r.code, 0, r.stderr)
      assert.match(r.stdout, new RegExp(`Usage: django-deploy ${command}`))
      for (const f of files) assert.ok(allowed.has(f), `${command} loaded ${f}`)
    }
    // A demo that gets as far as its run loads the lab (then stops: no repository around the temp dir).
    const demo = loadsOf(['demo', '--exit'])
    assert.match(demo.r.stderr, /run it from the repository/)
    const lab = Object.keys(meta.outputs).filter((o) => labInputs(meta, o).length > 0)
    assert.ok(lab.some((o) => demo.files.has(o)), `demo loaded ${[...demo.files].join(', ')}; ${demo.r.stderr}`)
  })
})

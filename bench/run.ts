// `npm run bench`: every figure side by side with its baseline, measured in one run on fresh lab
// hosts, written to bench/results.md and bench/results.json. Nothing here asserts a time limit.
//
//   node --import tsx bench/run.ts [--only 1,3,5] [--out DIR] [--seconds N]
//
// One host serves figures 1 to 4 and 6 (bench/lib/host.ts): deployed once through the four playbooks
// (the first deploy of figure 3), then reused. Figure 5 needs no host; figure 7 boots two clusters of
// its own (bench/lib/cluster.ts). One module per figure in bench/figures/.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { loadavg } from 'node:os'
import { parseArgs } from 'node:util'
import { actionAndPlanOverhead } from './figures/action-and-plan-overhead.ts'
import { codeChangeTime } from './figures/code-change-time.ts'
import { noOpRun } from './figures/noop-run.ts'
import { redeployFailures } from './figures/redeploy-failures.ts'
import { rollingDeploy } from './figures/rolling-deploy.ts'
import { rollbackTime } from './figures/rollback-time.ts'
import { throughput } from './figures/throughput.ts'
import { firstLine, type Bench } from './lib/bench.ts'
import { deployHost, type Deployed } from './lib/host.ts'
import { environment, renderJson, renderMarkdown, type Figure } from './lib/report.ts'

const BENCH_DIR = dirname(fileURLToPath(import.meta.url))

/** The figures that need the deployed host, in the order they run (the no-op run first: the host is as deployed). */
const HOST_FIGURES: [string, string, (b: Bench, d: Deployed) => Promise<void>][] = [
  ['3', 'No-op run of the four playbooks', noOpRun],
  ['2', 'Code-only change: wall time', codeChangeTime],
  ['6', 'Rollback: command to the previous release serving', rollbackTime],
  ['1', 'Failed requests during a backend redeploy', redeployFailures],
  ['4', 'Throughput', throughput],
]

/**
 * The figures of the previous results that this run does not measure (--only): kept, each note
 * saying when and under which load it was measured, so one figure can be run again alone.
 */
function earlierFigures(file: string, only: Set<string>): Figure[] {
  if (!existsSync(file)) return []
  const prev = JSON.parse(readFileSync(file, 'utf8')) as { environment: { date: string; loadAverageAtStart: number[] }; figures: (Figure & { ratio?: unknown; met?: unknown })[] }
  return prev.figures.filter((f) => !only.has(f.id)).map(({ ratio: _r, met: _m, ...f }) => {
    const from = /^\(measured [^)]*\) /.test(f.note ?? '') ? '' : `(measured ${prev.environment.date.slice(0, 16).replace('T', ' ')} UTC, load average at start ${prev.environment.loadAverageAtStart.join(' / ')}) `
    return { ...f, note: `${from}${f.note ?? ''}`.trim() }
  })
}

async function main(): Promise<void> {
  const { values: opts } = parseArgs({
    options: {
      only: { type: 'string', default: '1,2,3,4,5,6,7' },
      out: { type: 'string', default: BENCH_DIR },
      seconds: { type: 'string', default: '10' },
    },
  })
  const only = new Set(opts.only!.split(',').map((s) => s.trim()))
  const out = resolve(opts.out!)
  const t0 = Date.now()
  const figures: Figure[] = []
  const bench: Bench = {
    repo: resolve(BENCH_DIR, '..'),
    scratch: join(BENCH_DIR, 'out'),
    loadSeconds: Number(opts.seconds),
    figures,
    log: (msg) => process.stderr.write(`[bench ${((Date.now() - t0) / 1000).toFixed(0).padStart(5)} s] ${msg}\n`),
    missing: (id, name, unit, goal, why) => figures.push({ id, name, unit, ours: null, baseline: null, goal, note: why }),
  }
  const env = environment()
  const earlier = earlierFigures(join(resolve(opts.out!), 'results.json'), only)
  /** Writes results.md and results.json with the figures so far (a run cut short keeps what it measured). */
  const flush = (final = false) => {
    for (const f of earlier) if (!figures.some((g) => g.id === f.id)) figures.push(f)
    figures.sort((a, b) => a.id.localeCompare(b.id))
    env.loadAverageAtEnd = loadavg().map((x) => Math.round(x * 100) / 100)
    mkdirSync(out, { recursive: true })
    const md = renderMarkdown(figures, env, 'Benchmark results')
    writeFileSync(join(out, 'results.md'), md)
    writeFileSync(join(out, 'results.json'), renderJson(figures, env))
    if (!final) return
    process.stdout.write(md)
    bench.log(`written: ${relative(process.cwd(), join(out, 'results.md'))}, ${relative(process.cwd(), join(out, 'results.json'))}`)
  }

  mkdirSync(bench.scratch, { recursive: true })
  if (only.has('5')) {
    await actionAndPlanOverhead(bench)
    flush()
  }
  if (only.has('7')) {
    try {
      await rollingDeploy(bench)
    } catch (e) {
      bench.log(`figure 7 failed: ${(e as Error).stack}`)
      bench.missing('7', 'Rolling deploy behind the load balancer: 2 app servers vs 1', '', { kind: 'none', text: '—' }, `failed: ${firstLine(e)}`)
    }
    flush()
  }
  const wanted = HOST_FIGURES.filter(([id]) => only.has(id))
  let d: Deployed | undefined
  try {
    if (wanted.length > 0) {
      try {
        // The rollback alone needs only the site: no bootstrap or base.
        d = await deployHost(bench, wanted.every(([id]) => id === '6'))
      } catch (e) {
        bench.log(`first deploy failed: ${(e as Error).stack}`)
        for (const [id, name] of wanted) bench.missing(id, name, '', { kind: 'none', text: '—' }, `the first deploy failed: ${firstLine(e)}`)
      }
    }
    for (const [id, , figure] of d ? wanted : []) {
      try {
        await figure(bench, d!)
      } catch (e) {
        bench.log(`figure ${id} failed: ${(e as Error).stack}`)
        bench.missing(id, `figure ${id}`, '', { kind: 'none', text: '—' }, `failed: ${firstLine(e)}`)
      }
      flush()
    }
  } finally {
    if (d) await d.lab.destroy()
  }
  flush(true)
}

await main()

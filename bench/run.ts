// `npm run bench`: every figure side by side with its baseline, measured in one run on fresh lab
// hosts, written to bench/results.md and bench/results.json. Nothing here asserts a time limit.
//
//   node --import tsx bench/run.ts [--only 1,3,5] [--out DIR] [--seconds N]
//
// One host serves figures 1 to 4: deployed once through the four playbooks (the first deploy of
// figure 3), then reused. Figure 5 needs no host.
import { mkdirSync, writeFileSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { loadavg } from 'node:os'
import { parseArgs } from 'node:util'
import { DEBIAN_PYTHON_VARS, startLab, type Lab } from '../src/lab/index.ts'
import { appCopy, CPU_PATH, DJANGO_STATIC_PREFIX, staticFile } from './lib/app.ts'
import { ALL_PLAYBOOKS, round, runSequence, timed, type TimedSequence } from './lib/deploy.ts'
import { get, waitFor } from './lib/http.ts'
import { startHey, wrkFor, type LoadResult } from './lib/load.ts'
import { loadPlanner, syntheticDiff, timePlan } from './lib/plan.ts'
import { environment, fmt, renderJson, renderMarkdown, type Figure } from './lib/report.ts'
import { liveProgram, seedRestart, workerCount } from './lib/seed.ts'
import { remote, sshLogins, type Remote } from './lib/remote.ts'
import { describe, slowness } from './lib/slowness.ts'
import { actionOverhead } from './lib/action.ts'

const BENCH_DIR = dirname(fileURLToPath(import.meta.url))
const REPO = resolve(BENCH_DIR, '..')

const { values: opts } = parseArgs({
  options: {
    only: { type: 'string', default: '1,2,3,4,5' },
    out: { type: 'string', default: BENCH_DIR },
    seconds: { type: 'string', default: '10' },
  },
})
const only = new Set(opts.only!.split(',').map((s) => s.trim()))
const OUT = resolve(opts.out!)
const SCRATCH = join(BENCH_DIR, 'out')
const LOAD_SECONDS = Number(opts.seconds)
const CLIENTS = 8

const ORG = 'bench-org'
const SLUG = 'bench'
const HOSTNAME = 'bench.test'
const DJANGO_PROJECT = 'example_project'
const PROJECT_DIR = `/srv/${ORG}/${SLUG}`
const SSH_PORT = 2222

const t0 = Date.now()
function log(msg: string): void {
  process.stderr.write(`[bench ${((Date.now() - t0) / 1000).toFixed(0).padStart(5)} s] ${msg}\n`)
}

const figures: Figure[] = []
const env = environment()

function failedText(r: LoadResult): string {
  const pct = r.requests ? (100 * r.failed) / r.requests : 0
  return `${r.failed.toLocaleString('en-US')} of ${r.requests.toLocaleString('en-US')} (${pct.toFixed(pct && pct < 0.1 ? 3 : 1)} %)`
}

function describeFailures(r: LoadResult): string {
  const parts = [
    ...Object.entries(r.statuses).filter(([c]) => !/^2/.test(c)).map(([c, n]) => `${n}× ${c}`),
    ...Object.entries(r.errors).map(([e, n]) => `${n}× ${e.replace(/^Get "[^"]*": /, '')}`),
  ]
  return parts.length ? parts.join(', ') : 'none'
}

/** Records a figure that could not be measured, with the reason. */
function missing(id: string, name: string, unit: string, goal: Figure['goal'], why: string): void {
  figures.push({ id, name, unit, ours: null, baseline: null, goal, note: why })
}

function firstLine(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).split('\n')[0]!.slice(0, 300)
}

// ---------------------------------------------------------------------------------------------
// The host: one lab host, deployed once, reused.

interface Deployed {
  lab: Lab
  host: string
  /** Root commands on the host (as the deploy user, through sudo). */
  sh: Remote
  address: string
  inventory: string
  firstDeploy: TimedSequence
  versions: number
}

async function deployHost(): Promise<Deployed> {
  log('starting one lab host')
  const lab = await startLab({ hosts: ['web1'], repoRoot: REPO })
  const host = lab.hosts[0]!
  const inventory = await lab.writeInventory({
    name: 'bench',
    vars: {
      organization_slug: ORG,
      project_slug: SLUG,
      public_hostnames: [HOSTNAME],
      server_ssh_port: SSH_PORT,
      frontend_tls_enabled: false,
      backend_django_project: DJANGO_PROJECT,
      ...DEBIAN_PYTHON_VARS,
      backend_https: false,
    },
  })
  const v1 = appCopy(join(REPO, 'app'), SCRATCH, 'bench-1', DJANGO_PROJECT)
  log(`first deploy: ${ALL_PLAYBOOKS.join(' → ')} (app ${v1.version})`)
  const firstDeploy = await runSequence(lab, ALL_PLAYBOOKS, { inventory, extraVars: { backend_archive_src: v1.dir } })
  log(`first deploy: ${firstDeploy.seconds} s (${firstDeploy.runs.map((r) => `${r.playbook} ${r.seconds} s`).join(', ')})`)
  await waitFor(`http://${host.address}/health/`, HOSTNAME, 'bench-1', 30)
  return { lab, host: host.name, sh: remote(lab, host.name, SSH_PORT), address: host.address, inventory, firstDeploy, versions: 1 }
}

/** A new copy of the app (a new version) for the next deploy. */
function nextVersion(d: Deployed) {
  d.versions++
  return appCopy(join(REPO, 'app'), SCRATCH, `bench-${d.versions}`, DJANGO_PROJECT)
}

// ---------------------------------------------------------------------------------------------
// Figure 3: no-op run of the four playbooks vs the first deploy.

async function figure3(d: Deployed): Promise<void> {
  log('figure 3: no-op run of the four playbooks')
  const loginsBefore = await sshLogins(d.sh).catch(() => null)
  const noop = await runSequence(d.lab, ALL_PLAYBOOKS, { inventory: d.inventory, extraVars: { backend_archive_src: `${SCRATCH}/app-bench-1` } })
  const loginsAfter = await sshLogins(d.sh).catch(() => null)
  // The second count's own login is in it.
  const logins = loginsBefore !== null && loginsAfter !== null ? loginsAfter - loginsBefore - 1 : null
  const slow = noop.runs.map((r) => slowness(r))
  log(`no-op: ${noop.seconds} s, changed=${noop.changed}`)
  for (const l of describe(slow)) log(`  ${l}`)
  figures.push({
    id: '3',
    name: 'No-op run of the four playbooks vs the first deploy',
    unit: 's',
    ours: noop.seconds,
    baseline: d.firstDeploy.seconds,
    oursText: `${fmt(noop.seconds, 's')}, changed=${noop.changed}`,
    baselineText: `${fmt(d.firstDeploy.seconds, 's')} (first deploy)`,
    goal: { kind: 'check', ok: noop.changed === 0, text: 'changed=0' },
    note: `no-op: ${noop.runs.map((r) => `${r.playbook} ${r.seconds} s`).join(', ')}; first deploy: ` +
      `${d.firstDeploy.runs.map((r) => `${r.playbook} ${r.seconds} s`).join(', ')}. In the no-op run: ` +
      `${slow.reduce((a, x) => a + x.tasks, 0)} tasks, fact gathering ${slow.reduce((a, x) => a + x.factGathering.count, 0)}× ` +
      `(${round(slow.reduce((a, x) => a + x.factGathering.seconds, 0), 1)} s), apt tasks checking the cache ` +
      `${slow.reduce((a, x) => a + x.aptCacheUpdates.count, 0)}× (${round(slow.reduce((a, x) => a + x.aptCacheUpdates.seconds, 0), 1)} s), ` +
      `SSH logins accepted by the host: ${logins ?? 'unknown'}. Per-task times in results.json.`,
    detail: {
      noopSeconds: noop.seconds,
      firstDeploySeconds: d.firstDeploy.seconds,
      ratio: round(noop.seconds / d.firstDeploy.seconds, 3),
      noop: noop.runs.map(({ tasks: _t, ...r }) => r),
      firstDeploy: d.firstDeploy.runs.map(({ tasks: _t, ...r }) => r),
      sshLogins: logins,
      slowness: slow,
    },
  })
}

// ---------------------------------------------------------------------------------------------
// Figure 2: wall time of a code-only change: the action's plan vs the seed's four playbooks.

async function figure2(d: Deployed): Promise<void> {
  const changed = ['app/pages/views.py', 'app/VERSION']
  const planner = await loadPlanner(REPO)
  let playbooks: string[]
  let planNote: string
  if ('missing' in planner) {
    playbooks = ['backend']
    planNote = `the action's planner is missing (${planner.missing}): backend assumed`
  } else {
    playbooks = planner.plan(changed)
    planNote = `plan from ${planner.source} for ${changed.join(', ')}: ${playbooks.join(', ') || 'nothing'}`
  }
  log(`figure 2: ${planNote}`)
  const ours = await runSequence(d.lab, playbooks, { inventory: d.inventory, extraVars: { backend_archive_src: nextVersion(d).dir } })
  await waitFor(`http://${d.address}/health/`, HOSTNAME, `bench-${d.versions}`, 30)
  log(`figure 2: ours ${ours.seconds} s; now the seed's way (all four)`)
  const seed = await runSequence(d.lab, ALL_PLAYBOOKS, { inventory: d.inventory, extraVars: { backend_archive_src: nextVersion(d).dir } })
  await waitFor(`http://${d.address}/health/`, HOSTNAME, `bench-${d.versions}`, 30)
  log(`figure 2: seed ${seed.seconds} s`)
  figures.push({
    id: '2',
    name: 'Code-only change: wall time of the planned playbooks',
    unit: 's',
    ours: ours.seconds,
    baseline: seed.seconds,
    oursText: `${fmt(ours.seconds, 's')} (${playbooks.join(', ')})`,
    baselineText: `${fmt(seed.seconds, 's')} (all four)`,
    goal: { kind: 'ratio-max', value: 0.25, text: 'ratio ≤ 0.25' },
    note: `${planNote}. Ours: ${ours.runs.map((r) => `${r.playbook} ${r.seconds} s`).join(', ')}; ` +
      `seed: ${seed.runs.map((r) => `${r.playbook} ${r.seconds} s`).join(', ')}.`,
    detail: {
      changedPaths: changed,
      plan: playbooks,
      ours: ours.runs.map(({ tasks: _t, ...r }) => r),
      seed: seed.runs.map(({ tasks: _t, ...r }) => r),
    },
  })
}

// ---------------------------------------------------------------------------------------------
// Figure 1: failed requests during a redeploy under load: ours (backend playbook) vs the seed's
// supervisorctl restart.

async function figure1(d: Deployed): Promise<void> {
  const target = { url: `http://${d.address}/`, host: HOSTNAME, concurrency: CLIENTS }
  const next = nextVersion(d)
  log(`figure 1: backend playbook (app ${next.version}) under ${CLIENTS} clients`)
  const load = startHey(target)
  await sleep(3000)
  const deploy = await timed(() => runSequence(d.lab, ['backend'], { inventory: d.inventory, extraVars: { backend_archive_src: next.dir } }))
  await sleep(3000)
  const ours = await load.stop()
  const served = await get(`http://${d.address}/health/`, HOSTNAME)
  log(`figure 1: ours ${failedText(ours)} failed over ${ours.seconds.toFixed(0)} s; /health/ says ${served.body.trim()}`)

  const program = await liveProgram(d.sh, PROJECT_DIR)
  log(`figure 1: seed's way: supervisorctl restart ${program.name} under ${CLIENTS} clients`)
  const load2 = startHey(target)
  await sleep(3000)
  const restart = await timed(() => seedRestart(d.sh, program.name))
  await sleep(3000)
  const seed = await load2.stop()
  log(`figure 1: seed ${failedText(seed)} failed; restart took ${restart.seconds.toFixed(1)} s`)
  const newServed = served.body.includes(next.version)
  figures.push({
    id: '1',
    name: `Failed requests during a backend redeploy (${CLIENTS} clients, through nginx)`,
    unit: 'requests',
    ours: ours.failed,
    baseline: seed.failed,
    oursText: failedText(ours),
    baselineText: failedText(seed),
    goal: { kind: 'equals', value: 0, text: '0 failed' },
    note: `ours: backend playbook with a new app version, ${deploy.seconds.toFixed(0)} s of deploy inside ` +
      `${ours.seconds.toFixed(0)} s of load (${Math.round(ours.rps)} req/s), failures: ${describeFailures(ours)}; ` +
      `new version served afterwards: ${newServed ? 'yes' : `NO (/health/ said "${served.body.trim()}")`}. ` +
      `Seed: supervisorctl restart ${program.name} (${restart.seconds.toFixed(1)} s) inside ${seed.seconds.toFixed(0)} s of load ` +
      `(${Math.round(seed.rps)} req/s), failures: ${describeFailures(seed)}.`,
    detail: { ours, seed, deploySeconds: round(deploy.seconds), restartSeconds: round(restart.seconds), program: program.name, newVersionServed: newServed },
  })
}

// ---------------------------------------------------------------------------------------------
// Figure 4: throughput: our default workers vs 1 worker (CPU-bound view, HTML page), and a static
// file from nginx vs through Django.

async function figure4(d: Deployed): Promise<void> {
  const base = `http://${d.address}`
  const file = staticFile(join(REPO, 'app'))
  const measure = async (path: string, label: string): Promise<LoadResult> => {
    const probe = await get(base + path, HOSTNAME)
    if (probe.status !== 200) throw new Error(`GET ${path} answered ${probe.status}, not 200: nothing to measure`)
    const r = await wrkFor({ url: base + path, host: HOSTNAME, concurrency: CLIENTS }, LOAD_SECONDS)
    log(`figure 4: ${label} ${path}: ${Math.round(r.rps)} req/s, ${r.failed} failed`)
    return r
  }
  const program = await liveProgram(d.sh, PROJECT_DIR)
  const workers = await workerCount(d.sh, program.pid)
  log(`figure 4: default sizing: ${workers} workers (${program.name})`)
  const cpuDefault = await measure(CPU_PATH, `${workers} workers`)
  const pageDefault = await measure('/', `${workers} workers`)
  const nginxStatic = file ? await measure(`/static/${file}`, 'nginx') : null
  const djangoStatic = file ? await measure(`${DJANGO_STATIC_PREFIX}${file}`, `django, ${workers} workers`) : null

  log('figure 4: redeploy with 1 worker (the seed\'s sizing)')
  const one = nextVersion(d)
  const extra = { backend_archive_src: one.dir, backend_gunicorn_workers: 1 }
  await runSequence(d.lab, ['backend'], { inventory: d.inventory, extraVars: extra })
  await waitFor(`${base}/health/`, HOSTNAME, one.version, 30)
  const program1 = await liveProgram(d.sh, PROJECT_DIR)
  const workers1 = await workerCount(d.sh, program1.pid)
  const cpuOne = await measure(CPU_PATH, `${workers1} worker(s)`)
  const pageOne = await measure('/', `${workers1} worker(s)`)

  const rps = (r: LoadResult | null) => (r ? Math.round(r.rps) : null)
  const failures = (r: LoadResult | null) => (r && r.failed ? ` (${r.failed} failed)` : '')
  const wrkNote = `wrk, ${CLIENTS} connections, ${LOAD_SECONDS} s each, load generator on the same 2 CPUs as the host`
  figures.push({
    id: '4a', name: `CPU-bound view (${CPU_PATH}): ${workers} workers (ours) vs ${workers1} (seed)`, unit: 'req/s',
    ours: rps(cpuDefault), baseline: rps(cpuOne),
    oursText: `${fmt(rps(cpuDefault), 'req/s')}${failures(cpuDefault)}`, baselineText: `${fmt(rps(cpuOne), 'req/s')}${failures(cpuOne)}`,
    goal: { kind: 'ratio-min', value: 1, text: 'ratio ≥ 1' },
    note: `${wrkNote}. The example app has no CPU-bound view: the bench's copies add one (20,000 SHA-256 rounds per request).`,
    detail: { default: cpuDefault, one: cpuOne, workers, workersSeed: workers1 },
  })
  figures.push({
    id: '4b', name: `HTML page (/): ${workers} workers (ours) vs ${workers1} (seed)`, unit: 'req/s',
    ours: rps(pageDefault), baseline: rps(pageOne),
    oursText: `${fmt(rps(pageDefault), 'req/s')}${failures(pageDefault)}`, baselineText: `${fmt(rps(pageOne), 'req/s')}${failures(pageOne)}`,
    goal: { kind: 'ratio-min', value: 1, text: 'ratio ≥ 1' },
    note: wrkNote,
    detail: { default: pageDefault, one: pageOne },
  })
  if (file) {
    figures.push({
      id: '4c', name: `Static file (${file}): nginx vs through Django/gunicorn (${workers} workers)`, unit: 'req/s',
      ours: rps(nginxStatic), baseline: rps(djangoStatic),
      oursText: `${fmt(rps(nginxStatic), 'req/s')}${failures(nginxStatic)}`, baselineText: `${fmt(rps(djangoStatic), 'req/s')}${failures(djangoStatic)}`,
      goal: { kind: 'ratio-min', value: 1, text: 'ratio ≥ 1' },
      note: `${wrkNote}. Through Django: django.views.static.serve on the collected files, added by the bench's copies.`,
      detail: { nginx: nginxStatic, django: djangoStatic },
    })
  } else {
    missing('4c', 'Static file: nginx vs through Django', 'req/s', { kind: 'ratio-min', value: 1, text: 'ratio ≥ 1' }, 'the app has no static file')
  }

}

// ---------------------------------------------------------------------------------------------
// Figure 5: the action's overhead and the plan's computation time.

async function figure5(): Promise<void> {
  log('figure 5: action overhead (dist/index.js, ansible-version system, trivial plan)')
  try {
    const a = await actionOverhead(REPO, SCRATCH)
    if ('missing' in a) {
      missing('5a', 'Action: start → first playbook (Ansible present)', 's', { kind: 'none', text: '—' }, a.missing)
    } else {
      log(`figure 5: action first playbook after ${a.toFirstPlaybook.toFixed(2)} s, total ${a.total.toFixed(2)} s; by hand ${a.byHand.toFixed(2)} s`)
      figures.push({
        id: '5a', name: 'Action: start → first ansible-playbook (Ansible already present)', unit: 's',
        ours: round(a.toFirstPlaybook, 2), baseline: null, baselineText: 'n/a (by hand: 0)',
        goal: { kind: 'none', text: '—' },
        note: a.note,
        detail: a,
      })
      figures.push({
        id: '5b', name: 'Action: whole run of a trivial plan vs the same playbook by hand', unit: 's',
        ours: round(a.total, 2), baseline: round(a.byHand, 2),
        goal: { kind: 'none', text: '—' },
        detail: a,
      })
    }
  } catch (e) {
    log(`figure 5a failed: ${(e as Error).stack}`)
    missing('5a', 'Action: start → first playbook (Ansible present)', 's', { kind: 'none', text: '—' }, `failed: ${firstLine(e)}`)
  }

  log('figure 5: plan computation on a synthetic 1,000-file diff')
  const planner = await loadPlanner(REPO)
  if ('missing' in planner) {
    missing('5c', 'Plan computation, 1,000-file diff (median)', 'ms', { kind: 'none', text: '—' }, planner.missing)
    return
  }
  const big = timePlan(planner, syntheticDiff(1000), 200)
  const small = timePlan(planner, syntheticDiff(1), 2000)
  log(`figure 5: plan of 1,000 paths ${big.medianMs.toFixed(3)} ms (median), 1 path ${small.medianMs.toFixed(3)} ms`)
  figures.push({
    id: '5c', name: 'Plan computation, synthetic 1,000-file diff (median of 200) vs 1-file diff', unit: 'ms',
    ours: round(big.medianMs, 3), baseline: round(small.medianMs, 3),
    oursText: `${fmt(big.medianMs, 'ms')} (p90 ${fmt(big.p90Ms, 'ms')})`, baselineText: `${fmt(small.medianMs, 'ms')} (1 path)`,
    goal: { kind: 'none', text: '—' },
    note: `${planner.source}, repository model read once; the 1,000 paths mix app, roles, docs, tests and action files; plan: ${big.run.join(', ')}.`,
    detail: { big, small },
  })
}

// ---------------------------------------------------------------------------------------------

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms))
}

async function main(): Promise<void> {
  mkdirSync(SCRATCH, { recursive: true })
  const needHost = ['1', '2', '3', '4'].some((f) => only.has(f))
  let d: Deployed | undefined
  if (only.has('5')) {
    await figure5()
    flush()
  }
  try {
    if (needHost) {
      try {
        d = await deployHost()
      } catch (e) {
        log(`first deploy failed: ${(e as Error).stack}`)
        for (const [id, name] of [['1', 'Failed requests during a backend redeploy'], ['2', 'Code-only change: wall time'], ['3', 'No-op run of the four playbooks'], ['4', 'Throughput']] as const) {
          if (only.has(id)) missing(id, name, '', { kind: 'none', text: '—' }, `the first deploy failed: ${firstLine(e)}`)
        }
      }
    }
    const steps: [string, (d: Deployed) => Promise<void>][] = [['3', figure3], ['2', figure2], ['1', figure1], ['4', figure4]]
    for (const [id, fn] of steps) {
      if (!only.has(id) || !d) continue
      try {
        await fn(d)
      } catch (e) {
        log(`figure ${id} failed: ${(e as Error).stack}`)
        missing(id, `figure ${id}`, '', { kind: 'none', text: '—' }, `failed: ${firstLine(e)}`)
      }
      flush()
    }
  } finally {
    if (d) await d.lab.destroy()
  }
  flush(true)
}

/** Writes results.md and results.json with the figures so far (after each figure: a run cut short
 *  still leaves what it measured). */
function flush(final = false): void {
  figures.sort((a, b) => a.id.localeCompare(b.id))
  env.loadAverageAtEnd = loadavg().map((x) => Math.round(x * 100) / 100)
  mkdirSync(OUT, { recursive: true })
  const md = renderMarkdown(figures, env, 'Benchmark results')
  writeFileSync(join(OUT, 'results.md'), md)
  writeFileSync(join(OUT, 'results.json'), renderJson(figures, env))
  if (!final) return
  process.stdout.write(md)
  log(`written: ${relative(process.cwd(), join(OUT, 'results.md'))}, ${relative(process.cwd(), join(OUT, 'results.json'))}`)
}

await main()

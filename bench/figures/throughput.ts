// Figure 4: throughput: the default gunicorn workers vs 1 (a CPU-bound view, the HTML page), and a
// static file from nginx vs through Django.
import { join } from 'node:path'
import { CPU_PATH, DJANGO_STATIC_PREFIX, staticFile } from '../lib/app.ts'
import type { Bench } from '../lib/bench.ts'
import { runSequence } from '../lib/deploy.ts'
import { CLIENTS, HOSTNAME, PROJECT_DIR, nextVersion, type Deployed } from '../lib/host.ts'
import { fmt } from '../lib/report.ts'
import { liveProgram, workerCount } from '../lib/seed.ts'
import { get, waitFor } from '../../test/support/http.ts'
import { wrkFor, type LoadResult } from '../../test/support/load.ts'

export async function throughput(ctx: Bench, d: Deployed): Promise<void> {
  const base = `http://${d.address}`
  const file = staticFile(join(ctx.repo, 'app'))
  const measure = async (path: string, label: string): Promise<LoadResult> => {
    const probe = await get(base + path, HOSTNAME)
    if (probe.status !== 200) throw new Error(`GET ${path} answered ${probe.status}, not 200: nothing to measure`)
    const r = await wrkFor({ url: base + path, host: HOSTNAME, concurrency: CLIENTS }, ctx.loadSeconds)
    ctx.log(`figure 4: ${label} ${path}: ${Math.round(r.rps)} req/s, ${r.failed} failed`)
    return r
  }
  const program = await liveProgram(d.sh, PROJECT_DIR)
  const workers = await workerCount(d.sh, program.pid)
  ctx.log(`figure 4: default sizing: ${workers} workers (${program.name})`)
  const cpuDefault = await measure(CPU_PATH, `${workers} workers`)
  const pageDefault = await measure('/', `${workers} workers`)
  const nginxStatic = file ? await measure(`/static/${file}`, 'nginx') : null
  const djangoStatic = file ? await measure(`${DJANGO_STATIC_PREFIX}${file}`, `django, ${workers} workers`) : null

  ctx.log('figure 4: redeploy with 1 worker (the seed\'s sizing)')
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
  const wrkNote = `wrk, ${CLIENTS} connections, ${ctx.loadSeconds} s each, load generator on the same 2 CPUs as the host`
  ctx.figures.push({
    id: '4a', name: `CPU-bound view (${CPU_PATH}): ${workers} workers (ours) vs ${workers1} (seed)`, unit: 'req/s',
    ours: rps(cpuDefault), baseline: rps(cpuOne),
    oursText: `${fmt(rps(cpuDefault), 'req/s')}${failures(cpuDefault)}`, baselineText: `${fmt(rps(cpuOne), 'req/s')}${failures(cpuOne)}`,
    goal: { kind: 'ratio-min', value: 1, text: 'ratio ≥ 1' },
    note: `${wrkNote}. The example app has no CPU-bound view: the bench's copies add one (20,000 SHA-256 rounds per request).`,
    detail: { default: cpuDefault, one: cpuOne, workers, workersSeed: workers1 },
  })
  ctx.figures.push({
    id: '4b', name: `HTML page (/): ${workers} workers (ours) vs ${workers1} (seed)`, unit: 'req/s',
    ours: rps(pageDefault), baseline: rps(pageOne),
    oursText: `${fmt(rps(pageDefault), 'req/s')}${failures(pageDefault)}`, baselineText: `${fmt(rps(pageOne), 'req/s')}${failures(pageOne)}`,
    goal: { kind: 'ratio-min', value: 1, text: 'ratio ≥ 1' },
    note: wrkNote,
    detail: { default: pageDefault, one: pageOne },
  })
  if (file) {
    ctx.figures.push({
      id: '4c', name: `Static file (${file}): nginx vs through Django/gunicorn (${workers} workers)`, unit: 'req/s',
      ours: rps(nginxStatic), baseline: rps(djangoStatic),
      oursText: `${fmt(rps(nginxStatic), 'req/s')}${failures(nginxStatic)}`, baselineText: `${fmt(rps(djangoStatic), 'req/s')}${failures(djangoStatic)}`,
      goal: { kind: 'ratio-min', value: 1, text: 'ratio ≥ 1' },
      note: `${wrkNote}. Through Django: django.views.static.serve on the collected files, added by the bench's copies.`,
      detail: { nginx: nginxStatic, django: djangoStatic },
    })
  } else {
    ctx.missing('4c', 'Static file: nginx vs through Django', 'req/s', { kind: 'ratio-min', value: 1, text: 'ratio ≥ 1' }, 'the app has no static file')
  }

}

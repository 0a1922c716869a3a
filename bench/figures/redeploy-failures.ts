// Figure 1: failed requests during a redeploy under load: the backend playbook vs the seed's
// supervisorctl restart.
import { sleep, type Bench } from '../lib/bench.ts'
import { round, runSequence, timed } from '../lib/deploy.ts'
import { CLIENTS, HOSTNAME, PROJECT_DIR, nextVersion, type Deployed } from '../lib/host.ts'
import { liveProgram, seedRestart } from '../lib/seed.ts'
import { get } from '../../test/support/http.ts'
import { startHey, type LoadResult } from '../../test/support/load.ts'
import { linkedAssets, startPageLoads, type PageLoads } from '../lib/page-assets.ts'
import { countingSessions } from '../lib/remote.ts'
import { reportLine, taskReport } from '../lib/slowness.ts'

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

export async function redeployFailures(ctx: Bench, d: Deployed): Promise<void> {
  const target = { url: `http://${d.address}/`, host: HOSTNAME, concurrency: CLIENTS }
  const next = nextVersion(d)
  ctx.log(`figure 1: backend playbook (app ${next.version}) under ${CLIENTS} clients`)
  const load = startHey(target)
  const pages = startPageLoads(`http://${d.address}`, HOSTNAME)
  await sleep(3000)
  const before = (await get(`http://${d.address}/`, HOSTNAME)).body
  const deploy = await timed(() => countingSessions(d.sh, () =>
    runSequence(d.lab, ['backend'], { inventory: d.inventory, extraVars: { backend_archive_src: next.dir } })))
  await sleep(3000)
  const ours = await load.stop()
  const pageLoads = await pages.stop()
  const served = await get(`http://${d.address}/health/`, HOSTNAME)
  const after = (await get(`http://${d.address}/`, HOSTNAME)).body
  const assets = newAssets(before, after, pageLoads)
  const tasks = taskReport(deploy.value.value.runs)
  ctx.log(`figure 1: ours ${failedText(ours)} failed over ${ours.seconds.toFixed(0)} s; pages with their static files: ` +
    `${pageLoads.failures.length} failed of ${pageLoads.pages + pageLoads.assets}; /health/ says ${served.body.trim()}`)

  const program = await liveProgram(d.sh, PROJECT_DIR)
  ctx.log(`figure 1: seed's way: supervisorctl restart ${program.name} under ${CLIENTS} clients`)
  const load2 = startHey(target)
  await sleep(3000)
  const restart = await timed(() => seedRestart(d.sh, program.name))
  await sleep(3000)
  const seed = await load2.stop()
  ctx.log(`figure 1: seed ${failedText(seed)} failed; restart took ${restart.seconds.toFixed(1)} s`)
  const newServed = served.body.includes(next.version)
  ctx.figures.push({
    id: '1',
    name: `Failed requests during a backend redeploy (${CLIENTS} clients, through nginx)`,
    unit: 'requests',
    ours: ours.failed + pageLoads.failures.length,
    baseline: seed.failed,
    oursText: `${failedText(ours)}; pages + static files: ${pageLoads.failures.length} of ${pageLoads.pages + pageLoads.assets}`,
    baselineText: failedText(seed),
    goal: { kind: 'equals', value: 0, text: '0 failed' },
    note: `ours: backend playbook with a new app version, ${deploy.seconds.toFixed(0)} s of deploy inside ` +
      `${ours.seconds.toFixed(0)} s of load (${Math.round(ours.rps)} req/s), failures: ${describeFailures(ours)}; ` +
      `new version served afterwards: ${newServed ? 'yes' : `NO (/health/ said "${served.body.trim()}")`}. ` +
      `A client loading the page and each static file it links, meanwhile: ${pageLoads.pages} pages, ${pageLoads.assets} static files, ` +
      `failures: ${pageLoads.failures.length ? pageLoads.failures.slice(0, 5).join(', ') : 'none'}; ${assets}. ` +
      `${reportLine('The deploy', tasks, deploy.value.sessions)}. ` +
      `Seed: supervisorctl restart ${program.name} (${restart.seconds.toFixed(1)} s) inside ${seed.seconds.toFixed(0)} s of load ` +
      `(${Math.round(seed.rps)} req/s), failures: ${describeFailures(seed)}.`,
    detail: { ours, pageLoads, tasks, sshSessions: deploy.value.sessions, seed, deploySeconds: round(deploy.seconds), restartSeconds: round(restart.seconds), program: program.name, newVersionServed: newServed },
  })
}

/** Whether the new release's HTML links static files the old one did not, and the client fetched them. */
function newAssets(before: string, after: string, loads: PageLoads): string {
  const fresh = linkedAssets(after).filter((a) => !linkedAssets(before).includes(a))
  if (!fresh.length) return 'the new release links the same static files as the old one'
  const fetched = fresh.filter((a) => loads.assetPaths.includes(a))
  return `new release's static files fetched during the load: ${fetched.length} of ${fresh.length} (${fresh.join(', ')})`
}

// Figure 1: failed requests during a redeploy under load: the backend playbook vs the seed's
// supervisorctl restart.
import { sleep, type Bench } from '../lib/bench.ts'
import { round, runSequence, timed } from '../lib/deploy.ts'
import { CLIENTS, HOSTNAME, PROJECT_DIR, nextVersion, type Deployed } from '../lib/host.ts'
import { liveProgram, seedRestart } from '../lib/seed.ts'
import { get } from '../../test/support/http.ts'
import { startHey, type LoadResult } from '../../test/support/load.ts'

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
  await sleep(3000)
  const deploy = await timed(() => runSequence(d.lab, ['backend'], { inventory: d.inventory, extraVars: { backend_archive_src: next.dir } }))
  await sleep(3000)
  const ours = await load.stop()
  const served = await get(`http://${d.address}/health/`, HOSTNAME)
  ctx.log(`figure 1: ours ${failedText(ours)} failed over ${ours.seconds.toFixed(0)} s; /health/ says ${served.body.trim()}`)

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

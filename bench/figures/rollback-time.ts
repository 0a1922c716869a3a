// Figure 6: a rollback's wall time, from the command (`ansible-playbook playbooks/rollback.yml`, the
// README's) to the previous release serving (its version answering /health/ through nginx), and
// the switch alone (`bin/deploy rollback` on the server, what the playbook runs) for comparison.
// Goal: under 15 s on an idle machine; the load average is written beside the figure.
import { loadavg } from 'node:os'
import type { Bench } from '../lib/bench.ts'
import { round, runSequence } from '../lib/deploy.ts'
import { HOSTNAME, nextVersion, PROJECT_DIR, type Deployed } from '../lib/host.ts'
import { fmt } from '../lib/report.ts'
import { get, waitFor } from '../../test/support/http.ts'

const GOAL_S = 15
const load = () => loadavg().map((x) => x.toFixed(2)).join(' / ')

/** The version /health/ answers (the app copy's VERSION), or '' when it does not answer 200. */
async function version(d: Deployed): Promise<string> {
  const r = await get(`http://${d.address}/health/`, HOSTNAME, 5_000).catch(() => undefined)
  return r?.status === 200 ? (/bench-\d+/.exec(r.body)?.[0] ?? '') : ''
}

/** Seconds from now until /health/ answers `expected` (polled every 100 ms while `running` runs). */
async function timeUntilServing(d: Deployed, expected: string, running: Promise<unknown>): Promise<number> {
  const t0 = performance.now()
  let done = false
  void running.finally(() => { done = true })
  for (;;) {
    if ((await version(d)) === expected) return (performance.now() - t0) / 1000
    if (done && (await version(d)) !== expected) throw new Error(`${expected} does not serve after the rollback (${await version(d) || 'no answer'})`)
    await new Promise((r) => setTimeout(r, 100))
  }
}

export async function rollbackTime(ctx: Bench, d: Deployed): Promise<void> {
  // Two releases at least: the live one and one before it.
  if (d.versions < 2) {
    await runSequence(d.lab, ['backend'], { inventory: d.inventory, extraVars: { backend_archive_src: nextVersion(d).dir } })
    await waitFor(`http://${d.address}/health/`, HOSTNAME, `bench-${d.versions}`, 30)
  }
  const live = `bench-${d.versions}`
  const previous = `bench-${d.versions - 1}`
  const loadBefore = load()
  ctx.log(`figure 6: rolling back from ${live} to ${previous} (load ${loadBefore})`)
  const t0 = performance.now()
  const playbook = d.lab.runPlaybook('rollback', { inventory: d.inventory })
  const serving = await timeUntilServing(d, previous, playbook)
  const r = await playbook
  const playbookDone = (performance.now() - t0) / 1000
  if (r.code !== 0) throw new Error(`rollback.yml failed (exit ${r.code}): ${r.output.trim().split('\n').slice(-10).join('\n')}`)
  ctx.log(`figure 6: ${previous} served after ${round(serving)} s; the switch alone next`)
  // Forward again to the live release, then the switch alone back (what the playbook runs on the server).
  const forward = await d.sh(`${PROJECT_DIR}/bin/deploy switch "$(ls -d ${PROJECT_DIR}/releases/* | sort | tail -n 1)"`)
  if (forward.code !== 0) throw new Error(`switch forward failed: ${forward.stderr}`)
  await waitFor(`http://${d.address}/health/`, HOSTNAME, live, 30)
  const sw = d.sh(`${PROJECT_DIR}/bin/deploy rollback`)
  const switchSeconds = await timeUntilServing(d, previous, sw)
  const swr = await sw
  if (swr.code !== 0) throw new Error(`bin/deploy rollback failed: ${swr.stderr}`)
  const loadAfter = load()
  ctx.figures.push({
    id: '6',
    name: 'Rollback: command to the previous release serving',
    unit: 's',
    ours: round(serving),
    baseline: round(switchSeconds),
    oursText: `${fmt(round(serving), 's')} (ansible-playbook playbooks/rollback.yml)`,
    baselineText: `${fmt(round(switchSeconds), 's')} (bin/deploy rollback on the server)`,
    goal: { kind: 'check', ok: serving < GOAL_S, text: `< ${GOAL_S} s (idle machine)` },
    note: `From ${live} to ${previous} (host deployed by ${d.firstDeploy.runs.map((r) => r.playbook).join(', ')}), /health/ polled every 100 ms through nginx; the playbook ended after ` +
      `${fmt(round(playbookDone), 's')}. Load average (1/5/15 min) before ${loadBefore}, after ${loadAfter}: ` +
      'the goal is for an idle machine.',
    detail: { from: live, to: previous, servingSeconds: round(serving), playbookSeconds: round(playbookDone), switchSeconds: round(switchSeconds), loadBefore, loadAfter },
  })
}

// Figure 3: a no-op run of the four playbooks (changed count, where its time goes) vs the first deploy.
import type { Bench } from '../lib/bench.ts'
import { ALL_PLAYBOOKS, round, runSequence } from '../lib/deploy.ts'
import type { Deployed } from '../lib/host.ts'
import { countingSessions } from '../lib/remote.ts'
import { fmt } from '../lib/report.ts'
import { describe, reportLine, slowness, taskReport } from '../lib/slowness.ts'

const GOAL = 0.2

export async function noOpRun(ctx: Bench, d: Deployed): Promise<void> {
  ctx.log('figure 3: no-op run of the four playbooks')
  const { value: noop, sessions } = await countingSessions(d.sh, () =>
    runSequence(d.lab, ALL_PLAYBOOKS, { inventory: d.inventory, extraVars: { backend_archive_src: `${d.scratch}/app-bench-1` } }))
  const slow = noop.runs.map((r) => slowness(r))
  const ours = taskReport(noop.runs)
  const first = taskReport(d.firstDeploy.runs)
  ctx.log(`no-op: ${noop.seconds} s, changed=${noop.changed}`)
  for (const l of describe(slow)) ctx.log(`  ${l}`)
  const ratio = noop.seconds / d.firstDeploy.seconds
  ctx.figures.push({
    id: '3',
    name: 'No-op run of the four playbooks vs the first deploy',
    unit: 's',
    ours: noop.seconds,
    baseline: d.firstDeploy.seconds,
    oursText: `${fmt(noop.seconds, 's')}, changed=${noop.changed}`,
    baselineText: `${fmt(d.firstDeploy.seconds, 's')} (first deploy)`,
    goal: { kind: 'check', ok: noop.changed === 0 && ratio <= GOAL, text: `ratio ≤ ${GOAL.toFixed(2)}, changed=0` },
    note: `no-op: ${noop.runs.map((r) => `${r.playbook} ${r.seconds} s`).join(', ')}; first deploy: ` +
      `${d.firstDeploy.runs.map((r) => `${r.playbook} ${r.seconds} s`).join(', ')}. ` +
      `${reportLine('No-op', ours, sessions)}. ${reportLine('First deploy', first, d.firstDeploySessions)}. ` +
      `In the no-op run: fact gathering ${slow.reduce((a, x) => a + x.factGathering.count, 0)}× ` +
      `(${round(slow.reduce((a, x) => a + x.factGathering.seconds, 0), 1)} s), apt package index refreshes ` +
      `${slow.reduce((a, x) => a + x.aptCacheUpdates.count, 0)}× (${round(slow.reduce((a, x) => a + x.aptCacheUpdates.seconds, 0), 1)} s). ` +
      'Per-task times in results.json.',
    detail: {
      noopSeconds: noop.seconds,
      firstDeploySeconds: d.firstDeploy.seconds,
      ratio: round(ratio, 3),
      noop: noop.runs.map(({ tasks: _t, ...r }) => r),
      firstDeploy: d.firstDeploy.runs.map(({ tasks: _t, ...r }) => r),
      tasks: { noop: ours, firstDeploy: first },
      sshSessions: { noop: sessions, firstDeploy: d.firstDeploySessions },
      slowness: slow,
    },
  })
}

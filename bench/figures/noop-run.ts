// Figure 3: a no-op run of the four playbooks (changed count, where its time goes) vs the first deploy.
import type { Bench } from '../lib/bench.ts'
import { ALL_PLAYBOOKS, round, runSequence } from '../lib/deploy.ts'
import type { Deployed } from '../lib/host.ts'
import { sshLogins } from '../lib/remote.ts'
import { fmt } from '../lib/report.ts'
import { describe, slowness } from '../lib/slowness.ts'

export async function noOpRun(ctx: Bench, d: Deployed): Promise<void> {
  ctx.log('figure 3: no-op run of the four playbooks')
  const loginsBefore = await sshLogins(d.sh).catch(() => null)
  const noop = await runSequence(d.lab, ALL_PLAYBOOKS, { inventory: d.inventory, extraVars: { backend_archive_src: `${d.scratch}/app-bench-1` } })
  const loginsAfter = await sshLogins(d.sh).catch(() => null)
  // The second count's own login is in it.
  const logins = loginsBefore !== null && loginsAfter !== null ? loginsAfter - loginsBefore - 1 : null
  const slow = noop.runs.map((r) => slowness(r))
  ctx.log(`no-op: ${noop.seconds} s, changed=${noop.changed}`)
  for (const l of describe(slow)) ctx.log(`  ${l}`)
  ctx.figures.push({
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
      `(${round(slow.reduce((a, x) => a + x.factGathering.seconds, 0), 1)} s), apt package index refreshes ` +
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

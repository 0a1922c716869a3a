// Figure 2: wall time of a code-only change: the playbooks the action's plan picks vs the seed's four.
import type { Bench } from '../lib/bench.ts'
import { ALL_PLAYBOOKS, runSequence } from '../lib/deploy.ts'
import { HOSTNAME, nextVersion, type Deployed } from '../lib/host.ts'
import { loadPlanner } from '../lib/plan.ts'
import { fmt } from '../lib/report.ts'
import { countingSessions } from '../lib/remote.ts'
import { reportLine, taskReport } from '../lib/slowness.ts'
import { waitFor } from '../../test/support/http.ts'

export async function codeChangeTime(ctx: Bench, d: Deployed): Promise<void> {
  const changed = ['app/pages/views.py', 'app/VERSION']
  const planner = await loadPlanner(ctx.repo)
  let playbooks: string[]
  let planNote: string
  // The tags of the playbooks the plan runs in part (backend's release only).
  let tags: Record<string, string[]> = {}
  if ('missing' in planner) {
    playbooks = ['backend']
    planNote = `the action's planner is missing (${planner.missing}): backend assumed`
  } else if (planner.planFromRecords) {
    // A push plans from what the host last ran (its deploy state): every playbook from the commit before.
    const p = planner.planFromRecords(changed)
    playbooks = p.run
    tags = p.tags
    planNote = `plan from ${p.source} (every playbook last ran from the commit before) for ${changed.join(', ')}: ${p.label || 'nothing'}`
  } else {
    playbooks = planner.plan(changed)
    planNote = `plan from ${planner.source} for ${changed.join(', ')}: ${playbooks.join(', ') || 'nothing'}`
  }
  ctx.log(`figure 2: ${planNote}`)
  const { value: ours, sessions: oursSessions } = await countingSessions(d.sh, () =>
    runSequence(d.lab, playbooks, { inventory: d.inventory, extraVars: { backend_archive_src: nextVersion(d).dir }, tags }))
  await waitFor(`http://${d.address}/health/`, HOSTNAME, `bench-${d.versions}`, 30)
  ctx.log(`figure 2: ours ${ours.seconds} s; now the seed's way (all four)`)
  const { value: seed, sessions: seedSessions } = await countingSessions(d.sh, () =>
    runSequence(d.lab, ALL_PLAYBOOKS, { inventory: d.inventory, extraVars: { backend_archive_src: nextVersion(d).dir } }))
  await waitFor(`http://${d.address}/health/`, HOSTNAME, `bench-${d.versions}`, 30)
  ctx.log(`figure 2: seed ${seed.seconds} s`)
  const oursTasks = taskReport(ours.runs)
  const seedTasks = taskReport(seed.runs)
  ctx.figures.push({
    id: '2',
    name: 'Code-only change: wall time of the planned playbooks',
    unit: 's',
    ours: ours.seconds,
    baseline: seed.seconds,
    oursText: `${fmt(ours.seconds, 's')} (${playbooks.map((p) => (tags[p] ? `${p} --tags ${tags[p]!.join(',')}` : p)).join(', ')})`,
    baselineText: `${fmt(seed.seconds, 's')} (all four)`,
    goal: { kind: 'ratio-max', value: 0.15, text: 'ratio ≤ 0.15' },
    note: `${planNote}. Ours: ${ours.runs.map((r) => `${r.playbook} ${r.seconds} s`).join(', ')}; ` +
      `seed: ${seed.runs.map((r) => `${r.playbook} ${r.seconds} s`).join(', ')}. ` +
      `${reportLine('Ours', oursTasks, oursSessions)}. ${reportLine('Seed', seedTasks, seedSessions)}.`,
    detail: {
      changedPaths: changed,
      plan: playbooks,
      tags,
      ours: ours.runs.map(({ tasks: _t, ...r }) => r),
      seed: seed.runs.map(({ tasks: _t, ...r }) => r),
      tasks: { ours: oursTasks, seed: seedTasks },
      sshSessions: { ours: oursSessions, seed: seedSessions },
    },
  })
}

// Figure 5: the action's overhead (start → first playbook, whole run vs by hand) and the plan's
// computation time. Needs no host.
import { actionOverhead } from '../lib/action.ts'
import { firstLine, type Bench } from '../lib/bench.ts'
import { round } from '../lib/deploy.ts'
import { loadPlanner, syntheticDiff, timePlan } from '../lib/plan.ts'
import { fmt } from '../lib/report.ts'

export async function actionAndPlanOverhead(ctx: Bench): Promise<void> {
  ctx.log('figure 5: action overhead (dist/index.js, ansible-version system, trivial plan)')
  try {
    const a = await actionOverhead(ctx.repo, ctx.scratch)
    if ('missing' in a) {
      ctx.missing('5a', 'Action: start → first playbook (Ansible present)', 's', { kind: 'none', text: '—' }, a.missing)
    } else {
      ctx.log(`figure 5: action first playbook after ${a.toFirstPlaybook.toFixed(2)} s, total ${a.total.toFixed(2)} s; by hand ${a.byHand.toFixed(2)} s`)
      ctx.figures.push({
        id: '5a', name: 'Action: start → first ansible-playbook (Ansible already present)', unit: 's',
        ours: round(a.toFirstPlaybook, 2), baseline: null, baselineText: 'n/a (by hand: 0)',
        goal: { kind: 'none', text: '—' },
        note: a.note,
        detail: a,
      })
      ctx.figures.push({
        id: '5b', name: 'Action: whole run of a trivial plan vs the same playbook by hand', unit: 's',
        ours: round(a.total, 2), baseline: round(a.byHand, 2),
        goal: { kind: 'none', text: '—' },
        detail: a,
      })
    }
  } catch (e) {
    ctx.log(`figure 5a failed: ${(e as Error).stack}`)
    ctx.missing('5a', 'Action: start → first playbook (Ansible present)', 's', { kind: 'none', text: '—' }, `failed: ${firstLine(e)}`)
  }

  ctx.log('figure 5: plan computation on a synthetic 1,000-file diff')
  const planner = await loadPlanner(ctx.repo)
  if ('missing' in planner) {
    ctx.missing('5c', 'Plan computation, 1,000-file diff (median)', 'ms', { kind: 'none', text: '—' }, planner.missing)
    return
  }
  const big = timePlan(planner, syntheticDiff(1000), 200)
  const small = timePlan(planner, syntheticDiff(1), 2000)
  ctx.log(`figure 5: plan of 1,000 paths ${big.medianMs.toFixed(3)} ms (median), 1 path ${small.medianMs.toFixed(3)} ms`)
  ctx.figures.push({
    id: '5c', name: 'Plan computation, synthetic 1,000-file diff (median of 200) vs 1-file diff', unit: 'ms',
    ours: round(big.medianMs, 3), baseline: round(small.medianMs, 3),
    oursText: `${fmt(big.medianMs, 'ms')} (p90 ${fmt(big.p90Ms, 'ms')})`, baselineText: `${fmt(small.medianMs, 'ms')} (1 path)`,
    goal: { kind: 'none', text: '—' },
    note: `${planner.source}, repository model read once; the 1,000 paths mix app, roles, docs, tests and action files; plan: ${big.run.join(', ')}.`,
    detail: { big, small },
  })
}

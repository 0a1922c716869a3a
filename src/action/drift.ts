// The drift check: after the run, every deploy playbook in check mode with diff on the hosts
// deployed from this copy, judged against their deploy state (core/drift.ts). Nothing is recorded
// on the hosts (check mode never records).
import { findDrift, type DriftReport } from '../core/drift.ts'
import { makePlan } from '../core/plan/make.ts'
import { DEPLOY_PLAYBOOKS } from '../core/playbooks.ts'
import type { PreflightResult } from '../core/preflight.ts'
import type { RunResult } from '../core/results.ts'
import { runPlaybooks, type AnsibleRunSettings, type RunHooks } from '../core/run.ts'
import type { Settings } from './inputs.ts'
import { planRequest } from './plan-request.ts'

export interface DriftCheck {
  report: DriftReport
  result: RunResult
}

export async function checkDrift(settings: Settings, root: string, checked: Pick<PreflightResult, 'planConfig' | 'event'>, run: AnsibleRunSettings, hooks: RunHooks, log: (line: string) => void): Promise<DriftCheck> {
  // The state plan says, per host and playbook, whether a deploy is pending there.
  const { plan } = await makePlan({ ...planRequest({ ...settings, playbooks: 'auto' }, root, checked, run, log), readStateWith: run })
  const result = await runPlaybooks([...DEPLOY_PLAYBOOKS], { ...run, check: true, diff: true, limit: plan.limit ?? run.limit }, hooks)
  return { report: findDrift(result, plan), result }
}

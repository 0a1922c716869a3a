// The drift check: after the run, every deploy playbook in check mode with diff on the hosts
// deployed from this copy, judged against their deploy state as read for the plan (core/drift.ts).
// Nothing is recorded on the hosts (check mode never records).
import { findDrift, type DriftReport } from '../core/drift.ts'
import type { Plan } from '../core/plan/types.ts'
import { DEPLOY_PLAYBOOKS } from '../core/playbooks.ts'
import type { RunResult } from '../core/results.ts'
import { runPlaybooks, type AnsibleRunSettings, type RunHooks } from '../core/run.ts'

export interface DriftCheck {
  report: DriftReport
  result: RunResult
}

/** `upToDate`: the state plan (per host and playbook, whether a deploy is pending); absent when the state could not be read. */
export async function checkDrift(upToDate: Plan | undefined, run: AnsibleRunSettings, hooks: RunHooks): Promise<DriftCheck> {
  const result = await runPlaybooks([...DEPLOY_PLAYBOOKS], { ...run, check: true, diff: true, limit: upToDate?.limit ?? run.limit }, hooks)
  return { report: findDrift(result, upToDate ?? {}), result }
}

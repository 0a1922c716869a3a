// A host the state read could not reach is a failure of the run, reported once the others are
// deployed: it got nothing of this run, and what it lacks is unknown. (A reachable host with no
// state, never deployed from this copy, stays a notice.) Pure: the plan and the result in.
import type { Plan } from './plan/types.ts'
import type { RunResult } from './results.ts'

export interface Unreached {
  host: string
  /** One line: the host, why it was not reached, what it did not get, what happens next. */
  message: string
}

/** The hosts a state-based plan left out because they did not answer. */
export function unreachedHosts(plan: Plan, result: Pick<RunResult, 'playbooks'>): Unreached[] {
  const deployedTo = (host: string) => (plan.hosts ?? []).filter((h) => h.host !== host && !h.excluded).map((h) => h.host)
  return (plan.hosts ?? []).filter((h) => h.excluded && h.state === 'unreachable').map((h) => {
    const to = h.playbooks[0]?.to ?? 'this revision'
    const ran = result.playbooks.map((p) => p.playbook)
    const others = deployedTo(h.host)
    const missed = ran.length > 0
      ? `it did not get ${ran.join(', ')} (${to})${others.length > 0 ? `, which ran on ${others.join(', ')}` : ''}`
      : `its deploy state is unknown, so it may lack ${to}`
    return { host: h.host, message: `${h.host} was not deployed: unreachable (${h.message ?? 'no answer'}): ${missed}; the next push deploys it once it answers` }
  })
}

/** The run's status once unreachable hosts count: any makes it a failure. */
export function statusWithUnreached(result: RunResult, unreached: Unreached[]): RunResult['status'] {
  return unreached.length > 0 ? 'failure' : result.status
}

// Backend's release alone: when everything that changed on a host since the revision backend last
// ran from there is the app's own code (no role, playbook, inventory, vault or other shared input),
// the rest of the role (system, settings, processes, database, backups) would find nothing to do, so
// the run keeps to the release (the role's `backend_deploy` tag; validation and facts run with any
// tag). The hosts record the run as usual: their system parts are as the last full run left them,
// from inputs that have not changed since. Pure.
import { short } from '../format.ts'
import type { Playbook } from '../playbooks.ts'
import { APP_SOURCE } from './classify.ts'
import type { HostPlan, Plan, PlaybookPart, Trigger } from './types.ts'

/** The tags of backend's release (roles/backend/tasks/main.yml). */
export const RELEASE_TAGS = ['backend_deploy']

/** The release alone, since these revisions (each host's own). */
function releasePart(commits: string[]): PlaybookPart {
  const label = 'release only'
  return { tags: RELEASE_TAGS, label, why: `${label}: only app code changed since ${[...new Set(commits.map(short))].join(', ')}` }
}

/** The part of `playbook` these triggers (changed since `commit`) need, when it is not the whole playbook. */
export function partFor(playbook: Playbook, triggers: Trigger[], commit: string): PlaybookPart | undefined {
  if (playbook !== 'backend' || triggers.length === 0) return undefined
  if (!triggers.every((t) => t.label === APP_SOURCE)) return undefined
  return releasePart([commit])
}

/**
 * One part for every host that runs the playbook, or none: a run's tags apply to all its hosts. The
 * release is the one part there is; its revisions are the ones the hosts recorded.
 */
export function commonPart(playbook: Playbook, hosts: HostPlan[]): PlaybookPart | undefined {
  const mine = hosts.map((h) => h.playbooks.find((x) => x.playbook === playbook))
  if (mine.length === 0 || mine.some((hp) => !hp?.part || !hp.from)) return undefined
  return releasePart(mine.map((hp) => hp!.from!.commit))
}

/** "backend (release only: only app code changed since abc1234)", or the playbook's name. */
export function runLabel(plan: Pick<Plan, 'playbooks'>, playbook: Playbook): string {
  const part = plan.playbooks.find((d) => d.playbook === playbook)?.part
  return part ? `${playbook} (${part.why})` : playbook
}

/** The tags each planned playbook runs with, for the runner (absent: the whole playbook). */
export function planTags(plan: Pick<Plan, 'playbooks'>): Partial<Record<Playbook, string[]>> {
  const out: Partial<Record<Playbook, string[]>> = {}
  for (const d of plan.playbooks) if (d.run && d.part) out[d.playbook] = d.part.tags
  return out
}

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

/** The part of `playbook` these triggers (changed since `commit`) need, when it is not the whole playbook. */
export function partFor(playbook: Playbook, triggers: Trigger[], commit: string): PlaybookPart | undefined {
  if (playbook !== 'backend' || triggers.length === 0) return undefined
  if (!triggers.every((t) => t.label === APP_SOURCE)) return undefined
  return { tags: RELEASE_TAGS, why: `release only: only app code changed since ${short(commit)}` }
}

/** One part for every host that runs the playbook, or none: a run's tags apply to all its hosts. */
export function commonPart(playbook: Playbook, hosts: HostPlan[]): PlaybookPart | undefined {
  const parts = hosts.map((h) => h.playbooks.find((x) => x.playbook === playbook)?.part)
  if (parts.length === 0 || parts.some((p) => !p)) return undefined
  const tags = parts[0]!.tags
  if (parts.some((p) => p!.tags.join(',') !== tags.join(','))) return undefined
  const whys = [...new Set(parts.map((p) => p!.why))]
  if (whys.length === 1) return { tags, why: whys[0]! }
  const since = whys.map((w) => w.replace(/^.* since /, ''))
  return { tags, why: `${parts[0]!.why.replace(/ since .*$/, '')} since ${since.join(', ')}` }
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

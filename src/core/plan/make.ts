// The entry of planning, once for the action and the CLI: the repository model, the hosts' deploy
// state, what git says (one visit), then one planner: named playbooks, the state (what each host
// lacks), or the changes of the event or range. The override file comes in already read (by the
// validation pass); each module is entered once.
import { readLayout } from '../layout-read.ts'
import { layoutNote } from '../layout.ts'
import { readRepo } from '../repo.ts'
import type { AnsibleRunSettings } from '../run.ts'
import type { Playbook } from '../playbooks.ts'
import { readDeployState } from './state-read.ts'
import { askGit, gitIn, splitByPrefix, type ChangeSet, type ChangeSource } from './changes.ts'
import { classifier } from './classify.ts'
import type { PlanConfig } from './config.ts'
import { planFromState, withHostRecords } from './from-state.ts'
import { planAuto, planExplicit } from './from-changes.ts'
import { joiningHosts, joinPlaybooks, joinReason, releaseChanges } from './join.ts'
import { planTags } from './parts.ts'
import type { Head, HostState, Plan, StateRead } from './types.ts'

export interface PlanRequest {
  /** The repository's working directory (playbooks/, roles/, the inventory). */
  root: string
  /** The override file (.github/deploy-plan.yml) with the inventory in use (config.ts). */
  config: PlanConfig
  selection: 'auto' | Playbook[]
  /** How named playbooks are described ("workflow_dispatch: base named in the playbooks input"). */
  namedSource: string
  /** What triggered an automatic plan ("push", "django-deploy deploy"). */
  event: string
  /** The event's or range's changes: the plan's source without deploy state, and the fallback. */
  changes: ChangeSource
  /** Reads and checks the inventory's layout through these settings, before anything connects (a LayoutError: bad input). */
  readLayoutWith?: AnsibleRunSettings
  /** Reads the hosts' deploy state through these settings (as the runs connect); absent: plan from the changes only (a pull-request preview). */
  readStateWith?: AnsibleRunSettings
  /** Deploys the working tree (the CLI), not only HEAD. */
  workingTree?: boolean
  limit?: string
  /** Also judge, from the same state read, which playbooks each host is up to date with (the drift check's question). */
  judgeState?: boolean
  now?: number
  log?: (line: string) => void
}

export interface Planned {
  plan: Plan
  /** What the run deploys (the hosts record it). */
  head: Head
  /** The state read, when there was one. */
  state?: StateRead
  /** The changes planned from, when the plan came from them. */
  changes?: ChangeSet
  /** With judgeState and a state read: the state plan (per host and playbook, whether a deploy is pending there). */
  upToDate?: Plan
  /** The tags of each playbook the plan runs in part (backend's release only: parts.ts); the runner's planTags. */
  tags: Partial<Record<Playbook, string[]>>
}

/** Every commit the hosts recorded. */
const recorded = (hosts: HostState[]): string[] => hosts.flatMap((h) => Object.values(h.records).map((r) => r!.commit))

/** The note a plan carries when it fell back to the event's changes. */
export function stateFallbackNote(reason: string, changes: ChangeSet): string {
  return `The deploy state could not be read (${reason}): planned from ${changes.description} instead, as before the state existed.`
}

export async function makePlan(req: PlanRequest): Promise<Planned> {
  const model = readRepo(req.root)
  const layout = req.readLayoutWith ? await readLayout(req.readLayoutWith) : undefined
  if (layout && !layout.ok) req.log?.(`The layout is checked by the playbooks: ${layout.reason}`)
  const planned = { ...await planWith(req, model), tags: {} }
  planned.tags = planTags(planned.plan)
  if (layout?.ok) {
    planned.plan.layout = layout.layout
    const note = layoutNote(layout.layout)
    if (note) planned.plan.notes.push(note)
  }
  return planned
}

async function planWith(req: PlanRequest, model: ReturnType<typeof readRepo>): Promise<Omit<Planned, 'tags'>> {
  const state = req.readStateWith ? await readDeployState(req.readStateWith) : undefined
  const auto = req.selection === 'auto'
  const judge = Boolean(req.judgeState && state?.ok)
  // Servers added to the inventory join by a dispatch of bootstrap (join.ts): their plan needs the others'.
  const joining = !auto && state?.ok ? joiningHosts(req.selection as Playbook[], state.hosts) : []
  const git = await askGit(gitIn(req.root, req.log), {
    workingTree: req.workingTree ?? false,
    recorded: (auto || judge || joining.length > 0) && state?.ok ? recorded(state.hosts) : [],
    source: auto && !state?.ok ? req.changes : undefined,
  })
  const { head } = git
  const now = req.now ?? Date.now()

  const fromState = (hosts: HostState[], changedSince = git.changedSince) => planFromState({ model, config: req.config, head, hosts, changedSince, now, limit: req.limit, event: req.event })

  if (req.selection !== 'auto') {
    const selection = joining.length > 0 && state?.ok ? joinPlaybooks(req.selection, joining, fromState(state.hosts, releaseChanges(git.changedSince, classifier(model, req.config)))) : req.selection
    const named = planExplicit(model, selection, req.namedSource)
    if (joining.length > 0) {
      const why = joinReason(joining)
      named.notes.push(`${why}.`)
      for (const d of named.playbooks) if (d.run && !req.selection.includes(d.playbook)) d.reason = why
    }
    const upToDate = judge && state?.ok ? { upToDate: fromState(state.hosts) } : {}
    return { plan: state?.ok ? withHostRecords(named, state.hosts, head, now) : named, head, state, ...upToDate }
  }
  if (state?.ok) {
    const plan = fromState(state.hosts)
    return { plan, head, state, ...(judge ? { upToDate: plan } : {}) }
  }
  const found = git.changes!
  const { inside, outside } = found.kind === 'diff' ? splitByPrefix(found.paths, git.prefix) : { inside: [], outside: [] }
  const changes: ChangeSet = found.kind === 'diff' ? { ...found, paths: inside } : found
  const plan = planAuto(model, changes, req.config)
  if (outside.length > 0) plan.ignored.push({ label: 'outside the working directory', paths: outside })
  if (state && !state.ok) plan.fallback = [stateFallbackNote(state.reason, changes), plan.fallback].filter(Boolean).join(' ')
  return { plan, head, state, changes: found }
}

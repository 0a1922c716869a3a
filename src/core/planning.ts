// Planning, once for the action and the CLI: the repository model, the override file, then either
// the hosts' deploy state (what each host lacks) or the changes of the event or range.
import { changedSince, gitIn, type ChangeSet, type Git } from './changes.ts'
import type { LayoutRead } from './layout-read.ts'
import { layoutNote } from './layout.ts'
import { planAuto, planExplicit, underPrefix, type Plan } from './plan.ts'
import { readPlanConfig } from './plan-config.ts'
import type { Playbook } from './playbooks.ts'
import { readRepo } from './repo.ts'
import { planExplicitWithState, planFromState, recordedCommits, stateFallbackNote, type Head, type StateRead } from './state.ts'

export interface PlanRequest {
  /** The repository's working directory (playbooks/, roles/, the inventory). */
  root: string
  inventory: string
  selection: 'auto' | Playbook[]
  /** How named playbooks are described ("workflow_dispatch: base named in the playbooks input"). */
  namedSource: string
  /** What triggered an automatic plan ("push", "django-deploy deploy"). */
  event: string
  /** The event's or range's changes: the plan's source without deploy state, and the fallback. */
  changes: (git: Git) => Promise<ChangeSet>
  /** Reads and checks the inventory's layout, before anything connects (throws a LayoutError). */
  readLayout?: () => Promise<LayoutRead>
  /** Reads the hosts' deploy state; absent: plan from the changes only (a pull-request preview). */
  readState?: () => Promise<StateRead>
  /** Deploys the working tree (the CLI), not only HEAD. */
  workingTree?: boolean
  limit?: string
  now?: number
  log?: (line: string) => void
}

export interface Planned {
  plan: Plan
  /** What the run deploys (the hosts record it). */
  head: Head
  /** How long the state read took, when there was one. */
  stateMs?: number
}

/** Keeps the paths under the working directory, relative to it (git reports them from the top). */
function inside(paths: string[], prefix: string): string[] {
  const p = prefix.replace(/^\/+|\/+$/g, '')
  return p === '' ? paths : paths.filter((x) => x.startsWith(`${p}/`)).map((x) => x.slice(p.length + 1))
}

async function headOf(git: Git, workingTree: boolean): Promise<Head> {
  const commit = (await git.run(['rev-parse', 'HEAD'])).stdout.trim()
  const dirty = workingTree && (await git.run(['status', '--porcelain', '--untracked-files=normal'])).stdout.trim() !== ''
  return { commit, dirty }
}

export async function makePlan(req: PlanRequest): Promise<Planned> {
  const layout = req.readLayout ? await req.readLayout() : undefined
  if (layout && !layout.ok) req.log?.(`The layout is checked by the playbooks: ${layout.reason}`)
  const planned = await planWith(req)
  if (layout?.ok) {
    planned.plan.layout = layout.layout
    const note = layoutNote(layout.layout)
    if (note) planned.plan.notes.push(note)
  }
  return planned
}

async function planWith(req: PlanRequest): Promise<Planned> {
  const model = readRepo(req.root)
  const git = gitIn(req.root, req.log)
  const prefix = (await git.run(['rev-parse', '--show-prefix'])).stdout.trim()
  const head = await headOf(git, req.workingTree ?? false)
  const now = req.now ?? Date.now()
  const state = req.readState ? await req.readState() : undefined

  if (req.selection !== 'auto') {
    const plan = state?.ok
      ? planExplicitWithState(model, req.selection, req.namedSource, state.hosts, head, now)
      : planExplicit(model, req.selection, req.namedSource)
    return { plan, head, stateMs: state?.durationMs }
  }

  const config = readPlanConfig(req.root, req.inventory)
  if (state?.ok) {
    const changed: Record<string, string[] | undefined> = {}
    for (const c of recordedCommits(state.hosts, head)) {
      const paths = await changedSince(git, c, { workingTree: head.dirty })
      changed[c] = paths && inside(paths, prefix)
    }
    const plan = planFromState({ model, config, head, hosts: state.hosts, changedSince: changed, now, limit: req.limit, event: req.event })
    return { plan, head, stateMs: state.durationMs }
  }

  const found = await req.changes(git)
  const { changes, outside } = underPrefix(found, prefix)
  const plan = planAuto(model, changes, config)
  if (outside.length > 0) plan.ignored.push({ label: 'outside the working directory', paths: outside })
  if (state && !state.ok) plan.fallback = [stateFallbackNote(state.reason, changes), plan.fallback].filter(Boolean).join(' ')
  return { plan, head, stateMs: state?.durationMs }
}

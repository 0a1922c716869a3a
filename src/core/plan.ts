// Which playbooks a set of changed paths needs, and why. Pure: the repository model, the changed
// paths and the configuration in; a Plan out (every playbook with its decision and the paths
// that caused it, the paths that trigger nothing grouped by reason, notes).
import picomatch from 'picomatch'
import type { ChangeSet } from './changes.ts'
import type { Layout } from './layout.ts'
import { PLAN_CONFIG_FILE, type PlanConfig } from './plan-config.ts'
import { DEPLOY_PLAYBOOKS, PLAYBOOKS, isPlaybook, type Playbook } from './playbooks.ts'
import type { RepoModel } from './repo.ts'

export { DEFAULT_PLAN_CONFIG, PLAN_CONFIG_FILE, normaliseGlob, parsePlanConfig, readPlanConfig, type PlanConfig, type PlanRule } from './plan-config.ts'
export type { ChangeSet } from './changes.ts'

export interface Trigger {
  /** Why these paths lead here: "role backend", "shared input", "app source", "override config/**"… */
  label: string
  paths: string[]
}

export interface PlaybookDecision {
  playbook: Playbook
  run: boolean
  /** One sentence: why it runs or why not. */
  reason: string
  triggers: Trigger[]
}

/** One playbook's last completion on a host. */
export interface DeployRecord {
  commit: string
  /** Deployed from a working tree with uncommitted changes (the CLI): the commit says too little. */
  dirty?: boolean
  /** ISO-8601 UTC. */
  finished: string
  /** The GitHub run's URL, or user@machine for the CLI. */
  run: string
}

/** One playbook on one host: from which revision to which, and why it runs or not. */
export interface HostPlaybook {
  playbook: Playbook
  from?: DeployRecord & { ago: string }
  to: string
  run: boolean
  reason: string
}

export interface HostPlan {
  host: string
  state: 'recorded' | 'no state' | 'unreachable' | 'unreadable'
  message?: string
  /** A bootstrap record from this copy exists. */
  bootstrapped: boolean
  /** Why this run leaves the host out (a push never deploys to a host this copy never deployed). */
  excluded?: string
  playbooks: HostPlaybook[]
}

export interface Plan {
  mode: 'auto' | 'explicit'
  /** What was compared: "push 1a2b3c4..5d6e7f8 (12 changed paths)", "workflow_dispatch: playbooks named". */
  source: string
  /** Set when the safe choice was taken because the changes could not be known. */
  fallback?: string
  /** The playbooks that will run, in order. */
  run: Playbook[]
  /** All four playbooks in order, each with its decision. */
  playbooks: PlaybookDecision[]
  /** Changed paths that trigger nothing, grouped by reason. */
  ignored: Trigger[]
  notes: string[]
  changedPaths: number
  /** Per host, from the deploy state: what each playbook ran last and what this run does there. */
  hosts?: HostPlan[]
  /** The --limit the run uses when the plan leaves hosts out. */
  limit?: string
  /** Which host is what (the inventory's groups), when it could be read. */
  layout?: Layout
}

interface Classification { playbooks: readonly Playbook[]; label: string }

const SHARED_ROOT = /^(group_vars|host_vars|library|module_utils|filter_plugins|lookup_plugins|collections)\//
const SHARED_FILES = new Set(['ansible.cfg', 'requirements.yml', 'requirements.yaml'])

/** Compiles the configuration and the model into one function: changed path → playbooks + label. */
export function classifier(model: RepoModel, config: PlanConfig): (path: string) => Classification {
  const opts = { dot: true }
  const rules = config.rules.map((r) => ({ ...r, match: picomatch(r.paths, opts) }))
  const ignore = config.ignore.length > 0 ? picomatch(config.ignore, opts) : () => false
  const app = config.app.length > 0 ? picomatch(config.app, opts) : () => false
  const inventory = config.inventory?.replace(/^\.\//, '').replace(/\/+$/, '')
  const usersOf = (role: string): Playbook[] => PLAYBOOKS.filter((p) => model.playbookRoles[p]?.has(role))
  const shared = (what: string): Classification => ({ playbooks: [...DEPLOY_PLAYBOOKS, 'bootstrap'], label: `shared input (${what})` })

  return (path: string): Classification => {
    for (const r of rules) {
      if (r.match(path)) {
        return r.playbooks.length > 0
          ? { playbooks: r.playbooks, label: `override ${r.paths[0]}` }
          : { playbooks: [], label: `ignored by ${PLAN_CONFIG_FILE}` }
      }
    }
    if (ignore(path)) return { playbooks: [], label: `ignored by ${PLAN_CONFIG_FILE}` }
    const parts = path.split('/')
    const file = parts[parts.length - 1]!

    if (parts[0] === 'roles' && parts.length >= 3) {
      const role = parts[1]!
      if (/\.(md|rst|txt)$/i.test(file) && parts.length === 3) return { playbooks: [], label: 'role documentation' }
      if (['tests', 'molecule'].includes(parts[2]!)) return { playbooks: [], label: 'role tests' }
      const users = usersOf(role)
      if (users.length === 0) return { playbooks: [], label: `role ${role} is used by no playbook` }
      return { playbooks: users, label: `role ${role}` }
    }
    if (parts[0] === 'playbooks') {
      if (parts.length === 2 && /\.ya?ml$/.test(file)) {
        const name = file.replace(/\.ya?ml$/, '')
        if (isPlaybook(name)) return { playbooks: [name], label: `playbook ${name}` }
        return { playbooks: [], label: 'playbooks run by hand (site, rollback…)' }
      }
      if (['group_vars', 'host_vars'].includes(parts[1]!)) return shared(`playbooks/${parts[1]}`)
      return { playbooks: [...DEPLOY_PLAYBOOKS], label: 'files beside the playbooks' }
    }
    if (parts[0] === 'inventories' && parts.length >= 3) {
      if (/\.example\.ya?ml$/.test(file)) return { playbooks: [], label: 'examples' }
      const env = `inventories/${parts[1]}`
      if (inventory && inventory.startsWith('inventories/') && inventory !== env && !inventory.startsWith(`${env}/`)) {
        return { playbooks: [], label: `another inventory than ${inventory}` }
      }
      return shared(env)
    }
    if (SHARED_ROOT.test(path)) return shared(`${parts[0]}/`)
    if (SHARED_FILES.has(path)) return shared(path)
    if (/(^|\/)vault\.ya?ml$/.test(path) || /\.vault$/.test(file)) return shared('vault')
    if (app(path)) return { playbooks: ['backend'], label: 'app source' }
    const top = parts.length > 1 ? parts[0]! : ''
    if (['docs', 'doc'].includes(top) || (parts.length === 1 && /\.(md|rst|txt)$/i.test(file)) || file === 'LICENSE') {
      return { playbooks: [], label: 'documentation' }
    }
    if (['test', 'tests', 'bench'].includes(top)) return { playbooks: [], label: 'tests' }
    if (top === '.github') return { playbooks: [], label: 'CI configuration' }
    if (['src', 'dist', 'scripts', 'node_modules'].includes(top) || /^(package(-lock)?\.json|tsconfig\.json|action\.ya?ml|eslint\.config\.js)$/.test(path)) {
      return { playbooks: [], label: 'the action and the CLI' }
    }
    return { playbooks: [], label: 'outside the Ansible content' }
  }
}

function addTrigger(list: Trigger[], label: string, path: string): void {
  let t = list.find((x) => x.label === label)
  if (!t) {
    t = { label, paths: [] }
    list.push(t)
  }
  t.paths.push(path)
}

function missingNote(model: RepoModel, p: Playbook): string | undefined {
  return model.playbookRoles[p] ? undefined : `playbooks/${p}.yml does not exist`
}

/** The plan for playbooks named explicitly (`all`, a list, a dispatch). Bootstrap runs only here. */
export function planExplicit(model: RepoModel, names: Playbook[], source: string): Plan {
  const wanted = new Set(names)
  const notes: string[] = []
  const playbooks = PLAYBOOKS.map((p): PlaybookDecision => {
    if (!wanted.has(p)) return { playbook: p, run: false, reason: 'not requested', triggers: [] }
    const missing = missingNote(model, p)
    if (missing) {
      notes.push(`${p} was requested but ${missing}.`)
      return { playbook: p, run: false, reason: missing, triggers: [] }
    }
    return { playbook: p, run: true, reason: 'requested', triggers: [] }
  })
  return {
    mode: 'explicit', source, run: playbooks.filter((d) => d.run).map((d) => d.playbook),
    playbooks, ignored: [], notes: [...model.warnings, ...notes], changedPaths: 0,
  }
}

/** The plan for `auto`: from the changes, or the stated safe choice when there is no usable diff. */
export function planAuto(model: RepoModel, changes: ChangeSet, config: PlanConfig): Plan {
  if (changes.kind !== 'diff') {
    const why = changes.kind === 'none'
      ? `${changes.description} has no changed paths to plan from`
      : `${changes.description}: ${changes.reason}`
    const plan = planExplicit(model, [...DEPLOY_PLAYBOOKS], changes.description)
    return {
      ...plan,
      mode: 'auto',
      fallback: `${why}; running every deploy playbook (${DEPLOY_PLAYBOOKS.join(', ')}) to be safe.`,
      playbooks: plan.playbooks.map((d) => ({ ...d, reason: d.run ? 'safe fallback: the changes are unknown' : d.playbook === 'bootstrap' ? 'never runs automatically: run it by dispatch when SSH access must change' : d.reason })),
    }
  }
  const classify = classifier(model, config)
  const byPlaybook = new Map<Playbook, Trigger[]>(PLAYBOOKS.map((p) => [p, []]))
  const ignored: Trigger[] = []
  const paths = [...new Set(changes.paths)].sort()
  for (const path of paths) {
    const c = classify(path)
    if (c.playbooks.length === 0) addTrigger(ignored, c.label, path)
    for (const p of c.playbooks) addTrigger(byPlaybook.get(p)!, c.label, path)
  }
  const notes = [...model.warnings, ...(changes.notes ?? [])]
  const playbooks = PLAYBOOKS.map((p): PlaybookDecision => {
    const triggers = byPlaybook.get(p)!
    if (triggers.length === 0) return { playbook: p, run: false, reason: 'no change concerns it', triggers }
    if (p === 'bootstrap') {
      const own = triggers.some((t) => !t.label.startsWith('shared input'))
      notes.push(own
        ? 'bootstrap changed: it never runs from a push; run it by dispatch (playbooks: bootstrap).'
        : 'shared inputs changed: if they concern SSH access (admins, keys, port), run bootstrap by dispatch.')
      return { playbook: p, run: false, reason: 'never runs from a push: run it by dispatch', triggers }
    }
    const missing = missingNote(model, p)
    if (missing) {
      notes.push(`${p} would run but ${missing}.`)
      return { playbook: p, run: false, reason: missing, triggers }
    }
    return { playbook: p, run: true, reason: `${triggers.map((t) => t.label).join(', ')} changed`, triggers }
  })
  return {
    mode: 'auto',
    source: changes.description,
    run: playbooks.filter((d) => d.run).map((d) => d.playbook),
    playbooks,
    ignored,
    notes,
    changedPaths: paths.length,
  }
}

/**
 * Git reports paths from the repository's top; the plan works inside `prefix` (a working
 * directory below the top, as `git rev-parse --show-prefix` prints it). Paths elsewhere trigger nothing.
 */
export function underPrefix(changes: ChangeSet, prefix: string): { changes: ChangeSet; outside: string[] } {
  const p = prefix.replace(/^\/+|\/+$/g, '')
  if (changes.kind !== 'diff' || p === '') return { changes, outside: [] }
  const inside: string[] = []
  const outside: string[] = []
  for (const path of changes.paths) {
    if (path.startsWith(`${p}/`)) inside.push(path.slice(p.length + 1))
    else outside.push(path)
  }
  return { changes: { ...changes, paths: inside }, outside }
}

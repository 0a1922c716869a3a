// Which playbooks a set of changed paths needs, and why. Pure: the repository model, the changed
// paths and the configuration in; a Plan out (every playbook with its decision and the paths
// that caused it, the paths that trigger nothing grouped by reason, notes).
import picomatch from 'picomatch'
import { parseDocument } from 'yaml'
import { yamlErrorLine } from './extra-vars.ts'
import { DEPLOY_PLAYBOOKS, PLAYBOOKS, inOrder, isPlaybook, type Playbook } from './playbooks.ts'
import type { RepoModel } from './repo.ts'

/** Where the override file lives, relative to the working directory. */
export const PLAN_CONFIG_FILE = '.github/deploy-plan.yml'

export interface PlanRule { paths: string[]; playbooks: Playbook[] }

export interface PlanConfig {
  /** Globs of the application's source: they trigger backend. */
  app: string[]
  /** Globs that trigger nothing, checked after `rules`. */
  ignore: string[]
  /** Globs mapped to playbooks, first match wins, before anything derived from the repository. */
  rules: PlanRule[]
  /** The inventory the run uses (repository-relative): changes to other inventories trigger nothing. */
  inventory?: string
}

export const DEFAULT_PLAN_CONFIG: PlanConfig = { app: ['app/**'], ignore: [], rules: [] }

/** What the event gave us: a diff, no diff at all (dispatch, schedule), or a range we could not resolve. */
export type ChangeSet =
  | { kind: 'diff'; description: string; base: string; head: string; paths: string[]; notes?: string[] }
  | { kind: 'none'; description: string }
  | { kind: 'unresolved'; description: string; reason: string }

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
}

const str = (v: unknown): v is string => typeof v === 'string'

/** Turns `app`, `app/` or `app/**` into globs that match the directory's files. */
export function normaliseGlob(glob: string): string[] {
  let g = glob.trim().replace(/^\.\//, '')
  if (g.endsWith('/')) g = g.slice(0, -1)
  if (g === '' || g === '.') return ['**']
  if (/[*?[\]{}!]/.test(g)) return [g]
  return [g, `${g}/**`]
}

/** Parses the override file. Throws one line naming the bad entry and the expected form. */
export function parsePlanConfig(text: string, file = PLAN_CONFIG_FILE): PlanConfig {
  const parsed = parseDocument(text, { prettyErrors: true })
  const err = parsed.errors[0]
  if (err) {
    // file:line:column and the first line of the message: no code frame (it would become %0A in an annotation).
    const pos = err.linePos?.[0]
    throw new Error(`${file}:${pos?.line ?? 1}:${pos?.col ?? 1}: ${yamlErrorLine(err.message)} (fix the YAML, or delete the file to plan from the repository alone)`)
  }
  const doc: unknown = parsed.toJS() ?? {}
  const fail = (what: string): never => {
    throw new Error(`${file}: ${what} (expected: app: [globs], ignore: [globs], rules: [{ paths: [globs], playbooks: [${PLAYBOOKS.join('|')}] }])`)
  }
  if (typeof doc !== 'object' || Array.isArray(doc)) fail('not a mapping')
  const d = doc as Record<string, unknown>
  for (const k of Object.keys(d)) if (!['app', 'ignore', 'rules'].includes(k)) fail(`unknown key "${k}"`)
  const globs = (v: unknown, what: string): string[] => {
    if (v === undefined) return []
    const list = str(v) ? [v] : v
    if (!Array.isArray(list) || !list.every(str)) fail(`${what} must be a list of globs`)
    return (list as string[]).flatMap(normaliseGlob)
  }
  const config: PlanConfig = {
    app: d.app === undefined ? DEFAULT_PLAN_CONFIG.app : globs(d.app, 'app'),
    ignore: globs(d.ignore, 'ignore'),
    rules: [],
  }
  if (d.rules !== undefined) {
    if (!Array.isArray(d.rules)) fail('rules must be a list')
    for (const [i, r] of (d.rules as unknown[]).entries()) {
      if (typeof r !== 'object' || r === null) fail(`rules[${i}] must be a mapping`)
      const rule = r as Record<string, unknown>
      const paths = globs(rule.paths, `rules[${i}].paths`)
      if (paths.length === 0) fail(`rules[${i}] has no paths`)
      const pbs = rule.playbooks === undefined ? [] : str(rule.playbooks) ? [rule.playbooks] : rule.playbooks
      if (!Array.isArray(pbs) || !pbs.every((p) => str(p) && isPlaybook(p))) fail(`rules[${i}].playbooks must list ${PLAYBOOKS.join(', ')} (or be [] to ignore)`)
      config.rules.push({ paths, playbooks: inOrder(pbs as Playbook[]) })
    }
  }
  return config
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

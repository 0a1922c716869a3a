// The plan's override file (.github/deploy-plan.yml): parsed (pure) and read with the inventory in use.
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { parseDocument } from 'yaml'
import { ValidationError } from '../errors.ts'
import { yamlErrorLine } from '../extra-vars.ts'
import { PLAYBOOKS, inOrder, isPlaybook, type Playbook } from '../playbooks.ts'

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
    throw new ValidationError(`${file}:${pos?.line ?? 1}:${pos?.col ?? 1}: ${yamlErrorLine(err.message)} (fix the YAML, or delete the file to plan from the repository alone)`)
  }
  const doc: unknown = parsed.toJS() ?? {}
  const fail = (what: string): never => {
    throw new ValidationError(`${file}: ${what} (expected: app: [globs], ignore: [globs], rules: [{ paths: [globs], playbooks: [${PLAYBOOKS.join('|')}] }])`)
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

/** The override file (.github/deploy-plan.yml) when there is one, with the inventory in use. */
export function readPlanConfig(root: string, inventory: string): PlanConfig {
  const file = join(root, PLAN_CONFIG_FILE)
  const config = existsSync(file) ? parsePlanConfig(readFileSync(file, 'utf8')) : { ...DEFAULT_PLAN_CONFIG }
  return { ...config, inventory }
}

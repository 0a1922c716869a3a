// Path classification, shared by both planners: which playbooks a changed path triggers and under
// which label, and the pieces of a decision both planners word alike. Pure.
import picomatch from 'picomatch'
import { PLAN_CONFIG_FILE, type PlanConfig } from './config.ts'
import { DEPLOY_PLAYBOOKS, PLAYBOOKS, isPlaybook, type Playbook } from '../playbooks.ts'
import type { RepoModel } from '../repo.ts'
import type { Trigger } from './types.ts'

/** The label of the app's own code (the configuration's `app` paths): what backend's release deploys. */
export const APP_SOURCE = 'app source'

export interface Classification { playbooks: readonly Playbook[]; label: string }

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
    if (app(path)) return { playbooks: ['backend'], label: APP_SOURCE }
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

/** Adds paths under `label` (a new trigger, or the one with that label), each path once. */
export function addTrigger(list: Trigger[], label: string, paths: string[]): void {
  let t = list.find((x) => x.label === label)
  if (!t) {
    t = { label, paths: [] }
    list.push(t)
  }
  for (const p of paths) t.paths.push(p)
}

/** Each trigger's paths sorted, each once (paths gathered from several ranges repeat). */
export function tidyTriggers(list: Trigger[]): Trigger[] {
  for (const t of list) t.paths = [...new Set(t.paths)].sort()
  return list
}

/** Why a playbook cannot run here, if it cannot: its file is missing. */
export function missingPlaybook(model: RepoModel, p: Playbook): string | undefined {
  return model.playbookRoles[p] ? undefined : `playbooks/${p}.yml does not exist`
}

/** Bootstrap never runs from a push: the note its triggers lead to. */
export function bootstrapNote(triggers: Trigger[]): string {
  return triggers.some((t) => !t.label.startsWith('shared input'))
    ? 'bootstrap changed: it never runs from a push; run it by dispatch (playbooks: bootstrap).'
    : 'shared inputs changed: if they concern SSH access (admins, keys, port), run bootstrap by dispatch.'
}

export const BOOTSTRAP_NOT_FROM_PUSH = 'never runs from a push: run it by dispatch'

// What the repository says about itself: which roles each playbook uses (plays' `roles:`,
// include_role/import_role anywhere in their tasks, import_playbook), and each role's
// dependencies (meta/main.yml, include_role/import_role in its tasks), transitively.
// `parseRepo` is pure (file contents in, model out); `readRepo` reads the files.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { basename, join } from 'node:path'
import { parseAllDocuments } from 'yaml'
import { PLAYBOOKS, type Playbook } from './playbooks.ts'

export interface RepoSource {
  /** playbooks/<name>.yml contents by file name without extension (every .yml of playbooks/). */
  playbooks: Record<string, string>
  /** Per role directory: meta/main.yml and the task/handler files (any .yml under tasks/ and handlers/). */
  roles: Record<string, { meta?: string; tasks: string[] }>
}

export interface RepoModel {
  /** Roles used by each of the four playbooks that exist, dependencies included. */
  playbookRoles: Partial<Record<Playbook, Set<string>>>
  /** Direct dependencies of each role (meta and include/import_role in its tasks). */
  roleDeps: Record<string, Set<string>>
  /** Problems met while reading (a file that does not parse): shown, never fatal. */
  warnings: string[]
}

const ROLE_MODULES = new Set([
  'include_role', 'import_role',
  'ansible.builtin.include_role', 'ansible.builtin.import_role',
  'ansible.legacy.include_role', 'ansible.legacy.import_role',
])
const PLAYBOOK_IMPORTS = new Set(['import_playbook', 'ansible.builtin.import_playbook', 'ansible.legacy.import_playbook'])
const TASK_LISTS = ['pre_tasks', 'tasks', 'post_tasks', 'handlers']
const BLOCK_LISTS = ['block', 'rescue', 'always']

type Y = Record<string, unknown>
const isObj = (v: unknown): v is Y => typeof v === 'object' && v !== null && !Array.isArray(v)

/** A role reference as written (`name`, `{ role: name }`, `path/to/name`, `ns.coll.name`) → role name. */
function roleName(ref: unknown): string | undefined {
  let name: unknown = ref
  if (isObj(ref)) name = ref.role ?? ref.name
  if (typeof name !== 'string' || name.includes('{{')) return undefined
  const base = basename(name.trim())
  return base || undefined
}

function rolesInTasks(tasks: unknown, out: Set<string>): void {
  if (!Array.isArray(tasks)) return
  for (const t of tasks) {
    if (!isObj(t)) continue
    for (const [k, v] of Object.entries(t)) {
      if (ROLE_MODULES.has(k)) {
        const r = roleName(isObj(v) ? v : { name: v })
        if (r) out.add(r)
      }
    }
    for (const k of BLOCK_LISTS) rolesInTasks(t[k], out)
  }
}

function parseYamlDocs(text: string, what: string, warnings: string[]): unknown[] {
  const docs = parseAllDocuments(text)
  const out: unknown[] = []
  for (const d of Array.isArray(docs) ? docs : [docs]) {
    if (d.errors.length > 0) {
      warnings.push(`${what}: not valid YAML (${d.errors[0]!.message.split('\n')[0]})`)
      continue
    }
    out.push(d.toJS())
  }
  return out
}

interface PlaybookRefs { roles: Set<string>; imports: string[] }

function playbookRefs(text: string, what: string, warnings: string[]): PlaybookRefs {
  const refs: PlaybookRefs = { roles: new Set(), imports: [] }
  for (const doc of parseYamlDocs(text, what, warnings)) {
    if (!Array.isArray(doc)) continue
    for (const play of doc) {
      if (!isObj(play)) continue
      for (const [k, v] of Object.entries(play)) {
        if (PLAYBOOK_IMPORTS.has(k) && typeof v === 'string') refs.imports.push(basename(v).replace(/\.ya?ml$/, ''))
      }
      if (Array.isArray(play.roles)) {
        for (const r of play.roles) {
          const n = roleName(r)
          if (n) refs.roles.add(n)
        }
      }
      for (const k of TASK_LISTS) rolesInTasks(play[k], refs.roles)
    }
  }
  return refs
}

export function parseRepo(src: RepoSource): RepoModel {
  const warnings: string[] = []
  const roleDeps: Record<string, Set<string>> = {}
  for (const [role, files] of Object.entries(src.roles)) {
    const deps = new Set<string>()
    if (files.meta) {
      for (const doc of parseYamlDocs(files.meta, `roles/${role}/meta/main.yml`, warnings)) {
        if (isObj(doc) && Array.isArray(doc.dependencies)) {
          for (const d of doc.dependencies) {
            const n = roleName(d)
            if (n) deps.add(n)
          }
        }
      }
    }
    for (const [i, t] of files.tasks.entries()) {
      for (const doc of parseYamlDocs(t, `roles/${role} task file ${i + 1}`, warnings)) rolesInTasks(doc, deps)
    }
    deps.delete(role)
    roleDeps[role] = deps
  }

  const refs: Record<string, PlaybookRefs> = {}
  for (const [name, text] of Object.entries(src.playbooks)) refs[name] = playbookRefs(text, `playbooks/${name}.yml`, warnings)

  const closure = (start: Iterable<string>): Set<string> => {
    const seen = new Set<string>()
    const stack = [...start]
    while (stack.length > 0) {
      const r = stack.pop()!
      if (seen.has(r)) continue
      seen.add(r)
      for (const d of roleDeps[r] ?? []) stack.push(d)
    }
    return seen
  }
  const playbookRoles: Partial<Record<Playbook, Set<string>>> = {}
  for (const p of PLAYBOOKS) {
    if (!refs[p]) continue
    // Direct roles plus those of imported playbooks (one file importing another), cycles ignored.
    const direct = new Set<string>()
    const seen = new Set<string>()
    const visit = (name: string) => {
      if (seen.has(name) || !refs[name]) return
      seen.add(name)
      for (const r of refs[name]!.roles) direct.add(r)
      for (const i of refs[name]!.imports) visit(i)
    }
    visit(p)
    playbookRoles[p] = closure(direct)
  }
  return { playbookRoles, roleDeps, warnings }
}

function ymlFiles(dir: string): string[] {
  if (!existsSync(dir)) return []
  const out: string[] = []
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name)
    if (e.isDirectory()) out.push(...ymlFiles(p))
    else if (/\.ya?ml$/.test(e.name)) out.push(p)
  }
  return out.sort()
}

/** Reads playbooks/*.yml and roles/<r>/{meta/main.yml,tasks,handlers} under `root`. */
export function readRepoSource(root: string): RepoSource {
  const src: RepoSource = { playbooks: {}, roles: {} }
  const pdir = join(root, 'playbooks')
  if (existsSync(pdir)) {
    for (const f of readdirSync(pdir).sort()) {
      if (/\.ya?ml$/.test(f) && statSync(join(pdir, f)).isFile()) src.playbooks[f.replace(/\.ya?ml$/, '')] = readFileSync(join(pdir, f), 'utf8')
    }
  }
  const rdir = join(root, 'roles')
  if (existsSync(rdir)) {
    for (const r of readdirSync(rdir, { withFileTypes: true })) {
      if (!r.isDirectory()) continue
      const base = join(rdir, r.name)
      const metaFile = [join(base, 'meta/main.yml'), join(base, 'meta/main.yaml')].find((f) => existsSync(f))
      src.roles[r.name] = {
        meta: metaFile ? readFileSync(metaFile, 'utf8') : undefined,
        tasks: [...ymlFiles(join(base, 'tasks')), ...ymlFiles(join(base, 'handlers'))].map((f) => readFileSync(f, 'utf8')),
      }
    }
  }
  return src
}

export function readRepo(root: string): RepoModel {
  return parseRepo(readRepoSource(root))
}


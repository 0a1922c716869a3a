// Read-only probes must answer in check mode on every Ansible version. command, shell, script, raw
// and tempfile do not run in check mode: ansible-core returns rc=0 for a skipped command, Ansible
// 2.9 returns no rc at all, so a later `when: probe.rc != 0` passes the suite (2.14) and breaks the
// preview on 2.9. A registered result of those modules read by another task must come from a task
// with `check_mode: false`, or every reader must be guarded (its `when` names ansible_check_mode or
// tests the probe `is skipped`, or the read has a `| default(...)`). Run by `npm run lint`; one line
// per unguarded read: file:line, the variable, the reading task.
/* global process, console, URL */
import { readFileSync, readdirSync, existsSync } from 'node:fs'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { isMap, isSeq, LineCounter, parseDocument } from 'yaml'

/** Modules that skip in check mode (no check mode support on 2.9). */
const SKIPPED_IN_CHECK_MODE = new Set(['command', 'shell', 'script', 'raw', 'tempfile'])
/** Attributes a skipped result has on every version. */
const ALWAYS_PRESENT = new Set(['changed', 'skipped', 'failed'])
const BLOCK_KEYS = ['block', 'rescue', 'always']
const PLAY_KEYS = ['pre_tasks', 'tasks', 'post_tasks', 'handlers']

/** A YAML node as plain JS, keeping nothing but values. */
const plain = (node) => (node && typeof node.toJSON === 'function' ? node.toJSON() : node)

/** The tasks of a task list, blocks flattened, each with its line. */
function tasksOf(seq, file, lines, out) {
  if (!isSeq(seq)) return out
  for (const item of seq.items) {
    if (!isMap(item)) continue
    const blocks = BLOCK_KEYS.filter((k) => item.has(k))
    if (blocks.length) {
      // A block's `when` applies to every task inside it.
      const blockWhen = plain(item.get('when'))
      for (const k of blocks) {
        for (const t of tasksOf(item.get(k, true), file, lines, [])) {
          out.push({ ...t, inheritedWhen: [...t.inheritedWhen, ...[blockWhen].flat().filter((w) => w !== undefined)] })
        }
      }
      continue
    }
    out.push({ file, line: lines.linePos(item.range[0]).line, task: plain(item), inheritedWhen: [] })
  }
  return out
}

/** Every task of a file: a task list (roles) or a list of plays (playbooks). */
export function fileTasks(path, root) {
  const lines = new LineCounter()
  const doc = parseDocument(readFileSync(path, 'utf8'), { lineCounter: lines })
  const file = relative(root, path)
  const top = doc.contents
  if (!isSeq(top)) return []
  const isPlaybook = top.items.some((i) => isMap(i) && (i.has('hosts') || i.has('import_playbook')))
  if (!isPlaybook) return tasksOf(top, file, lines, [])
  return top.items.filter(isMap).flatMap((play) => PLAY_KEYS.flatMap((k) => tasksOf(play.get(k, true), file, lines, [])))
}

function moduleOf(task) {
  for (const key of Object.keys(task)) {
    const m = /^(?:ansible\.builtin\.)?([a-z_]+)$/.exec(key)
    if (m && SKIPPED_IN_CHECK_MODE.has(m[1])) return m[1]
  }
  return undefined
}

/** Every string inside a value (keys excluded), with the key path's first key. */
function strings(value, out = []) {
  if (typeof value === 'string') out.push(value)
  else if (Array.isArray(value)) value.forEach((v) => strings(v, out))
  else if (value && typeof value === 'object') Object.values(value).forEach((v) => strings(v, out))
  return out
}

const escape = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')

/** The reads of `name` in a text that a skipped result on 2.9 would not satisfy. */
function unguardedReads(text, name) {
  const reads = []
  const re = new RegExp(`(?<![\\w.])${escape(name)}((?:\\.\\w+|\\[[^\\]]*\\])*)([^\\n]*)`, 'g')
  for (const m of text.matchAll(re)) {
    const path = m[1]
    const rest = m[2]
    if (!path) continue // the whole result: `x is changed`, `x is skipped`, passed on
    const first = /^\.(\w+)/.exec(path)?.[1]
    if (first && ALWAYS_PRESENT.has(first)) continue
    if (/^\s*\|\s*default\s*\(/.test(rest)) continue
    reads.push(`${name}${path}`)
  }
  return reads
}

const skippedTest = (name) => new RegExp(`(?<![\\w.])${escape(name)}\\s+is\\s+(?:not\\s+)?skipped\\b`)

/** A `when` that names ansible_check_mode (or, given a name, tests that result `is skipped`). */
function guardedWhen(conditions, name) {
  const text = [conditions].flat().filter((c) => c !== undefined).map(String).join('\n')
  return /\bansible_check_mode\b/.test(text) || (name !== undefined && skippedTest(name).test(text))
}

/** The literal task file an include_tasks/import_tasks names, if any. */
function includedFile(task) {
  for (const key of ['include_tasks', 'import_tasks', 'ansible.builtin.include_tasks', 'ansible.builtin.import_tasks']) {
    const arg = task[key]
    const file = typeof arg === 'string' ? arg : arg?.file
    if (typeof file === 'string' && !file.includes('{{')) return file
  }
  return undefined
}

/**
 * Files of the group that never run in check mode: included only by tasks whose `when` names
 * ansible_check_mode (or from such files), and not an entry point (main.yml, a tasks_from).
 */
function checkModeFreeFiles(tasks, entryPoints) {
  const includers = new Map()
  for (const t of tasks) {
    const target = includedFile(t.task)
    if (!target) continue
    const file = join(t.file, '..', target)
    includers.set(file, [...(includers.get(file) ?? []), t])
  }
  const free = new Set()
  for (let grew = true; grew;) {
    grew = false
    for (const [file, by] of includers) {
      if (free.has(file) || entryPoints.has(file)) continue
      if (by.every((t) => free.has(t.file) || guardedWhen([t.task.when, ...t.inheritedWhen]))) {
        free.add(file)
        grew = true
      }
    }
  }
  return free
}

/** Problems in a set of files that share registered names (a role, or a playbook). */
export function checkProbes(tasks, entryPoints = new Set()) {
  const free = checkModeFreeFiles(tasks, entryPoints)
  const probes = new Map()
  for (const t of tasks) {
    if (free.has(t.file)) continue
    const name = t.task.register
    if (typeof name !== 'string' || !moduleOf(t.task)) continue
    if (t.task.check_mode === false) continue
    probes.set(name, t)
  }
  const problems = []
  for (const t of tasks) {
    if (free.has(t.file)) continue
    for (const [name, probe] of probes) {
      if (t === probe) continue // its own changed_when/failed_when are not evaluated when skipped
      if (guardedWhen([t.task.when, ...t.inheritedWhen], name)) continue
      // A string that tests `probe is skipped` handles the skipped result itself.
      const reads = strings(t.task).filter((s) => !skippedTest(name).test(s)).flatMap((s) => unguardedReads(s, name))
      if (reads.length === 0) continue
      problems.push(`${t.file}:${t.line}: "${t.task.name ?? '(unnamed task)'}" reads ${reads[0]}, which Ansible 2.9 leaves undefined in check mode: ` +
        `add check_mode: false to the probe (${probe.file}:${probe.line}) if it only reads, or guard the read (when: not ansible_check_mode, | default(...))`)
    }
  }
  return problems
}

function yamlFiles(dir) {
  if (!existsSync(dir)) return []
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? yamlFiles(join(dir, e.name)) : /\.ya?ml$/.test(e.name) ? [join(dir, e.name)] : [])
}

/** `role/file.yml` for every import_role/include_role with tasks_from in a playbook's text. */
function tasksFrom(text) {
  const out = []
  for (const m of text.matchAll(/name:\s*(\w+)\s*\n\s*tasks_from:\s*([\w.-]+)/g)) out.push(`${m[1]}/${m[2].endsWith('.yml') ? m[2] : `${m[2]}.yml`}`)
  return out
}

function main() {
  const root = fileURLToPath(new URL('..', import.meta.url))
  const playbooks = yamlFiles(join(root, 'playbooks'))
  const entryPoints = new Set(playbooks.flatMap((f) => tasksFrom(readFileSync(f, 'utf8'))))
  const problems = playbooks.flatMap((f) => checkProbes(fileTasks(f, root)))
  for (const role of readdirSync(join(root, 'roles'))) {
    const dir = join(root, 'roles', role)
    const files = ['tasks', 'handlers'].flatMap((d) => yamlFiles(join(dir, d)))
    const entries = new Set([`roles/${role}/tasks/main.yml`, `roles/${role}/handlers/main.yml`,
      ...[...entryPoints].filter((e) => e.startsWith(`${role}/`)).map((e) => `roles/${role}/tasks/${e.slice(role.length + 1)}`)])
    problems.push(...checkProbes(files.flatMap((f) => fileTasks(f, root)), entries))
  }
  for (const p of problems) console.error(p)
  process.exit(problems.length ? 1 : 0)
}

if (process.argv[1] === fileURLToPath(import.meta.url)) main()

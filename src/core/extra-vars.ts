// Extra variables as the action and the CLI accept them (JSON, YAML block or flow, key=value pairs,
// @file), turned into what Ansible reads without guessing: JSON for anything structured, an @file
// that exists. Ansible would read YAML block text as key=value pairs and silently get nonsense.
import { ValidationError } from './errors.ts'
import { existsSync, realpathSync, statSync } from 'node:fs'
import { isAbsolute, relative, resolve } from 'node:path'
import { parseDocument } from 'yaml'

export class ExtraVarsError extends ValidationError {
  override name = 'ExtraVarsError'
}

const KEY_VALUE = /^([A-Za-z_][A-Za-z0-9_]*=("[^"]*"|'[^']*'|\S*)\s*)+$/

/** The first line of a YAML library error, without its code frame. */
export function yamlErrorLine(message: string): string {
  return (message.split('\n')[0] ?? '').replace(/ at line \d+, column \d+:?$/, '').trim()
}

/** Whether `path` is `dir` itself or below it (both already resolved). */
function isInside(dir: string, path: string): boolean {
  const rel = relative(dir, path)
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel)
}

/**
 * The `--extra-vars` argument for `raw` (undefined when empty). `where` names the input; `root`
 * is where ansible-playbook runs (an @file is relative to it). Throws one line; never quotes values.
 */
export function normaliseExtraVars(raw: string, where: string, root: string): string | undefined {
  const text = raw.trim()
  if (!text) return undefined
  const expected = 'expected a JSON or YAML mapping, key=value pairs or @file'
  if (text.startsWith('@')) {
    const file = text.slice(1).trim()
    const path = resolve(root, file)
    if (!file || !existsSync(path) || !statSync(path).isFile()) throw new ExtraVarsError(`${where}: ${file || '(no name)'} does not exist in ${root} (@file is relative to the repository; ${expected})`)
    // Links resolved: a file of the repository, never the runner's or the machine's other files.
    if (!isInside(realpathSync(root), realpathSync(path))) {
      throw new ExtraVarsError(`${where}: @${file} is outside ${root}: name a file of the repository (@file is relative to it)`)
    }
    return `@${file}`
  }
  if (!text.includes('\n') && KEY_VALUE.test(text)) return text
  const doc = parseDocument(text, { prettyErrors: true })
  const err = doc.errors[0]
  if (err) {
    const pos = err.linePos?.[0]
    throw new ExtraVarsError(`${where}: not valid JSON or YAML at line ${pos?.line ?? 1}, column ${pos?.col ?? 1} (${yamlErrorLine(err.message)}); ${expected}`)
  }
  const value: unknown = doc.toJS()
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new ExtraVarsError(`${where}: not a mapping of variable names to values; ${expected}`)
  const bad = Object.keys(value).find((k) => !/^[A-Za-z_][A-Za-z0-9_]*$/.test(k))
  if (bad !== undefined) throw new ExtraVarsError(`${where}: "${bad.slice(0, 40)}" is not a variable name (letters, digits and _); ${expected}`)
  return JSON.stringify(value)
}

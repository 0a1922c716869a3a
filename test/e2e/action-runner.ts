// The action's e2e tests' way of running the bundled action (dist/index.js) as the runner does
// (test/support/runner.ts), each run in a fresh runner directory removed at the end; and the
// fixture repositories' helpers (a copy of this repository, git).
import { execFileSync } from 'node:child_process'
import { cpSync, existsSync, mkdirSync, readFileSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parse, stringify } from 'yaml'
import { runActionSteps, type StepRun } from '../support/runner.ts'

export type { StepRun } from '../support/runner.ts'

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..')
const ACTION = join(ROOT, 'dist/index.js')

export function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, { cwd, encoding: 'utf8', env: { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@t', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@t' } }).trim()
}

export function writeTree(root: string, tree: Record<string, string>): void {
  for (const [p, c] of Object.entries(tree)) {
    mkdirSync(dirname(join(root, p)), { recursive: true })
    writeFileSync(join(root, p), c)
  }
}

export function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return []
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? filesUnder(join(dir, e.name)) : [join(dir, e.name)]))
}

/** A copy of this repository's tree (tracked and new files, as a checkout would have them). */
export function copyRepo(to: string): void {
  const files = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: ROOT, encoding: 'utf8' }).split('\0').filter(Boolean)
  for (const f of files) {
    if (f.startsWith('dist/') || f.startsWith('node_modules')) continue
    mkdirSync(dirname(join(to, f)), { recursive: true })
    try {
      cpSync(join(ROOT, f), join(to, f))
    } catch {
      // A file deleted in the working tree but still tracked.
    }
  }
}

/**
 * A lab inventory made a user's, as `repo`'s inventories/production: no SSH options of its own (the
 * action's key, known_hosts and strict checking do all the work), no vault key. Returns the key.
 */
export function userInventory(inv: string, repo: string): string {
  const target = join(repo, 'inventories/production')
  rmSync(target, { recursive: true, force: true })
  cpSync(inv, target, { recursive: true })
  rmSync(join(target, 'vault.key'))
  const varsFile = join(target, 'group_vars/all/vars.yml')
  const vars = parse(readFileSync(varsFile, 'utf8')) as Record<string, unknown>
  for (const k of ['ansible_ssh_common_args', 'ansible_ssh_private_key_file', 'bootstrap_initial_private_key_file']) delete vars[k]
  writeFileSync(varsFile, '---\n' + stringify(vars))
  return readFileSync(join(inv, 'vault.key'), 'utf8').trim()
}

/** The runner directories of this file's runs, removed at the end. */
const runnerDirs: string[] = []

export function removeRunnerDirs(): void {
  for (const d of runnerDirs.splice(0)) rmSync(d, { recursive: true, force: true })
}

/** Runs main then post, as the runner would, with a fresh runner directory. */
export function runAction(workspace: string, event: { name: string; payload: unknown }, inputs: Record<string, string>, opts: { env?: Record<string, string>; runnerTemp?: string; cancel?: AbortSignal } = {}): Promise<{ main: StepRun; post: StepRun }> {
  const runnerDir = mkdtempSync(join(tmpdir(), 'action-runner-'))
  runnerDirs.push(runnerDir)
  return runActionSteps({ entry: ACTION, workspace, event, inputs, runnerDir, env: opts.env, runnerTemp: opts.runnerTemp, cancel: opts.cancel })
}

// The action's e2e tests' way of running the bundled action (dist/index.js) as the runner does
// (test/support/runner.ts), each run in a fresh runner directory removed at the end; and the
// fixture repositories' git helpers.
import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { runActionSteps, type StepRun } from '../support/runner.ts'

export type { StepRun } from '../support/runner.ts'

const ACTION = join(resolve(dirname(fileURLToPath(import.meta.url)), '../..'), 'dist/index.js')

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

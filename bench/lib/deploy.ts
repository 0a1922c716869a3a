// Timed playbook runs on a lab, with their recaps summed and each task's duration recorded (by the
// callback plugin the action ships, read by core's runner).
import { mkdtempSync } from 'node:fs'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import type { Lab, HostRecap } from '../../src/lab/index.ts'
import type { TaskTime } from '../../src/core/results.ts'

export { PLAYBOOKS as ALL_PLAYBOOKS } from '../../src/core/playbooks.ts'

export type { TaskTime }

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

/** Runs one playbook; returns the lab's result, its duration and its task times. */
export async function runTimed(
  lab: Lab,
  playbook: string,
  opts: { inventory: string; extraVars?: Record<string, unknown>; factCache?: string; tags?: string[] },
) {
  const { value: r, seconds } = await timed(() => lab.runPlaybook(playbook, { inventory: opts.inventory, extraVars: opts.extraVars, factCache: opts.factCache, tags: opts.tags }))
  return { result: r, seconds, tasks: r.result.tasks }
}

/** Runs playbooks in order (each with its `tags`, the plan's part of it, when given), stopping at the first failure (as the action does), sharing one fact
 *  cache as the action's run does (facts gathered once per sequence, never reused by the next one);
 *  throws on failure with the tail of the output, since a figure measured on a failed run means nothing. */
export async function runSequence(
  lab: Lab,
  playbooks: readonly string[],
  opts: { inventory: string; extraVars?: Record<string, unknown>; host?: string; tags?: Record<string, string[]> },
): Promise<TimedSequence> {
  const host = opts.host ?? lab.hosts[0]!.name
  const runs: TimedRun[] = []
  const factCache = mkdtempSync(join(lab.dir, 'bench-facts-'))
  const t0 = performance.now()
  for (const playbook of playbooks) {
    const { result: r, seconds, tasks } = await runTimed(lab, playbook, { inventory: opts.inventory, extraVars: opts.extraVars, factCache, tags: opts.tags?.[playbook] })
    const recap = r.recap[host] ?? ZERO
    runs.push({ playbook, seconds: round(seconds), code: r.code, recap, changedTasks: [...new Set(r.result.changed.map((t) => t.task))], tasks })
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

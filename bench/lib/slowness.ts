// What a no-op run spends its time on: fact gathering, apt cache updates, slowest tasks.
import type { TimedRun, TaskTime } from './deploy.ts'
import { round } from './deploy.ts'

export interface Slowness {
  playbook: string
  seconds: number
  tasks: number
  factGathering: { count: number; seconds: number }
  aptCacheUpdates: { count: number; seconds: number; tasks: string[] }
  changed: string[]
  slowest: { task: string; path: string; action: string; seconds: number }[]
  /** Median duration of the tasks not listed above: the per-task cost (connection, module transfer). */
  medianTaskSeconds: number
}

function median(xs: number[]): number {
  if (!xs.length) return 0
  const s = [...xs].sort((a, b) => a - b)
  const m = Math.floor(s.length / 2)
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2
}

const where = (t: TaskTime) => (t.file ? `${t.file}:${t.line ?? ''}` : '')
const isFacts = (t: TaskTime) => t.action === 'gather_facts' || /(^|\.)setup$/.test(t.action)
const isApt = (t: TaskTime) => /(^|\.)(apt|package)$/.test(t.action)

export function slowness(run: TimedRun, top = 8): Slowness {
  const tasks = run.tasks.filter((t) => t.status !== 'skipped')
  const facts = tasks.filter(isFacts)
  const aptUpdates = tasks.filter((t) => isApt(t) && t.cacheUpdated)
  return {
    playbook: run.playbook,
    seconds: run.seconds,
    tasks: tasks.length,
    factGathering: { count: facts.length, seconds: round(facts.reduce((a, t) => a + t.seconds, 0)) },
    aptCacheUpdates: {
      count: aptUpdates.length,
      seconds: round(aptUpdates.reduce((a, t) => a + t.seconds, 0)),
      tasks: aptUpdates.map((t) => `${t.task} (${where(t)}, ${t.seconds} s)`),
    },
    changed: run.changedTasks,
    slowest: [...tasks].sort((a, b) => b.seconds - a.seconds).slice(0, top)
      .map((t) => ({ task: t.task, path: where(t), action: t.action, seconds: t.seconds })),
    medianTaskSeconds: round(median(tasks.filter((t) => !isFacts(t) && !isApt(t)).map((t) => t.seconds)), 3),
  }
}

/** Lines for the report: one per playbook, then the slowest tasks of the whole run. */
export function describe(items: Slowness[]): string[] {
  const lines = items.map((s) =>
    `${s.playbook}: ${s.seconds} s, ${s.tasks} tasks run (median ${s.medianTaskSeconds} s each), ` +
    `fact gathering ${s.factGathering.count}× (${s.factGathering.seconds} s), ` +
    `apt package index refreshed ${s.aptCacheUpdates.count}× (${s.aptCacheUpdates.seconds} s)` +
    (s.changed.length ? `, changed: ${s.changed.join('; ')}` : ''))
  const slowest = items.flatMap((s) => s.slowest.map((t) => ({ ...t, playbook: s.playbook })))
    .sort((a, b) => b.seconds - a.seconds).slice(0, 10)
  lines.push('slowest tasks: ' + slowest.map((t) => `${t.seconds} s ${t.task} [${t.action}] (${t.path})`).join('; '))
  return lines
}

/** Per figure: how many tasks ran (skipped ones never reach the host) and the ten slowest of them. */
export interface TaskReport {
  tasks: number
  slowest: { playbook: string; task: string; path: string; action: string; seconds: number }[]
}

export function taskReport(runs: TimedRun[], top = 10): TaskReport {
  const ran = runs.flatMap((r) => r.tasks.filter((t) => t.status !== 'skipped').map((t) => ({ ...t, playbook: r.playbook })))
  return {
    tasks: ran.length,
    slowest: [...ran].sort((a, b) => b.seconds - a.seconds).slice(0, top)
      .map((t) => ({ playbook: t.playbook, task: t.task, path: where(t), action: t.action, seconds: t.seconds })),
  }
}

/** One line for a figure's note: tasks run, SSH sessions, the five slowest (all ten are in results.json). */
export function reportLine(label: string, r: TaskReport, sessions: number | null): string {
  return `${label}: ${r.tasks} tasks run, ${sessions ?? 'unknown'} SSH sessions opened; slowest: ` +
    r.slowest.slice(0, 5).map((t) => `${t.seconds} s ${t.task}`).join('; ')
}

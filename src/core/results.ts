// The result model: what one playbook run did, per host and per task, read from the JSON lines
// the callback plugin (src/ansible/django_deploy_results.py) writes. Pure.
import { isAbsolute, relative } from 'node:path'
import type { Plan } from './plan/types.ts'
import type { Playbook } from './playbooks.ts'

export interface HostStats { ok: number; changed: number; failed: number; unreachable: number; skipped: number; rescued: number; ignored: number }

export interface TaskRef {
  play: string
  task: string
  host: string
  /** Repository-relative file of the task, when known. */
  file?: string
  line?: number
}

/** A task that changed (or would, in check mode), with its --diff when the run had one (never of a no_log or diff: false task). */
export interface TaskChange extends TaskRef {
  diff?: string
  /** A handler: it ran because a task changed. */
  handler?: true
}

/** A release's pending migrations on one host, classified (roles/backend/files/django-deploy-migrations.py). */
export interface MigrationReport {
  class: 'none' | 'additive' | 'breaking'
  migrations: { migration: string; operations: { operation: string; class: 'additive' | 'breaking'; reason: string }[] }[]
}

export interface TaskFailure extends TaskRef {
  status: 'failed' | 'unreachable'
  message: string
}

/** One task's result on one host, with its duration (what the bench's figures are made of). */
export interface TaskTime extends TaskRef {
  action: string
  status: string
  changed: boolean
  seconds: number
  /** apt/package tasks: whether the run refreshed the package index. */
  cacheUpdated?: boolean
}

export interface PlaybookResult<P extends string = Playbook> {
  playbook: P
  status: 'success' | 'failure'
  exitCode: number
  durationMs: number
  hosts: Record<string, HostStats>
  changed: TaskChange[]
  failures: TaskFailure[]
  /** Every task result, in order. */
  tasks: TaskTime[]
  /** Set when the run ended without a recap (ansible-playbook could not start, a syntax error…). */
  error?: string
  /** Per host, the seconds the site answered the maintenance page (backend, breaking migrations). */
  maintenanceSeconds?: Record<string, number>
  /** Per host, the pending migrations the backend found before migrating. */
  migrations?: Record<string, MigrationReport>
}

export interface RunResult {
  status: 'success' | 'failure' | 'skipped'
  playbooks: PlaybookResult[]
  /** Planned playbooks not run because an earlier one failed. */
  notRun: Playbook[]
  check: boolean
}

interface RawEvent {
  event?: string
  play?: string
  task?: string
  host?: string
  path?: string
  status?: string
  msg?: string
  action?: string
  changed?: boolean
  duration?: number | null
  cache_updated?: boolean
  ignored?: boolean
  maintenance_seconds?: number
  handler?: boolean
  diff?: string
  migrations?: MigrationReport
  hosts?: Record<string, Partial<HostStats>>
}

/** Splits Ansible's `path:line` task path and makes the file relative to the repository. */
export function taskLocation(path: string | undefined, root: string): { file?: string; line?: number } {
  if (!path) return {}
  const m = /^(.*):(\d+)$/.exec(path)
  const file = m ? m[1]! : path
  const line = m ? Number(m[2]) : undefined
  const rel = isAbsolute(file) ? relative(root, file) : file
  return { file: rel.startsWith('..') ? file : rel, line }
}

const zero = (): HostStats => ({ ok: 0, changed: 0, failed: 0, unreachable: 0, skipped: 0, rescued: 0, ignored: 0 })

/** Builds one playbook's result from the plugin's JSON lines, the exit code and the wall time. */
export function parseResults<P extends string = Playbook>(playbook: P, jsonl: string, exitCode: number, durationMs: number, root: string): PlaybookResult<P> {
  const hosts: Record<string, HostStats> = {}
  const changed: TaskChange[] = []
  const failures: TaskFailure[] = []
  const tasks: TaskTime[] = []
  const maintenance: Record<string, number> = {}
  const migrations: Record<string, MigrationReport> = {}
  let sawStats = false
  for (const line of jsonl.split('\n')) {
    if (!line.trim()) continue
    let e: RawEvent
    try {
      e = JSON.parse(line) as RawEvent
    } catch {
      continue // a line cut short by a killed run
    }
    if (e.event === 'task') {
      const ref: TaskRef = { play: e.play ?? '', task: e.task ?? '', host: e.host ?? '', ...taskLocation(e.path, root) }
      hosts[ref.host] ??= zero()
      tasks.push({
        ...ref, action: e.action ?? '', status: e.status ?? '', changed: !!e.changed, seconds: e.duration ?? 0,
        ...(e.cache_updated === undefined ? {} : { cacheUpdated: e.cache_updated }),
      })
      if (e.status === 'changed') changed.push({ ...ref, ...(e.diff ? { diff: e.diff } : {}), ...(e.handler ? { handler: true as const } : {}) })
      if (e.migrations && Array.isArray(e.migrations.migrations)) migrations[ref.host] = e.migrations
      if (typeof e.maintenance_seconds === 'number') maintenance[ref.host] = (maintenance[ref.host] ?? 0) + e.maintenance_seconds
      if ((e.status === 'failed' && !e.ignored) || e.status === 'unreachable') {
        failures.push({ ...ref, status: e.status, message: e.msg ?? '' })
      }
    } else if (e.event === 'stats' && e.hosts) {
      sawStats = true
      for (const [h, st] of Object.entries(e.hosts)) hosts[h] = { ...zero(), ...st }
    }
  }
  const failed = exitCode !== 0 || failures.length > 0 || Object.values(hosts).some((h) => h.failed > 0 || h.unreachable > 0)
  const result: PlaybookResult<P> = { playbook, status: failed ? 'failure' : 'success', exitCode, durationMs, hosts, changed, failures, tasks }
  if (Object.keys(maintenance).length > 0) result.maintenanceSeconds = maintenance
  if (Object.keys(migrations).length > 0) result.migrations = migrations
  if (!sawStats && exitCode !== 0) {
    result.error = `ansible-playbook exited with code ${exitCode} before its recap (syntax error, missing file or inventory, vault key?): see the log`
  }
  return result
}

export function totals(r: PlaybookResult<string>): HostStats {
  const t = zero()
  for (const h of Object.values(r.hosts)) for (const k of Object.keys(t) as (keyof HostStats)[]) t[k] += h[k]
  return t
}

export type HostOutcome = 'deployed' | 'failed' | 'not run after the failure' | 'left out' | 'not needed'

/** Per host and playbook: from which revision to which, and what came of it. Pure. */
export function hostOutcomes(r: RunResult, plan: Plan): Record<string, Partial<Record<Playbook, { from?: string; to: string; outcome: HostOutcome }>>> {
  const out: Record<string, Partial<Record<Playbook, { from?: string; to: string; outcome: HostOutcome }>>> = {}
  for (const h of plan.hosts ?? []) {
    const row: Partial<Record<Playbook, { from?: string; to: string; outcome: HostOutcome }>> = {}
    for (const hp of h.playbooks) {
      const ran = r.playbooks.find((p) => p.playbook === hp.playbook)
      let outcome: HostOutcome = 'not needed'
      if (h.excluded) outcome = 'left out'
      else if (ran) {
        const s = ran.hosts[h.host]
        outcome = !s || s.failed > 0 || s.unreachable > 0 || ran.failures.some((f) => f.host === h.host) ? 'failed' : 'deployed'
      } else if (r.notRun.includes(hp.playbook)) outcome = 'not run after the failure'
      row[hp.playbook] = { ...(hp.from ? { from: hp.from.commit } : {}), to: hp.to, outcome }
    }
    out[h.host] = row
  }
  return out
}

/** The `result` output: small, stable, no messages beyond the failures'. */
export function resultJson(r: RunResult, plan?: Plan): unknown {
  return {
    ...(plan?.hosts ? { hosts: hostOutcomes(r, plan) } : {}),
    status: r.status,
    check: r.check,
    playbooks: r.playbooks.map((p) => ({
      name: p.playbook,
      status: p.status,
      durationMs: p.durationMs,
      hosts: p.hosts,
      changedTasks: p.changed.length,
      ...(p.maintenanceSeconds ? { maintenanceSeconds: p.maintenanceSeconds } : {}),
      failures: p.failures.map((f) => ({ task: f.task, host: f.host, file: f.file, line: f.line, message: f.message })),
      ...(p.error ? { error: p.error } : {}),
    })),
    notRun: r.notRun,
  }
}

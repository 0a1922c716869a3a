// Drift: a task that would change (check mode) on a host whose deploy state says the playbook is
// up to date there (nobody deployed since, or nothing since triggers it), so the server no longer
// matches what was deployed: someone changed it by hand. A change where a deploy is pending is
// expected, not drift. Pure: the check run's result and the state plan in, the report out.
import type { Plan } from './plan/types.ts'
import type { Playbook } from './playbooks.ts'
import type { RunResult, TaskChange } from './results.ts'

export interface DriftTask extends TaskChange {
  playbook: Playbook
}

export interface DriftReport {
  /** Per host, the tasks that drifted, in the order they ran. */
  drift: Record<string, DriftTask[]>
  /** Per host, the playbooks with a deploy pending there (their changes are not drift). */
  pending: Record<string, Playbook[]>
  /** Hosts whose deploy state is unknown (unreachable, never deployed from this copy): not judged. */
  unknown: string[]
  /** The playbooks checked. */
  checked: Playbook[]
}

export const hasDrift = (r: DriftReport): boolean => Object.keys(r.drift).length > 0

/** `plan`: the state plan; without hosts (the state could not be read), every change is left unjudged. */
export function findDrift(result: RunResult, plan: Pick<Plan, 'hosts'>): DriftReport {
  const byHost = new Map((plan.hosts ?? []).map((h) => [h.host, h]))
  const report: DriftReport = { drift: {}, pending: {}, unknown: [], checked: result.playbooks.map((p) => p.playbook) }
  const unknown = new Set<string>()
  for (const p of result.playbooks) {
    // A handler that would run follows a task that would change: that task is the drift.
    for (const c of p.changed.filter((x) => !x.handler)) {
      const h = byHost.get(c.host)
      const hp = h?.playbooks.find((x) => x.playbook === p.playbook)
      if (!h || h.excluded || h.state !== 'recorded' || !hp) {
        unknown.add(c.host)
      } else if (hp.run) {
        const list = (report.pending[c.host] ??= [])
        if (!list.includes(p.playbook)) list.push(p.playbook)
      } else {
        ;(report.drift[c.host] ??= []).push({ ...c, playbook: p.playbook })
      }
    }
  }
  report.unknown = [...unknown].sort()
  return report
}

const escapeHtml = (t: string) => t.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
const where = (t: TaskChange) => (t.file ? `${t.file}${t.line ? `:${t.line}` : ''}` : '')

/** One task's diff, folded (a `<pre>`: no Markdown fence a diff could close). */
export function diffDetails(t: TaskChange, summary: string): string[] {
  if (!t.diff) return [`- ${summary} (no diff: the task shows none, or hides it as it handles a secret)`, '']
  return [`<details><summary>${summary}</summary>`, '', `<pre>${escapeHtml(t.diff)}</pre>`, '', '</details>', '']
}

/** The drift section of the summary and the body of the drift issue. */
export function driftMarkdown(r: DriftReport, opts: { inventory: string }): string {
  const out: string[] = []
  const hosts = Object.keys(r.drift).sort()
  const checked = r.checked.join(', ') || 'no playbook'
  if (hosts.length === 0) {
    out.push(`No drift: ${checked} in check mode would change nothing on the hosts deployed up to date (${opts.inventory}).`, '')
  } else {
    const n = hosts.reduce((a, h) => a + r.drift[h]!.length, 0)
    out.push(`${n} task${n === 1 ? '' : 's'} would change on ${hosts.length} host${hosts.length === 1 ? '' : 's'} that nobody deployed to since (${opts.inventory}, ${checked} in check mode): the servers were changed outside the playbooks. The next deploy of the playbook puts them back; or make the change in the repository.`, '')
    for (const h of hosts) {
      out.push(`#### ${escapeHtml(h)}`, '')
      for (const t of r.drift[h]!) out.push(...diffDetails(t, `${escapeHtml(t.playbook)}: ${escapeHtml(t.task)}${where(t) ? ` <code>${escapeHtml(where(t))}</code>` : ''}`))
      out.push('')
    }
  }
  const pending = Object.entries(r.pending)
  if (pending.length > 0) out.push(`Not drift (a deploy is pending there): ${pending.map(([h, p]) => `${escapeHtml(h)} (${p.join(', ')})`).join('; ')}.`, '')
  if (r.unknown.length > 0) out.push(`Not judged (deploy state unknown): ${r.unknown.map(escapeHtml).join(', ')}.`, '')
  return out.join('\n')
}

/** The terminal's lines. */
export function driftText(r: DriftReport): string {
  const hosts = Object.keys(r.drift).sort()
  if (hosts.length === 0) return 'Drift: none\n'
  return hosts.flatMap((h) => r.drift[h]!.map((t) => `Drift on ${h}: ${t.playbook}: ${t.task}${where(t) ? ` (${where(t)})` : ''}`)).join('\n') + '\n'
}

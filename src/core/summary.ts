// The report of a run: Markdown for the job summary, plain text for the terminal. Pure.
import { hostRole, layoutText } from './layout.ts'
import { PLAYBOOKS } from './playbooks.ts'
import { formatDuration, short } from './format.ts'
import { runLabel } from './plan/parts.ts'
import type { HostPlaybook, Plan, Trigger } from './plan/types.ts'
import { totals, type PlaybookResult, type RunResult } from './results.ts'
import { unreachedHosts } from './unreachable.ts'

/** How many paths each list shows before "… and N more" (a summary must stay under 1 MiB). */
export const MAX_PATHS = 25

const escapeHtml = (t: string) => t.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
/** A Markdown table cell: no pipes, no raw HTML, newlines as <br>. */
export const cell = (t: string) => escapeHtml(t).replace(/\|/g, '\\|').replace(/\r?\n/g, '<br>')
const code = (t: string) => `<code>${escapeHtml(t)}</code>`

function pathList(paths: string[], max = MAX_PATHS): string {
  const shown = paths.slice(0, max).map((p) => `${code(p)}`)
  if (paths.length > max) shown.push(`… and ${paths.length - max} more`)
  return shown.join('<br>')
}

function triggersCell(triggers: Trigger[]): string {
  return triggers.map((t) => `${cell(t.label)}: ${pathList(t.paths, 5)}`).join('<br>')
}

/** A Mermaid flowchart: the causes (grouped) on the left, the four playbooks in order on the right. */
export function mermaid(plan: Plan): string {
  const lines = ['flowchart LR']
  const label = (t: string) => t.replace(/["<>]/g, "'").replace(/[[\]{}()|#;]/g, ' ')
  const labels = [...new Set(plan.playbooks.flatMap((d) => d.triggers.map((t) => t.label)))]
  const id = new Map(labels.map((l, i) => [l, `c${i}`]))
  const count = (l: string) => new Set(plan.playbooks.flatMap((d) => d.triggers.filter((t) => t.label === l).flatMap((t) => t.paths))).size
  for (const l of labels) lines.push(`  ${id.get(l)}["${label(l)} (${count(l)})"]`)
  for (const d of plan.playbooks) lines.push(`  ${d.playbook}(["${d.playbook}${d.run ? '' : ' (skipped)'}"])`)
  for (let i = 1; i < PLAYBOOKS.length; i++) lines.push(`  ${PLAYBOOKS[i - 1]} -.-> ${PLAYBOOKS[i]}`)
  for (const d of plan.playbooks) for (const t of d.triggers) lines.push(`  ${id.get(t.label)} --> ${d.playbook}`)
  const runs = plan.playbooks.filter((d) => d.run).map((d) => d.playbook)
  const skips = plan.playbooks.filter((d) => !d.run).map((d) => d.playbook)
  lines.push('  classDef run fill:#d4f7d4,stroke:#2da44e', '  classDef skip fill:#eeeeee,stroke:#999999,color:#666666')
  if (runs.length) lines.push(`  class ${runs.join(',')} run`)
  if (skips.length) lines.push(`  class ${skips.join(',')} skip`)
  return lines.join('\n')
}

/** The playbooks the plan runs, in order, each with the part it runs: "backend (release only: …)". */
export function runsText(plan: Pick<Plan, 'run' | 'playbooks'>): string {
  return plan.run.map((p) => runLabel(plan, p)).join(' → ')
}

export function planMarkdown(plan: Plan): string {
  const out: string[] = ['### Plan', '']
  out.push(`${plan.mode === 'auto' ? 'From the changes' : 'Playbooks named'}: ${cell(plan.source)}.`, '')
  if (plan.layout) out.push(`Layout: ${cell(layoutText(plan.layout))}.`, '')
  if (plan.fallback) out.push(`> [!WARNING]`, `> ${cell(plan.fallback)}`, '')
  out.push(plan.run.length > 0 ? `Runs, in order: **${cell(runsText(plan))}**.` : 'Nothing to run.', '')
  if (plan.mode === 'auto' && plan.changedPaths > 0) out.push('```mermaid', mermaid(plan), '```', '')
  out.push('| Playbook | Runs | Why | Changed paths |', '|---|---|---|---|')
  for (const d of plan.playbooks) {
    const runs = d.run ? `✅ ${d.part ? cell(d.part.label) : 'yes'}` : '⏭️ no'
    out.push(`| ${d.playbook} | ${runs} | ${cell(d.reason)} | ${triggersCell(d.triggers)} |`)
  }
  out.push('')
  if (plan.ignored.length > 0) {
    const n = plan.ignored.reduce((a, t) => a + t.paths.length, 0)
    out.push(`<details><summary>${n} changed path${n === 1 ? '' : 's'} trigger nothing</summary>`, '')
    for (const t of plan.ignored) out.push(`- ${cell(t.label)}: ${pathList(t.paths)}`)
    out.push('', '</details>', '')
  }
  out.push(...hostsMarkdown(plan))
  for (const n of plan.notes) out.push(`> [!NOTE]`, `> ${cell(n)}`, '')
  return out.join('\n')
}

/** "a1b2c3d, 3 days ago → e4f5a6b", or "no record → e4f5a6b". */
export function revisionSpan(hp: HostPlaybook): string {
  const from = hp.from ? `${short(hp.from.commit)}${hp.from.dirty ? ' (uncommitted changes)' : ''}, ${hp.from.ago}` : 'no record'
  return `${from} → ${hp.to}`
}

/** Per host and playbook: from which revision to which, and why (from the deploy state). */
export function hostsMarkdown(plan: Plan): string[] {
  if (!plan.hosts || plan.hosts.length === 0) return []
  const out = ['#### Hosts', '', '| Host | Playbook | Revision | Runs | Why |', '|---|---|---|---|---|']
  for (const h of plan.hosts) {
    const state = h.excluded ? `left out: ${h.excluded}` : h.state === 'recorded' ? '' : h.state
    const role = hostRole(plan.layout, h.host)
    out.push(`| **${cell(h.host)}**${role ? ` (${role})` : ''} | | ${cell(state)} | | |`)
    for (const hp of h.playbooks) {
      const run = plan.run.includes(hp.playbook) && !h.excluded
      const last = hp.from?.run ? ` (${cell(hp.from.run)})` : ''
      out.push(`| | ${hp.playbook} | ${cell(revisionSpan(hp))}${last} | ${run ? '✅ yes' : '⏭️ no'} | ${cell(hp.reason)} |`)
    }
  }
  if (plan.limit) out.push('', `Runs with --limit ${code(plan.limit)}.`)
  out.push('')
  return out
}

function resultRows(p: PlaybookResult): string[] {
  const icon = p.status === 'success' ? '✅' : '❌'
  const hosts = Object.entries(p.hosts)
  if (hosts.length === 0) return [`| ${icon} ${p.playbook} | — | | | | | ${formatDuration(p.durationMs)} |`]
  return hosts.map(([h, s], i) => {
    const name = i === 0 ? `${icon} ${p.playbook}` : ''
    const dur = i === 0 ? formatDuration(p.durationMs) : ''
    return `| ${name} | ${cell(h)} | ${s.ok} | ${s.changed} | ${s.failed} | ${s.unreachable} | ${dur} |`
  })
}

/**
 * The time the site answered the maintenance page during a backend run that changed things: 0 for a
 * zero-downtime deploy, else per host. Undefined in check mode or when backend did not run.
 */
export function maintenanceLine(result: RunResult): string | undefined {
  const backend = result.playbooks.find((p) => p.playbook === 'backend')
  if (!backend || result.check) return undefined
  const per = Object.entries(backend.maintenanceSeconds ?? {})
  if (per.length === 0) return 'Time in maintenance: 0 s (zero downtime)'
  return `Time in maintenance: ${per.map(([h, s]) => `${h} ${s.toFixed(1)} s`).join(', ')} (breaking migrations: migrate and switch behind the maintenance page)`
}

/** The pending migrations each host's backend found, with their class (breaking ones first named). */
export function migrationsMarkdown(result: RunResult): string[] {
  const per = result.playbooks.flatMap((p) => Object.entries(p.migrations ?? {}))
  if (per.length === 0) return []
  const out = ['#### Pending migrations', '', '| Host | Migration | Operation | Class | Why |', '|---|---|---|---|---|']
  for (const [host, report] of per) {
    if (report.migrations.length === 0) out.push(`| ${cell(host)} | none | | | |`)
    for (const m of report.migrations) {
      for (const o of m.operations) out.push(`| ${cell(host)} | ${cell(m.migration)} | ${cell(o.operation)} | ${o.class === 'breaking' ? '⚠️ breaking' : 'additive'} | ${cell(o.reason)} |`)
    }
  }
  out.push('')
  return out
}

export function resultMarkdown(result: RunResult): string {
  const out: string[] = ['### Results', '']
  if (result.playbooks.length === 0) return [...out, 'No playbook ran.', ''].join('\n')
  out.push('| Playbook | Host | ok | changed | failed | unreachable | Duration |', '|---|---|--:|--:|--:|--:|--:|')
  for (const p of result.playbooks) out.push(...resultRows(p))
  out.push('')
  const maintenance = maintenanceLine(result)
  if (maintenance) out.push(maintenance, '')
  out.push(...migrationsMarkdown(result))
  if (result.notRun.length > 0) out.push(`Not run after the failure: ${result.notRun.join(', ')}.`, '')
  const failures = result.playbooks.flatMap((p) => p.failures.map((f) => ({ p: p.playbook, ...f })))
  const errors = result.playbooks.filter((p) => p.error)
  if (failures.length > 0 || errors.length > 0) {
    out.push('#### Failures', '', '| Playbook | Host | Task | Where | Message |', '|---|---|---|---|---|')
    for (const f of failures) {
      const where = f.file ? code(`${f.file}${f.line ? `:${f.line}` : ''}`) : ''
      out.push(`| ${f.p} | ${cell(f.host)} | ${cell(f.task)} | ${where} | ${cell(f.status === 'unreachable' ? `unreachable: ${f.message}` : f.message)} |`)
    }
    for (const p of errors) out.push(`| ${p.playbook} | | | | ${cell(p.error!)} |`)
    out.push('')
  }
  const withChanges = result.playbooks.filter((p) => p.changed.length > 0)
  if (withChanges.length > 0) {
    out.push(result.check ? '#### Would change (check mode)' : '#### Changed tasks', '')
    for (const p of withChanges) {
      out.push(`<details><summary>${p.playbook}: ${p.changed.length} changed task${p.changed.length === 1 ? '' : 's'}</summary>`, '')
      out.push('| Host | Task | Where |', '|---|---|---|')
      for (const c of p.changed) out.push(`| ${cell(c.host)} | ${cell(c.task)} | ${c.file ? code(`${c.file}${c.line ? `:${c.line}` : ''}`) : ''} |`)
      out.push('', '</details>', '')
    }
  }
  return out.join('\n')
}

const STATUS_TITLE: Record<RunResult['status'], string> = { success: '✅ succeeded', failure: '❌ failed', skipped: '⏭️ nothing to deploy' }

/** The whole job summary: title, plan, results. */
export function summaryMarkdown(plan: Plan, result: RunResult, opts: { inventory: string; title?: string }): string {
  const mode = result.check ? ' (check mode: nothing was changed)' : ''
  return [
    `## ${opts.title ?? 'Deploy'} ${STATUS_TITLE[result.status]}${mode}`,
    '',
    `Inventory: ${code(opts.inventory)}`,
    '',
    planMarkdown(plan),
    resultMarkdown(result),
    ...unreachedMarkdown(plan, result),
  ].join('\n')
}

/** The hosts this run could not reach, each with what it did not get. */
function unreachedMarkdown(plan: Plan, result: RunResult): string[] {
  const unreached = unreachedHosts(plan, result)
  if (unreached.length === 0) return []
  return ['#### Unreachable', '', '> [!CAUTION]', ...unreached.map((u) => `> ${cell(u.message)}<br>`), '']
}

// ---- terminal ----

export function planText(plan: Plan): string {
  const out: string[] = [`Plan (${plan.mode === 'auto' ? 'from the changes' : 'named'}): ${plan.source}`]
  if (plan.layout) out.push(`  layout: ${layoutText(plan.layout)}`)
  if (plan.fallback) out.push(`  ! ${plan.fallback}`)
  for (const d of plan.playbooks) {
    out.push(`  ${d.run ? 'run ' : 'skip'} ${d.playbook.padEnd(9)} ${d.part ? `${d.part.why}; ` : ''}${d.reason}`)
    for (const t of d.triggers) {
      out.push(`         ${t.label}: ${t.paths.slice(0, 5).join(', ')}${t.paths.length > 5 ? ` … and ${t.paths.length - 5} more` : ''}`)
    }
  }
  for (const t of plan.ignored) out.push(`  ignored (${t.label}): ${t.paths.length} path${t.paths.length === 1 ? '' : 's'}`)
  for (const h of plan.hosts ?? []) {
    const role = hostRole(plan.layout, h.host)
    if (role) out.push(`  ${h.host} is the ${role}`)
    if (h.excluded) out.push(`  ${h.host}: left out: ${h.excluded}`)
    else if (h.state !== 'recorded') out.push(`  ${h.host}: ${h.state}${h.message ? ` (${h.message})` : ''}`)
    for (const hp of h.playbooks) {
      if (h.excluded && !hp.from) continue
      out.push(`  ${hp.playbook} on ${h.host}: ${revisionSpan(hp)}: ${hp.reason}${hp.part ? ` (${hp.part.label})` : ''}`)
    }
  }
  if (plan.limit) out.push(`  runs with --limit ${plan.limit}`)
  for (const n of plan.notes) out.push(`  note: ${n}`)
  return out.join('\n') + '\n'
}

export function resultText(result: RunResult): string {
  const out: string[] = []
  for (const p of result.playbooks) {
    const t = totals(p)
    out.push(`${p.status === 'success' ? 'ok  ' : 'FAIL'} ${p.playbook.padEnd(9)} ${formatDuration(p.durationMs).padStart(9)}  ok=${t.ok} changed=${t.changed} failed=${t.failed} unreachable=${t.unreachable}`)
    for (const [h, s] of Object.entries(p.hosts)) {
      out.push(`       ${h}: ok=${s.ok} changed=${s.changed} failed=${s.failed} unreachable=${s.unreachable}`)
    }
    for (const c of p.changed) out.push(`       ${result.check ? 'would change' : 'changed'}: [${c.host}] ${c.task}${c.file ? ` (${c.file}:${c.line ?? ''})` : ''}`)
    for (const f of p.failures) out.push(`       ${f.status}: [${f.host}] ${f.task}${f.file ? ` (${f.file}:${f.line ?? ''})` : ''}: ${f.message.split('\n').join(' / ')}`)
    if (p.error) out.push(`       ${p.error}`)
  }
  if (result.notRun.length > 0) out.push(`not run after the failure: ${result.notRun.join(', ')}`)
  const maintenance = maintenanceLine(result)
  if (maintenance) out.push(maintenance)
  out.push(`deploy ${result.status}${result.check ? ' (check mode)' : ''}`)
  return out.join('\n') + '\n'
}

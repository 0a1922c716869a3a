// The plan on the pull request: one comment, found again on every push by its hidden marker and
// rewritten. What the merge will run on which hosts and why, and what the check-mode run would
// change (the diffs the roles show: never of a task under no_log or diff: false). Pure; the caller
// scrubs the run's secrets from it.
import { diffDetails } from '../drift.ts'
import { short } from '../format.ts'
import type { Plan } from '../plan/types.ts'
import type { RunResult } from '../results.ts'
import { migrationsMarkdown } from '../summary.ts'

/** GitHub refuses comments longer than this. */
export const MAX_COMMENT = 65_536

/** The hidden line that marks this action's comment, one per inventory. */
export const commentMarker = (inventory: string) => `<!-- django-deploy preview: ${inventory.replace(/-->/g, '')} -->`

const escapeHtml = (t: string) => t.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
const cell = (t: string) => escapeHtml(t).replace(/\|/g, '\\|').replace(/\r?\n/g, '<br>')

export interface CommentContext {
  inventory: string
  /** The pull request's head commit. */
  head: string
  /** The workflow run's page. */
  url?: string
}

function render(plan: Plan, result: RunResult, ctx: CommentContext, withDiffs: boolean): string {
  const out = [commentMarker(ctx.inventory), `### Deploy preview (${cell(ctx.inventory)})`, '']
  const failed = result.status === 'failure'
  out.push(plan.run.length === 0
    ? 'Merging this pull request runs no playbook.'
    : `Merging this pull request runs **${plan.run.join(' → ')}**${failed ? ' — the check-mode run **failed**: see the run' : ''}.`, '')
  out.push('| Playbook | Runs | Hosts | Why |', '|---|---|---|---|')
  for (const d of plan.playbooks) {
    if (d.playbook === 'bootstrap' && !d.run) continue
    const ran = result.playbooks.find((p) => p.playbook === d.playbook)
    const hosts = ran ? Object.keys(ran.hosts).sort().join(', ') : ''
    const paths = d.triggers.flatMap((t) => t.paths)
    const why = d.reason + (paths.length > 0 ? ` (${paths.slice(0, 5).join(', ')}${paths.length > 5 ? ` … and ${paths.length - 5} more` : ''})` : '')
    out.push(`| ${d.playbook} | ${d.run ? '✅ yes' : '⏭️ no'} | ${cell(hosts)} | ${cell(why)} |`)
  }
  out.push('', ...migrationsMarkdown(result))
  const changed = result.playbooks.filter((p) => p.changed.length > 0)
  if (changed.length > 0) {
    out.push('#### Would change (check mode, with diff)', '')
    for (const p of changed) {
      for (const c of p.changed) {
        const where = c.file ? ` <code>${escapeHtml(`${c.file}${c.line ? `:${c.line}` : ''}`)}</code>` : ''
        const summary = `${p.playbook} on ${escapeHtml(c.host)}: ${escapeHtml(c.task)}${where}`
        out.push(...(withDiffs ? diffDetails(c, summary) : [`- ${summary}`]))
      }
    }
    if (!withDiffs) out.push('', 'The diffs are too long for a comment: see the run\'s log.')
    out.push('')
  } else if (result.playbooks.length > 0) {
    out.push('The check-mode run would change nothing on the servers.', '')
  }
  for (const p of result.playbooks) for (const f of p.failures) out.push(`> [!CAUTION]`, `> ${p.playbook} on ${cell(f.host)}: ${cell(f.task)}: ${cell(f.message.split('\n')[0] ?? '')}`, '')
  out.push(`<sub>At ${short(ctx.head)}${ctx.url ? `, [the run](${ctx.url})` : ''}; this comment is updated on every push.</sub>`)
  return out.join('\n')
}

/** The comment's body: with every diff when it fits, else without them. */
export function commentBody(plan: Plan, result: RunResult, ctx: CommentContext): string {
  const full = render(plan, result, ctx, true)
  if (full.length <= MAX_COMMENT) return full
  const short = render(plan, result, ctx, false)
  return short.length <= MAX_COMMENT ? short : `${short.slice(0, MAX_COMMENT - 20)}\n\n… (cut)`
}

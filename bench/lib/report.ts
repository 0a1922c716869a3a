// Figures, the environment they were measured in, and their rendering (results.md, results.json).
import { execFileSync } from 'node:child_process'
import { cpus, loadavg, release, totalmem } from 'node:os'

/** How a figure's goal is judged. */
export type Goal =
  | { kind: 'equals'; value: number; text: string } // ours must equal value (e.g. 0 failed requests)
  | { kind: 'ratio-max'; value: number; text: string } // ours / baseline ≤ value
  | { kind: 'ratio-min'; value: number; text: string } // ours / baseline ≥ value
  | { kind: 'check'; ok: boolean; text: string } // judged by the figure itself (e.g. changed=0)
  | { kind: 'none'; text: string } // informative only

export interface Figure {
  id: string
  name: string
  unit: string
  ours: number | null
  baseline: number | null
  /** Text shown in the table instead of the bare number (e.g. "0 of 20,314 (0 %)"). */
  oursText?: string
  baselineText?: string
  goal: Goal
  /** Why a figure is missing, or what qualifies it. */
  note?: string
  /** Raw material behind the figure (load results, per-playbook times, recaps). */
  detail?: unknown
}

export interface Environment {
  date: string
  cpus: number
  cpuModel: string
  memoryGiB: number
  kernel: string
  ansible: string
  node: string
  loadAverageAtStart: number[]
  loadAverageAtEnd?: number[]
  commit: string
}

function firstLine(cmd: string, args: string[]): string {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).split('\n')[0]!.trim()
  } catch {
    return 'unknown'
  }
}

export function environment(): Environment {
  return {
    date: new Date().toISOString(),
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model.trim() ?? 'unknown',
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    kernel: release(),
    ansible: firstLine('ansible-playbook', ['--version']).replace(/^ansible-playbook\s+(\[core\s+)?/, '').replace(/\]$/, ''),
    node: process.version,
    loadAverageAtStart: loadavg().map((x) => Math.round(x * 100) / 100),
    commit: firstLine('git', ['rev-parse', '--short', 'HEAD']),
  }
}

export function ratio(f: Figure): number | null {
  if (f.ours === null || f.baseline === null || f.baseline === 0) return null
  return f.ours / f.baseline
}

/** true / false when the goal can be judged, null when it cannot (missing figure, no goal). */
export function met(f: Figure): boolean | null {
  const g = f.goal
  if (g.kind === 'check') return g.ok
  if (g.kind === 'none' || f.ours === null) return null
  if (g.kind === 'equals') return f.ours === g.value
  const r = ratio(f)
  if (r === null) return null
  return g.kind === 'ratio-max' ? r <= g.value : r >= g.value
}

export function fmt(n: number | null, unit: string): string {
  if (n === null) return 'n/a'
  const digits = Math.abs(n) >= 100 || Number.isInteger(n) ? 0 : Math.abs(n) >= 10 ? 1 : Math.abs(n) >= 1 ? 2 : 3
  const s = n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: 0 })
  return unit ? `${s} ${unit}` : s
}

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ')
}

export function renderMarkdown(figures: Figure[], env: Environment, title: string): string {
  const lines = [
    `# ${title}`,
    '',
    `Environment: ${env.cpus} CPU (${env.cpuModel}), ${env.memoryGiB} GiB, kernel ${env.kernel}, ` +
      `ansible-core ${env.ansible}, Node ${env.node}, ${env.date.slice(0, 16).replace('T', ' ')} UTC, ` +
      `commit ${env.commit}, load average at start ${env.loadAverageAtStart.join(' / ')}` +
      (env.loadAverageAtEnd ? `, at end ${env.loadAverageAtEnd.join(' / ')}` : '') + '.',
    '',
    '| # | Figure | Ours | Baseline | Ratio | Goal | Met? |',
    '|---|---|---|---|---|---|---|',
  ]
  for (const f of figures) {
    const r = ratio(f)
    const m = met(f)
    lines.push('| ' + [
      f.id,
      f.name,
      f.oursText ?? fmt(f.ours, f.unit),
      f.baselineText ?? fmt(f.baseline, f.unit),
      r === null ? '—' : r.toFixed(r >= 10 ? 1 : 2),
      f.goal.text,
      m === null ? '—' : m ? 'yes' : 'no',
    ].map(cell).join(' | ') + ' |')
  }
  const notes = figures.filter((f) => f.note)
  if (notes.length) {
    lines.push('', 'Notes:', '')
    for (const f of notes) lines.push(`- **${f.id}**: ${f.note}`)
  }
  return lines.join('\n') + '\n'
}

export function renderJson(figures: Figure[], env: Environment): string {
  return JSON.stringify({
    environment: env,
    figures: figures.map((f) => ({ ...f, ratio: ratio(f), met: met(f) })),
  }, null, 2) + '\n'
}

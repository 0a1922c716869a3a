// The demo's terminal lines: one progress line per playbook, the end of a log on failure. Pure.
import { formatDuration } from '../core/format.ts'
import type { HostStats } from '../core/results.ts'

/** `[2/4] base       ok      1 min 15 s  ok=40 changed=25` */
export function progressLine(index: number, total: number, playbook: string, ok: boolean, ms: number, recap?: HostStats): string {
  const counts = recap
    ? `  ok=${recap.ok} changed=${recap.changed}` + (recap.failed ? ` failed=${recap.failed}` : '') + (recap.unreachable ? ` unreachable=${recap.unreachable}` : '')
    : ''
  return `[${index}/${total}] ${playbook.padEnd(10)} ${(ok ? 'ok' : 'FAILED').padEnd(7)}${formatDuration(ms).padStart(10)}${counts}`
}

/** The last `n` non-empty lines of a log. */
export function tail(text: string, n: number): string {
  const lines = text.replace(/\s+$/, '').split('\n')
  return lines.slice(-n).join('\n')
}

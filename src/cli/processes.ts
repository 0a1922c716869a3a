// What `django-deploy status` shows of each server's processes: supervisord's programs of the
// project (gunicorn's blue and green, the workers) and the scheduled jobs' timers, as the server's
// `<project>-ops status` reports them (roles/backend/files/django-deploy-processes.py). Read through an
// ad-hoc Ansible command with become (supervisord's socket is root's), connected as the runs are.
import { childEnv, run } from '../core/exec.ts'
import { adhocArgs, adhocBinary, CONNECT_TIMEOUT_S, READ_DEADLINE_MS } from '../core/plan/state-read.ts'
import type { AnsibleRunSettings } from '../core/run.ts'

export interface ProcessState { kind: 'web' | 'worker'; name: string; state: string; description: string }
/** state: the timer's SubState ("running" while its job runs; absent from an older <project>-ops). */
export interface TimerState { job: string; calendar: string; active: string; state?: string; next: string; last: string; result: string }

export type HostProcesses =
  | { host: string; status: 'read'; processes: ProcessState[] | null; timers: TimerState[] | null; errors: string[] }
  | { host: string; status: 'failed' | 'unreachable'; message: string }

/** The ops wrapper's status, templated per host (the project's name from its inventory). */
const OPS_STATUS = '/usr/local/bin/{{ backend_project_slug | default(project_slug) }}-ops status'

/** The ad-hoc command's arguments (an array, never a joined string). */
export function processesArgs(s: Pick<AnsibleRunSettings, 'inventory' | 'limit' | 'extraVarsFiles'>): string[] {
  return [...adhocArgs(s, 'ansible.builtin.command', OPS_STATUS, ['--become']), '-T', String(CONNECT_TIMEOUT_S)]
}

const lastLine = (t: string) => t.split('\n').map((l) => l.trim()).filter(Boolean).pop() ?? ''

/**
 * Parses `--one-line` output: `host | CHANGED | rc=0 | (stdout) {json}`, `host | FAILED! => {json}`,
 * `host | UNREACHABLE!: msg`. Pure.
 */
export function parseProcessesOutput(stdout: string): HostProcesses[] {
  const out: HostProcesses[] = []
  for (const line of stdout.split('\n')) {
    const ok = /^(\S+) \| (?:SUCCESS|CHANGED) \| rc=0 \| \(stdout\) (.*)$/.exec(line.trim())
    if (ok) {
      try {
        const a = JSON.parse(ok[2]!) as { processes: ProcessState[] | null; timers: TimerState[] | null; errors?: string[] }
        out.push({ host: ok[1]!, status: 'read', processes: a.processes, timers: a.timers, errors: a.errors ?? [] })
      } catch {
        out.push({ host: ok[1]!, status: 'failed', message: 'the answer is not JSON' })
      }
      continue
    }
    const m = /^(\S+) \| (FAILED!|UNREACHABLE!)(?: => |: ?)(.*)$/.exec(line.trim())
    if (!m) continue
    let json: Record<string, unknown> | undefined
    try {
      json = JSON.parse(m[3]!) as Record<string, unknown>
    } catch {
      json = undefined
    }
    const why = lastLine(typeof json?.stderr === 'string' && json.stderr ? json.stderr : typeof json?.msg === 'string' ? json.msg : m[3]!)
    if (m[2] === 'UNREACHABLE!') out.push({ host: m[1]!, status: 'unreachable', message: why })
    else if (/No such file or directory/.test(why)) out.push({ host: m[1]!, status: 'failed', message: 'no <project>-ops on the server (deploy the backend to install it)' })
    else if (/unknown operation/.test(why)) out.push({ host: m[1]!, status: 'failed', message: 'its <project>-ops has no status (deploy the backend to update it)' })
    else out.push({ host: m[1]!, status: 'failed', message: why })
  }
  return out
}

/** Each targeted host's processes and timers ({} when Ansible gives no answer at all). */
export async function readProcesses(s: AnsibleRunSettings, deadlineMs = READ_DEADLINE_MS): Promise<Record<string, HostProcesses>> {
  const env = childEnv({ ...s.env, ANSIBLE_FORCE_COLOR: '0', ANSIBLE_NOCOLOR: '1', ANSIBLE_LOAD_CALLBACK_PLUGINS: '0', ANSIBLE_DEPRECATION_WARNINGS: '0' })
  const r = await run(adhocBinary(s.ansiblePlaybook), processesArgs(s), { cwd: s.cwd, env, timeoutMs: deadlineMs, killGroup: true }).catch(() => undefined)
  return Object.fromEntries(parseProcessesOutput(r?.stdout ?? '').map((h) => [h.host, h]))
}

/** The lines of a host's processes in `status`'s text. Pure. */
export function processesLines(h: HostProcesses | undefined): string[] {
  if (!h) return []
  if (h.status !== 'read') return [`  ${'processes'.padEnd(9)} not read: ${h.message}`]
  const out: string[] = []
  for (const p of h.processes ?? []) out.push(`  ${p.kind.padEnd(9)} ${p.name.padEnd(10)} ${p.state.padEnd(8)} ${p.description}`.trimEnd())
  for (const t of h.timers ?? []) {
    const last = t.last && t.last !== 'n/a' ? `last ${t.last}${t.result ? ` (${t.result})` : ''}` : 'never ran'
    // A running job has no next run yet (systemd sets it when the run ends).
    const when = t.state === 'running' ? `running since ${t.last}` : `next ${t.next || 'none'}, ${last}`
    out.push(`  ${'timer'.padEnd(9)} ${t.job.padEnd(10)} ${t.active === 'active' ? '' : `${t.active} `}${t.calendar}: ${when}`)
  }
  for (const e of h.errors) out.push(`  ${'processes'.padEnd(9)} not read: ${e}`)
  return out
}

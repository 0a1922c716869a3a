// Reads a file from every targeted host through Ansible itself (an ad-hoc slurp with the runs' own
// settings: inventory, limit, vault key, SSH options), so the read connects exactly as the runs do.
// Bounded: a short connection timeout per host and a deadline for the whole read.
import { basename, dirname, join } from 'node:path'
import { childEnv, run } from '../exec.ts'
import type { AnsibleRunSettings } from '../run.ts'
import { parseStateFile, STATE_FILE } from './state-file.ts'
import type { HostState, StateRead } from './types.ts'

/** The group every playbook targets. */
export const DEPLOY_HOSTS = 'webservers'
/** Seconds ssh waits for each host. */
export const CONNECT_TIMEOUT_S = 10
/** The whole read's deadline. */
export const READ_DEADLINE_MS = 90_000

export type SlurpResult =
  | { host: string; status: 'found'; content: string }
  | { host: string; status: 'missing' }
  | { host: string; status: 'failed' | 'unreachable'; message: string }

/** `ansible` beside the ansible-playbook the runs use. */
export function adhocBinary(ansiblePlaybook: string): string {
  if (basename(ansiblePlaybook) !== 'ansible-playbook') return 'ansible'
  return ansiblePlaybook.includes('/') ? join(dirname(ansiblePlaybook), 'ansible') : 'ansible'
}

/**
 * An ad-hoc module run on the deploy hosts, as the runs see them: the inventory, the limit and the
 * extra-vars files (the SSH settings of core/ssh.ts among them). Arguments as an array, never joined.
 */
export function adhocArgs(s: Pick<AnsibleRunSettings, 'inventory' | 'limit' | 'extraVarsFiles'>, module: string, args: string, options: string[] = []): string[] {
  return [
    DEPLOY_HOSTS, '-i', s.inventory, ...(s.limit ? ['--limit', s.limit] : []),
    ...(s.extraVarsFiles ?? []).flatMap((f) => ['--extra-vars', `@${f}`]),
    '-m', module, '-a', args, ...options, '--one-line',
  ]
}

/** The state read: one file slurped from each host, connected as the runs are. */
export function slurpArgs(s: Pick<AnsibleRunSettings, 'inventory' | 'limit' | 'extraVarsFiles'>, file: string): string[] {
  return [...adhocArgs(s, 'ansible.builtin.slurp', `src=${file}`), '-T', String(CONNECT_TIMEOUT_S)]
}

const firstLine = (t: string) => t.split('\n').map((l) => l.trim()).find(Boolean) ?? ''

/** Parses `--one-line` output: `host | SUCCESS => {json}`, `host | FAILED! => {json}`, `host | UNREACHABLE!: msg`. Pure. */
export function parseSlurpOutput(stdout: string): SlurpResult[] {
  const out: SlurpResult[] = []
  for (const line of stdout.split('\n')) {
    const m = /^(\S+) \| (SUCCESS|CHANGED|FAILED!|UNREACHABLE!)(?: => |: ?)(.*)$/.exec(line.trim())
    if (!m) continue
    const [, host, status, rest] = m as unknown as [string, string, string, string]
    let json: Record<string, unknown> | undefined
    try {
      json = JSON.parse(rest) as Record<string, unknown>
    } catch {
      json = undefined
    }
    const msg = typeof json?.msg === 'string' ? json.msg : rest
    if (status === 'UNREACHABLE!') out.push({ host, status: 'unreachable', message: firstLine(msg) })
    else if (status === 'FAILED!') {
      out.push(/file not found|No such file/i.test(msg) ? { host, status: 'missing' } : { host, status: 'failed', message: firstLine(msg) })
    } else if (typeof json?.content === 'string') out.push({ host, status: 'found', content: Buffer.from(json.content, 'base64').toString('utf8') })
    else out.push({ host, status: 'failed', message: 'the answer has no content' })
  }
  return out
}

/** Runs the ad-hoc slurp of `file` (templated per host) on the targeted hosts. */
export async function slurpFromHosts(s: AnsibleRunSettings, file: string, deadlineMs = READ_DEADLINE_MS): Promise<{ ok: true; results: SlurpResult[] } | { ok: false; reason: string }> {
  const env = childEnv({ ...s.env, ANSIBLE_FORCE_COLOR: '0', ANSIBLE_NOCOLOR: '1', ANSIBLE_LOAD_CALLBACK_PLUGINS: '0', ANSIBLE_DEPRECATION_WARNINGS: '0' })
  const bin = adhocBinary(s.ansiblePlaybook)
  let r
  try {
    r = await run(bin, slurpArgs(s, file), { cwd: s.cwd, env, timeoutMs: deadlineMs, killGroup: true })
  } catch (e) {
    return { ok: false, reason: `${bin}: ${(e as Error).message}` }
  }
  if (r.timedOut) return { ok: false, reason: `no answer from every host within ${Math.round(deadlineMs / 1000)} s` }
  const results = parseSlurpOutput(r.stdout)
  if (results.length === 0 && r.code !== 0) {
    const why = r.stderr.split('\n').map((l) => l.trim()).filter((l) => l && !/^\[WARNING\]/.test(l)).pop() ?? `exit code ${r.code}`
    return { ok: false, reason: `${bin} failed: ${why.replace(/^ERROR!\s*/, '')}` }
  }
  return { ok: true, results }
}

/** Each slurp answer as the host's deploy state. Pure. */
export function hostStates(results: SlurpResult[]): HostState[] {
  return results.map((r): HostState => {
    if (r.status === 'missing') return { host: r.host, status: 'read', records: {} }
    if (r.status !== 'found') return { host: r.host, status: r.status === 'unreachable' ? 'unreachable' : 'unreadable', records: {}, message: r.message }
    try {
      return { host: r.host, status: 'read', records: parseStateFile(r.content) }
    } catch (e) {
      return { host: r.host, status: 'unreadable', records: {}, message: (e as Error).message }
    }
  })
}

/** The deploy state of every targeted host: the one place that reads it. */
export async function readDeployState(s: AnsibleRunSettings, deadlineMs = READ_DEADLINE_MS): Promise<StateRead> {
  const started = Date.now()
  const r = await slurpFromHosts(s, STATE_FILE, deadlineMs)
  const durationMs = Date.now() - started
  return r.ok ? { ok: true, hosts: hostStates(r.results), durationMs } : { ok: false, reason: r.reason, durationMs }
}

// How the operations commands (manage, logs, maintenance) reach a server: plain ssh (a terminal,
// streamed output, the exit code), logged in exactly as Ansible would. Ansible itself tells, for
// each host, the address, port, user and `ansible_ssh_common_args` of the run's connection
// (core/connection.ts: known_hosts, host key checking, key, control path, then the inventory's
// server_ssh_common_args): an ad-hoc `debug`, templated locally, which connects to nothing.
import { childEnv, run } from '../core/exec.ts'
import { adhocArgs, adhocBinary } from '../core/plan/state-read.ts'
import type { AnsibleRunSettings } from '../core/run.ts'
import { shellQuote } from '../core/ssh.ts'
import { UsageError } from './command.ts'

export interface SshTarget {
  host: string
  address: string
  port: number
  user: string
  /** ansible_ssh_common_args as Ansible templated it for the host. */
  sshArgs: string
  project: string
}

const TARGET_TEMPLATE = "{{ {'address': ansible_host | default(inventory_hostname), 'port': ansible_port | default(22), "
  + "'user': ansible_user | default(''), 'ssh_args': ansible_ssh_common_args | default(''), "
  + "'project': backend_project_slug | default(project_slug) | default('')} | to_json }}"

export function targetArgs(s: Pick<AnsibleRunSettings, 'inventory' | 'limit' | 'extraVarsFiles'>): string[] {
  return adhocArgs(s, 'ansible.builtin.debug', `msg=${TARGET_TEMPLATE}`)
}

/** Parses the ad-hoc debug's `host | SUCCESS => {"msg": …}` lines. Pure. */
export function parseTargets(stdout: string): SshTarget[] {
  const out: SshTarget[] = []
  for (const line of stdout.split('\n')) {
    const m = /^(\S+) \| SUCCESS => (.*)$/.exec(line.trim())
    if (!m) continue
    let msg: unknown
    try {
      msg = (JSON.parse(m[2]!) as { msg?: unknown }).msg
      if (typeof msg === 'string') msg = JSON.parse(msg)
    } catch {
      continue
    }
    const v = msg as Record<string, unknown>
    out.push({
      host: m[1]!,
      address: String(v.address ?? m[1]),
      port: Number(v.port ?? 22) || 22,
      user: String(v.user ?? ''),
      sshArgs: String(v.ssh_args ?? ''),
      project: String(v.project ?? ''),
    })
  }
  return out
}

/** The inventory's hosts and how to reach them (no connection made). */
export async function resolveTargets(s: AnsibleRunSettings): Promise<SshTarget[]> {
  const env = childEnv({ ...s.env, ANSIBLE_FORCE_COLOR: '0', ANSIBLE_NOCOLOR: '1', ANSIBLE_LOAD_CALLBACK_PLUGINS: '0', ANSIBLE_DEPRECATION_WARNINGS: '0' })
  const bin = adhocBinary(s.ansiblePlaybook)
  const r = await run(bin, targetArgs(s), { cwd: s.cwd, env, timeoutMs: 120_000 })
  // Ansible prints the hosts as they finish: sorted, the lists and messages read the same every time.
  const targets = parseTargets(r.stdout).sort((a, b) => a.host.localeCompare(b.host))
  if (targets.length === 0 && r.code !== 0) {
    const why = r.stderr.split('\n').map((l) => l.trim()).filter((l) => l && !/^\[WARNING\]/.test(l)).pop() ?? `exit code ${r.code}`
    throw new Error(`${bin} could not read the inventory: ${why.replace(/^ERROR!\s*/, '')}`)
  }
  const bad = targets.find((t) => !/^[a-z0-9][a-z0-9_-]*$/.test(t.project))
  if (bad) throw new UsageError(`host ${bad.host}: project_slug "${bad.project}" is not a project name (the inventory's group_vars set it)`)
  return targets
}

/** Splits a shell-quoted option string as Ansible's shlex does (quotes, backslashes). Pure. */
export function shellSplit(s: string): string[] {
  const words: string[] = []
  let cur = ''
  let inWord = false
  let quote: '' | "'" | '"' = ''
  for (let i = 0; i < s.length; i++) {
    const ch = s[i]!
    if (quote === "'") {
      if (ch === "'") quote = ''
      else cur += ch
    } else if (quote === '"') {
      if (ch === '"') quote = ''
      else if (ch === '\\' && i + 1 < s.length && '"\\$`'.includes(s[i + 1]!)) cur += s[++i]
      else cur += ch
    } else if (/\s/.test(ch)) {
      if (inWord) words.push(cur)
      cur = ''
      inWord = false
    } else {
      inWord = true
      if (ch === "'" || ch === '"') quote = ch
      else if (ch === '\\' && i + 1 < s.length) cur += s[++i]
      else cur += ch
    }
  }
  if (quote) throw new UsageError('ansible_ssh_common_args has an unclosed quote')
  if (inWord) words.push(cur)
  return words
}

/**
 * The command the server runs: `<project>-ops` as root (the login user's sudo), told who runs it
 * and from where (sshd's SSH_CLIENT, expanded by the login shell) for the journal. Pure.
 */
export function opsCommand(t: SshTarget, by: string, words: string[]): string {
  return [
    'sudo', '-n', `/usr/local/bin/${t.project}-ops`, '--by', shellQuote(by), '--from', '"${SSH_CLIENT%% *}"',
    ...words.map(shellQuote),
  ].join(' ')
}

/** ssh's arguments for `t`: the run's options first (ssh keeps the first value of each), then ours. Pure. */
export function sshArgv(t: SshTarget, remote: string, tty: boolean): string[] {
  return [
    ...shellSplit(t.sshArgs),
    '-o', 'BatchMode=yes', '-o', 'ConnectTimeout=15',
    ...(tty ? ['-t'] : ['-T']),
    '-p', String(t.port),
    ...(t.user ? ['-l', t.user] : []),
    t.address, '--', remote,
  ]
}

/** Runs ssh with this terminal (manage): resolves to the remote exit code (255: ssh itself failed). */
export async function sshInteractive(argv: string[], env: Record<string, string>): Promise<number> {
  return (await run('ssh', argv, { env: childEnv(env), terminal: true })).code
}

/** Runs ssh with its output streamed line by line to `onLine` (logs, maintenance). */
export async function sshLines(argv: string[], env: Record<string, string>, onLine: (line: string) => void, stop?: AbortSignal): Promise<{ code: number; stderr: string }> {
  const r = await run('ssh', argv, { env: childEnv(env), onStdoutLine: onLine, stop })
  return { code: r.code, stderr: r.stderr }
}

// Commands on a lab host after bootstrap: root and port 22 are closed by then, so as the deploy
// user on the SSH port, through sudo.
import type { Lab } from '../../src/lab/index.ts'
import type { ExecResult } from '../../src/core/exec.ts'

export type Remote = (cmd: string) => Promise<ExecResult>

const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`

export function remote(lab: Lab, host: string, port: number): Remote {
  return (cmd) => lab.ssh(host, `sudo -n sh -c ${quote(cmd)}`, { user: 'deploy', port, key: lab.keys.deploy })
}

/** SSH logins the host's sshd accepted so far (from the journal). */
export async function sshLogins(sh: Remote): Promise<number | null> {
  const r = await sh("journalctl -q --no-pager _COMM=sshd -o cat | grep -c 'Accepted publickey' || true")
  const n = Number(r.stdout.trim())
  return r.code === 0 && Number.isFinite(n) ? n : null
}

/** Runs `fn` and counts the SSH sessions the host accepted meanwhile (null when the journal cannot say). */
export async function countingSessions<T>(sh: Remote, fn: () => Promise<T>): Promise<{ value: T; sessions: number | null }> {
  const before = await sshLogins(sh).catch(() => null)
  const value = await fn()
  const after = await sshLogins(sh).catch(() => null)
  // The second count's own login is in it.
  return { value, sessions: before !== null && after !== null ? after - before - 1 : null }
}

// Steps the one-host e2e files take again and again: a playbook run that logs its time and the
// host's changed count, its success asserted with the output's tail, and a command that must succeed.
import assert from 'node:assert/strict'
import type { Lab, PlaybookOptions, PlaybookResult } from '../../src/lab/index.ts'

/** Runs a playbook and logs `name: exit N, changed=N in Ns` for `host`. */
export async function timedPlaybook(lab: Lab, playbook: string, opts: PlaybookOptions, host = 'web1'): Promise<PlaybookResult> {
  const t0 = Date.now()
  const r = await lab.runPlaybook(playbook, opts)
  console.log(`${playbook}: exit ${r.code}, changed=${r.recap[host]?.changed} in ${Math.round((Date.now() - t0) / 1000)}s`)
  return r
}

export function assertPlaybookOk(r: PlaybookResult): void {
  assert.equal(r.code, 0, r.output.slice(-4000))
}

/** A command on `host` as root that must exit 0: its trimmed stdout. */
export async function sshOk(lab: Lab, host: string, cmd: string): Promise<string> {
  const r = await lab.ssh(host, cmd)
  assert.equal(r.code, 0, `${cmd}: ${r.stderr}`)
  return r.stdout.trim()
}

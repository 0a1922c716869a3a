// What every cell of the version matrix checks beyond its own test file's checks: the results name
// each role task "role : name" whatever the Ansible version (2.9 drops "role : " from its own display
// when the task's name contains the role's), and a code-only deploy serves the new version. The
// matrix (test/e2e/matrix.test.ts) and the 2.14 → Debian 12 cell (site.test.ts) share them.
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { parse } from 'yaml'
import type { PlaybookResult } from '../../src/lab/index.ts'

const SSHD_LISTS = {
  KexAlgorithms: 'bootstrap_sshd_kex_algorithms',
  Ciphers: 'bootstrap_sshd_ciphers',
  MACs: 'bootstrap_sshd_macs',
  HostKeyAlgorithms: 'bootstrap_sshd_host_key_algorithms',
} as const

/**
 * sshd_config's algorithm lists keep the role's order (sshd's order of preference), cut down to
 * what the server knows: a set operation would reorder them, and differently on each run.
 */
export function assertSshdAlgorithmOrder(sshdConfig: string): void {
  const defaults = parse(readFileSync(new URL('../../roles/bootstrap/defaults/main.yml', import.meta.url), 'utf8')) as Record<string, string[]>
  for (const [keyword, variable] of Object.entries(SSHD_LISTS)) {
    const line = new RegExp(`^${keyword} (\\S+)$`, 'm').exec(sshdConfig)
    assert.ok(line, `sshd_config has no ${keyword} line`)
    const configured = line[1]!.split(',')
    assert.deepEqual(configured, defaults[variable]!.filter((a) => configured.includes(a)), `${keyword}: not in ${variable}'s order`)
  }
}

/** A rerun changed nothing on `host`; else the tasks that changed, with their files and lines. */
export function assertUnchanged(r: PlaybookResult, host = 'web1'): void {
  const changed = r.result.changed.filter((c) => c.host === host).map((c) => `${c.task} (${c.file}:${c.line})`)
  assert.equal(r.recap[host]?.changed, 0, `changed on the rerun: ${changed.join('; ') || r.output.slice(-4000)}`)
}

/** Every role task of a run of site.yml, as core's runner reads the results, is named "role : name". */
export function assertRoleTaskNames(r: PlaybookResult): void {
  // The callback plugin's files are relative to the repository.
  const tasks = r.result.tasks.filter((e) => /^roles\/\w+\//.test(e.file ?? ''))
  assert.ok(tasks.length > 50, `${tasks.length} role tasks in the results`)
  for (const e of tasks) {
    const role = /^roles\/(\w+)\//.exec(e.file!)![1]
    assert.ok(e.task.startsWith(`${role} : `), `${e.file}:${e.line}: "${e.task}"`)
  }
  assert.ok(tasks.some((e) => e.task === 'bootstrap : Somebody can still log in after bootstrap'))
}

/** The page's version, as the example app prints it. */
export function pageVersion(body: string): string | undefined {
  return /id="version">([^<]*)</.exec(body)?.[1]
}

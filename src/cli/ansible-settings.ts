// The Ansible settings of the CLI's commands that reach the servers (deploy, status, plan --state):
// one object for the state read and the runs, so both connect the same way.
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs'
import { hostname, tmpdir, userInfo } from 'node:os'
import { join, relative, resolve } from 'node:path'
import { preflight, PreflightError, VAULT_KEY_SECRET } from '../core/preflight.ts'
import { readKeyFile, type VaultError } from '../core/vault.ts'
import type { AnsibleRunSettings } from '../core/run.ts'
import { makeControlDir, removeControlDir, writeSshVars } from '../core/ssh.ts'
import { runName } from '../core/state.ts'
import { UsageError } from './command.ts'

export interface AnsibleOptions {
  inventory?: string
  'vault-key'?: string
  'ansible-playbook'?: string
  limit?: string
  check?: boolean
  diff?: boolean
  tags?: string
  'extra-vars'?: string
  'ssh-key'?: string
  'known-hosts'?: string
  'accept-new-host-keys'?: boolean
}

/** The options' help lines, shared by the commands. */
export const ANSIBLE_USAGE = `  --inventory DIR    inventory directory (default: inventories/production)
  --vault-key FILE   the vault password file (default: vault.key)
  --limit PATTERN    only hosts matching PATTERN
  --ssh-key FILE     the private key to log in with (default: ssh's own keys and agent)
  --known-hosts FILE the servers' host keys (default: ~/.ssh/known_hosts); checked strictly
  --accept-new-host-keys   trust a host key not yet known (ssh accept-new)
  --ansible-playbook PATH   the ansible-playbook to run (default: the one on PATH; ansible beside it)`

export const ANSIBLE_OPTIONS = {
  inventory: { type: 'string' },
  'vault-key': { type: 'string' },
  limit: { type: 'string' },
  'ssh-key': { type: 'string' },
  'known-hosts': { type: 'string' },
  'accept-new-host-keys': { type: 'boolean' },
  'ansible-playbook': { type: 'string' },
} as const

/** The absolute path of --ssh-key or --known-hosts; undefined when not given. */
function sshFile(o: AnsibleOptions, option: 'ssh-key' | 'known-hosts'): string | undefined {
  const v = o[option]
  if (v === undefined) return undefined
  const p = resolve(v)
  if (!existsSync(p) || !statSync(p).isFile()) throw new UsageError(`--${option}: "${v}" is not a file`)
  return p
}

/** Checks the repository, inventory and vault key; one line on the first problem. */
export function ansibleSettings(dir: string, o: AnsibleOptions): AnsibleRunSettings {
  if (!existsSync(join(dir, 'playbooks'))) throw new UsageError(`${dir} has no playbooks/ directory (run from the repository, or pass --dir)`)
  const inventory = o.inventory ?? 'inventories/production'
  if (!existsSync(resolve(dir, inventory))) throw new UsageError(`inventory "${inventory}" does not exist`)
  sshFile(o, 'ssh-key')
  sshFile(o, 'known-hosts')
  const vaultKey = resolve(dir, o['vault-key'] ?? 'vault.key')
  if (!existsSync(vaultKey) || !statSync(vaultKey).isFile()) {
    throw new UsageError(`vault key file "${o['vault-key'] ?? 'vault.key'}" does not exist (create it with django-deploy init, or pass --vault-key FILE)`)
  }
  let key: string
  try {
    key = readKeyFile(vaultKey)
  } catch (e) {
    throw new UsageError(`vault key file "${relative(dir, vaultKey)}": ${(e as VaultError).message.replace(`${vaultKey} `, '')}`)
  }
  // The one validation pass (shared with the action): nothing is planned or run before it passes.
  let extraVars: string | undefined
  try {
    extraVars = preflight({
      root: dir,
      inventory,
      vaultKey: key,
      vaultKeyFix: `pass --vault-key FILE with the key that opens it (the value stored as secrets.${VAULT_KEY_SECRET})`,
      extraVars: o['extra-vars'] ?? '',
      extraVarsWhere: '--extra-vars',
    }).extraVars
  } catch (e) {
    if (e instanceof PreflightError) throw new UsageError(e.message)
    throw e
  }
  return {
    cwd: dir,
    ansiblePlaybook: o['ansible-playbook'] ?? 'ansible-playbook',
    inventory,
    check: o.check ?? false,
    diff: o.diff ?? false,
    limit: o.limit,
    tags: (o.tags ?? '').split(',').map((t) => t.trim()).filter(Boolean),
    extraVars,
    env: { ANSIBLE_VAULT_PASSWORD_FILE: vaultKey },
  }
}

/**
 * Runs `fn` with the action's SSH settings (core/ssh.ts) in `run`: the key, known_hosts and
 * control sockets the options name, for the state read and the runs alike. `fn` gets the run's
 * own 0700 directory (for its log); it is removed afterwards unless `keep` says otherwise and `fn`
 * returned.
 */
export async function withSsh<T>(run: AnsibleRunSettings, o: AnsibleOptions, fn: (runDir: string) => Promise<T>, keep = false): Promise<T> {
  const runDir = mkdtempSync(join(tmpdir(), 'django-deploy-'))
  const controlDir = makeControlDir()
  run.extraVarsFiles = [writeSshVars(runDir, {
    keyFile: sshFile(o, 'ssh-key'), knownHostsFile: sshFile(o, 'known-hosts'), acceptNew: o['accept-new-host-keys'] ?? false, controlDir,
  })]
  let done = false
  try {
    const r = await fn(runDir)
    done = true
    return r
  } finally {
    removeControlDir(controlDir)
    // Kept only when something ran to its end (its log is there); a run stopped early leaves nothing.
    if (!keep || !done) rmSync(runDir, { recursive: true, force: true })
  }
}

/** Who deploys from this machine, as the hosts record it. */
export function cliRunName(): string {
  return runName(process.env, `${userInfo().username}@${hostname()}`)
}

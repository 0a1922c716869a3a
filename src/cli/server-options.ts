// The options of the CLI's commands that reach the servers (deploy, status, restore, plan --state):
// checked once (with the validation pass the action runs), then one connection (core/connection.ts,
// as the action's) for the state read and the runs, so both connect the same way.
import { existsSync, statSync } from 'node:fs'
import { hostname, tmpdir, userInfo } from 'node:os'
import { join, relative, resolve } from 'node:path'
import { closeConnection, connectedRun, openConnection, type Connection } from '../core/connection.ts'
import type { PlanConfig } from '../core/plan/config.ts'
import { runName } from '../core/plan/state-file.ts'
import { preflight, VAULT_KEY_SECRET } from '../core/preflight.ts'
import { readKeyFile, type VaultError } from '../core/vault.ts'
import type { AnsibleRunSettings } from '../core/run.ts'
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

/** What the checks give: the runs' settings (without the connection yet), the plan's override file. */
export interface CheckedOptions {
  run: AnsibleRunSettings
  planConfig: PlanConfig
  vaultKeyFile: string
}

/** Checks the repository, inventory, vault key and the rest (the validation pass); one line on the first problem. */
export function checkServerOptions(dir: string, o: AnsibleOptions): CheckedOptions {
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
  const checked = preflight({
    root: dir,
    inventory,
    vaultKey: key,
    vaultKeyFix: `pass --vault-key FILE with the key that opens it (the value stored as secrets.${VAULT_KEY_SECRET})`,
    extraVars: o['extra-vars'] ?? '',
    extraVarsWhere: '--extra-vars',
  })
  const run: AnsibleRunSettings = {
    cwd: dir,
    ansiblePlaybook: o['ansible-playbook'] ?? 'ansible-playbook',
    inventory,
    check: o.check ?? false,
    diff: o.diff ?? false,
    limit: o.limit,
    tags: (o.tags ?? '').split(',').map((t) => t.trim()).filter(Boolean),
    extraVars: checked.extraVars,
    env: {},
  }
  return { run, planConfig: checked.planConfig, vaultKeyFile: vaultKey }
}

/**
 * Runs `fn` connected as the options say (core/connection.ts): the vault key, the key,
 * known_hosts and control sockets, for the state read and the runs alike. `fn` gets the settings
 * with the connection, and the connection (its 0700 directory holds the log); the directory is
 * removed afterwards unless `keep` says otherwise and `fn` returned.
 */
export async function withConnection<T>({ run, vaultKeyFile }: CheckedOptions, o: AnsibleOptions, fn: (run: AnsibleRunSettings, c: Connection) => Promise<T>, keep = false): Promise<T> {
  const file = (option: 'ssh-key' | 'known-hosts') => {
    const f = sshFile(o, option)
    return f ? { file: f } : undefined
  }
  const c = openConnection({
    tempRoot: tmpdir(),
    vaultKey: { file: vaultKeyFile },
    sshKey: file('ssh-key'),
    knownHosts: file('known-hosts'),
    acceptNewHostKeys: o['accept-new-host-keys'] ?? false,
  })
  let done = false
  try {
    const r = await fn(connectedRun(run, c), c)
    done = true
    return r
  } finally {
    // Kept only when something ran to its end (its log is there); a run stopped early leaves nothing.
    closeConnection(c, keep && done)
  }
}

/** Who deploys from this machine, as the hosts record it. */
export function cliRunName(): string {
  return runName(process.env, `${userInfo().username}@${hostname()}`)
}

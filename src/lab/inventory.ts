// Inventories for a lab: the production group_vars with the lab's hosts, keys and known_hosts.
import { randomBytes } from 'node:crypto'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { parse, stringify } from 'yaml'
import { runOk } from '../core/exec.ts'

export interface InventoryInput {
  repoRoot: string
  dir: string
  hosts: { name: string; address: string }[]
  keys: { root: string; admin: string; deploy: string }
  knownHosts: string
  controlPathDir: string
  vars: Record<string, unknown>
  vault: Record<string, unknown>
  /** Role groups (appservers, dbservers, loadbalancers) → host names: children of webservers. */
  groups?: Record<string, string[]>
  /** base's hardening packages: the role's own list (the default), or the lab's (without the two below). */
  hardening?: 'role' | 'lab'
}

/**
 * Two of base's hardening packages cost a fresh host about a minute of CPU of their own: aide (its
 * 200 configuration snippets registered one by one through ucf, then its first database of every
 * file, built in the background) and rkhunter (its file properties baseline). A suite run boots
 * some twenty hosts on two cores, so the e2e files whose subject is not the servers' hardening ask for
 * the lab's list; bootstrap-base, site (Lynis), the version matrix (but for its third cell), the demo
 * and the benchmarks keep the role's.
 */
const LAB_SKIPS_HARDENING = ['aide-common', 'rkhunter']

function readYaml(file: string): Record<string, unknown> {
  return (parse(readFileSync(file, 'utf8')) ?? {}) as Record<string, unknown>
}

const pub = (key: string) => readFileSync(`${key}.pub`, 'utf8').trim()

/** SSH options every lab connection needs: the lab's known_hosts, strictly checked. */
export function sshCommonArgs(knownHosts: string, extraKeys: string[], controlPathDir: string): string {
  return [
    `-o UserKnownHostsFile=${knownHosts}`,
    '-o GlobalKnownHostsFile=/dev/null',
    '-o StrictHostKeyChecking=yes',
    '-o IdentitiesOnly=yes',
    // Persistent connections stay per lab: a later lab on the same slot reuses the addresses.
    `-o ControlPath=${controlPathDir}/%C`,
    ...extraKeys.map((k) => `-o IdentityFile=${k}`),
  ].join(' ')
}

export async function writeInventory(input: InventoryInput): Promise<string> {
  const { dir, repoRoot, keys } = input
  const production = join(repoRoot, 'inventories/production')
  mkdirSync(join(dir, 'group_vars/all'), { recursive: true })

  const hosts = Object.fromEntries(input.hosts.map((h) => [h.name, { ansible_host: h.address }]))
  const children = Object.fromEntries(Object.entries(input.groups ?? {}).map(([g, names]) => [g, { hosts: Object.fromEntries(names.map((n) => [n, {}])) }]))
  const webservers = Object.keys(children).length > 0 ? { hosts, children } : { hosts }
  writeFileSync(join(dir, 'hosts.yml'), stringify({ all: { children: { webservers } } }))

  const labDefaults: Record<string, unknown> = {
    public_hostnames: input.hosts.map((h) => `${h.name}.test`),
    bootstrap_admins: [{ name: 'alice', keys: [pub(keys.admin)] }],
    bootstrap_deploy_keys: [pub(keys.deploy)],
    bootstrap_initial_user: 'root',
    bootstrap_initial_port: 22,
    // Key for the first connection as root; also offered on every connection (below), so
    // playbooks work whether or not they switch keys for the initial login.
    bootstrap_initial_private_key_file: keys.root,
    ansible_ssh_private_key_file: keys.deploy,
    ansible_ssh_common_args: sshCommonArgs(input.knownHosts, [keys.root], input.controlPathDir),
    // Every test's SSH connections (Ansible, probes, assertions) come from the one gateway address:
    // base's per-source SSH rate limit is raised above what a test opens.
    base_firewall_ssh_rate: '600/minute',
    base_firewall_ssh_burst: 200,
  }
  if (input.hardening === 'lab') {
    const role = readYaml(join(repoRoot, 'roles/base/defaults/main.yml')).base_hardening_packages as string[]
    labDefaults.base_hardening_packages = role.filter((p) => !LAB_SKIPS_HARDENING.includes(p))
  }
  // Ansible replaces (does not merge) top-level variables, so a shallow merge is what it would do.
  const vars = { ...readYaml(join(production, 'group_vars/all/vars.yml')), ...labDefaults, ...input.vars }
  writeFileSync(join(dir, 'group_vars/all/vars.yml'), '---\n' + stringify(vars))

  const vaultDefaults = Object.fromEntries(
    Object.keys(readYaml(join(repoRoot, 'inventories/vault.example.yml'))).map((k) => [k, `lab-${k}-${randomBytes(12).toString('hex')}`]),
  )
  const vaultKey = join(dir, 'vault.key')
  writeFileSync(vaultKey, randomBytes(32).toString('hex') + '\n', { mode: 0o600 })
  // The plaintext goes through stdin only: it never touches the disk.
  await runOk('ansible-vault', [
    'encrypt', '--vault-password-file', vaultKey, '--output', join(dir, 'group_vars/all/vault.yml'), '-',
  ], { input: '---\n' + stringify({ ...vaultDefaults, ...input.vault }) })
  return dir
}

// What manage, logs and maintenance share: the deploy's option checks (repository, inventory,
// vault key, the validation pass), its connection (server-options.ts), then the hosts picked
// from the inventory, each with the way to log in (remote.ts). Nothing connects before that.
import { resolve } from 'node:path'
import { pickHosts } from './ops-args.ts'
import { resolveTargets, type SshTarget } from './remote.ts'
import { ANSIBLE_OPTIONS, checkServerOptions, cliRunName, withConnection, type AnsibleOptions } from './server-options.ts'

export const OPS_OPTIONS = {
  ...ANSIBLE_OPTIONS,
  host: { type: 'string', multiple: true },
  dir: { type: 'string' },
} as const

export const OPS_USAGE = `  --inventory DIR    inventory directory (default: inventories/production)
  --vault-key FILE   the vault password file (default: vault.key)
  --ssh-key FILE     the private key to log in with (default: ssh's own keys and agent)
  --known-hosts FILE the servers' host keys (default: ~/.ssh/known_hosts); checked strictly
  --accept-new-host-keys   trust a host key not yet known (ssh accept-new)
  --ansible-playbook PATH   the ansible-playbook whose ansible reads the inventory
  --dir DIR          the repository (default: the current directory)
  -h, --help         this help`

/**
 * Runs `fn` on the hosts named by --host (or every host of the inventory; exactly one when `one`),
 * each with how to reach it and who runs this (user@machine, for the server's journal).
 */
export async function onHosts(values: AnsibleOptions & { dir?: string }, named: string[], one: boolean,
  fn: (targets: SshTarget[], by: string) => Promise<number>): Promise<number> {
  const dir = resolve(values.dir ?? '.')
  const checked = checkServerOptions(dir, values)
  return withConnection(checked, values, async (run) => {
    const all = await resolveTargets(run)
    const hosts = pickHosts(all.map((t) => t.host), named, one)
    return fn(hosts.map((h) => all.find((t) => t.host === h)!), cliRunName())
  })
}

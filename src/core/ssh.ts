// How the action and the CLI hand SSH credentials to Ansible: one extra-vars file defining
// ansible_ssh_common_args (known_hosts, host key checking, key, control path). Every Ansible from
// 2.9 on reads that variable for ssh, sftp and scp alike (2.9 ignores ANSIBLE_SSH_COMMON_ARGS), and
// the bootstrap role's own ssh probes read it too, so all of them log in the same way.
//
// Precedence: extra vars beat the inventory, so this value replaces an inventory's own
// ansible_ssh_common_args; options of the inventory's (ProxyJump…) go in server_ssh_common_args,
// appended here. The key is an IdentityFile option, not ansible_ssh_private_key_file: as an extra
// var that one would also beat the bootstrap role's switch to bootstrap_initial_private_key_file.
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { basename, join } from 'node:path'

export interface SshSettings {
  /** Private key file offered on every connection (with IdentitiesOnly). */
  keyFile?: string
  /** known_hosts file; when absent, ssh's own (~/.ssh/known_hosts). */
  knownHostsFile?: string
  /** Trust a host key not yet known (ssh accept-new) instead of refusing it. */
  acceptNew: boolean
  /** Short directory for the ControlMaster sockets (see controlDir). */
  controlDir: string
}

/** The variable of the inventory appended to the SSH options (documented in the README). */
export const INVENTORY_SSH_ARGS_VAR = 'server_ssh_common_args'

/** A word for ssh options read by Ansible (shlex) and by a shell alike. */
export function shellQuote(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'"'"'`)}'`
}

/** The ssh options, in the order ssh sees them (ssh keeps the first value of an option). Pure. */
export function sshOptions(s: SshSettings): string[] {
  const o: string[] = []
  if (s.knownHostsFile) o.push(`UserKnownHostsFile=${s.knownHostsFile}`)
  o.push(`StrictHostKeyChecking=${s.acceptNew ? 'accept-new' : 'yes'}`)
  if (s.keyFile) o.push(`IdentityFile=${s.keyFile}`, 'IdentitiesOnly=yes')
  o.push(`ControlPath=${s.controlDir}/%C`)
  return o
}

/** The extra variables: ansible_ssh_common_args, the inventory's server_ssh_common_args after ours. Pure. */
export function sshExtraVars(s: SshSettings): Record<string, string> {
  const args = sshOptions(s).map((o) => `-o ${shellQuote(o)}`).join(' ')
  return { ansible_ssh_common_args: `${args} {{ ${INVENTORY_SSH_ARGS_VAR} | default('') }}` }
}

/** Writes the extra-vars file (0600) in `dir`; returns its path, to pass as --extra-vars @path. */
export function writeSshVars(dir: string, s: SshSettings): string {
  const file = join(dir, 'ssh-vars.json')
  writeFileSync(file, JSON.stringify(sshExtraVars(s), null, 2) + '\n', { mode: 0o600 })
  return file
}

export const CONTROL_DIR_PREFIX = 'django-deploy-cp-'

/**
 * A 0700 directory for the control sockets, short whatever the temporary directory (a socket path
 * has room for 104 bytes on macOS, 108 on Linux; ssh adds 17 while creating it). /tmp on POSIX, not
 * TMPDIR or RUNNER_TEMP, which may be long.
 */
export function makeControlDir(root = process.platform === 'win32' ? undefined : '/tmp'): string {
  return mkdtempSync(join(root ?? process.env.TEMP ?? '.', CONTROL_DIR_PREFIX))
}

/** The longest socket path ssh creates in `dir` (%C is 40 hex digits, plus ssh's temporary suffix). */
export const controlSocketLength = (dir: string): number => Buffer.byteLength(`${dir}/${'0'.repeat(40)}.${'0'.repeat(16)}`)

/** Removes a control directory made by makeControlDir (never another); sockets left by ssh go too. */
export function removeControlDir(dir: string): boolean {
  if (!dir || !basename(dir).startsWith(CONTROL_DIR_PREFIX)) return false
  try {
    if (!statSync(dir).isDirectory()) return false
  } catch {
    return false
  }
  rmSync(dir, { recursive: true, force: true })
  return true
}

/** Plain-text inventory files that set ansible_ssh_common_args, which the extra var replaces. */
export function inventoriesSettingCommonArgs(dir: string): string[] {
  const out: string[] = []
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name)
      if (e.isDirectory()) walk(p)
      else if (e.isFile() && /\.ya?ml$|^[^.]+$/.test(e.name)) {
        const text = readFileSync(p, 'utf8')
        if (!text.startsWith('$ANSIBLE_VAULT') && /^\s*ansible_ssh_common_args\s*[:=]/m.test(text)) out.push(p)
      }
    }
  }
  try {
    if (statSync(dir).isDirectory()) walk(dir)
  } catch {
    // A missing inventory is reported elsewhere.
  }
  return out
}

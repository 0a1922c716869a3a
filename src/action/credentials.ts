// The run's secrets on disk: vault key, SSH private key and known_hosts, each a 0600 file in a
// 0700 directory under RUNNER_TEMP, masked in the log. Returns the environment that points
// Ansible at them. post removes the directory (cleanup.ts).
import * as core from '@actions/core'
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Settings } from './inputs.ts'

export interface Credentials {
  dir: string
  env: Record<string, string>
  /** Files written, for the log (names only). */
  files: string[]
}

/** Values to mask: the whole secret and each line long enough to be worth it (PEM bodies). */
export function maskValues(secret: string): string[] {
  const lines = secret.split('\n').map((l) => l.trim()).filter((l) => l.length >= 8 && !/^-----(BEGIN|END) /.test(l))
  return [...new Set([secret.trim(), ...lines].filter(Boolean))]
}

/** A value for ssh options inside ANSIBLE_SSH_COMMON_ARGS (split by shlex). */
export function shellQuote(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'"'"'`)}'`
}

/** The SSH environment: known_hosts pinned (strict), or accept-new when opted in. Pure. */
export function sshEnv(opts: { keyFile?: string; knownHostsFile?: string; acceptNew: boolean; controlDir: string; existingCommonArgs?: string }): Record<string, string> {
  const env: Record<string, string> = { ANSIBLE_SSH_CONTROL_PATH_DIR: opts.controlDir }
  const args: string[] = []
  if (opts.knownHostsFile) args.push(`-o UserKnownHostsFile=${shellQuote(opts.knownHostsFile)}`)
  args.push(`-o StrictHostKeyChecking=${opts.acceptNew ? 'accept-new' : 'yes'}`)
  if (opts.existingCommonArgs) args.push(opts.existingCommonArgs)
  env.ANSIBLE_SSH_COMMON_ARGS = args.join(' ')
  env.ANSIBLE_HOST_KEY_CHECKING = 'True'
  if (opts.keyFile) env.ANSIBLE_PRIVATE_KEY_FILE = opts.keyFile
  return env
}

/** Writes the secrets; `onDir` is called as soon as the directory exists (to save it for post). */
export function writeCredentials(settings: Settings, tempRoot: string, onDir: (dir: string) => void): Credentials {
  for (const s of [settings.vaultKey, settings.sshPrivateKey]) if (s) for (const v of maskValues(s)) core.setSecret(v)
  mkdirSync(tempRoot, { recursive: true })
  const dir = mkdtempSync(join(tempRoot, 'django-deploy-'))
  onDir(dir)
  const files: string[] = []
  const write = (name: string, content: string) => {
    const file = join(dir, name)
    writeFileSync(file, content, { mode: 0o600 })
    files.push(name)
    return file
  }
  const env: Record<string, string> = {}
  if (settings.vaultKey) env.ANSIBLE_VAULT_PASSWORD_FILE = write('vault.key', settings.vaultKey + '\n')
  const keyFile = settings.sshPrivateKey ? write('id_deploy', settings.sshPrivateKey + '\n') : undefined
  let knownHostsFile: string | undefined
  if (settings.knownHosts || settings.acceptNewHostKeys) knownHostsFile = write('known_hosts', settings.knownHosts ? settings.knownHosts + '\n' : '')
  if (settings.acceptNewHostKeys) {
    core.warning('accept-new-host-keys is on: host keys not in known-hosts are trusted on first use, which a machine in the middle can exploit. Pin them with the known-hosts input (ssh-keyscan -p PORT HOST).')
  } else if (!settings.knownHosts) {
    core.info('known-hosts is empty: host keys are checked strictly against ~/.ssh/known_hosts')
  }
  const controlDir = join(dir, 'cp')
  mkdirSync(controlDir, { mode: 0o700 })
  Object.assign(env, sshEnv({ keyFile, knownHostsFile, acceptNew: settings.acceptNewHostKeys, controlDir, existingCommonArgs: process.env.ANSIBLE_SSH_COMMON_ARGS }))
  return { dir, env, files }
}

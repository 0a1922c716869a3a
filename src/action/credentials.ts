// The run's secrets on disk: vault key, SSH private key and known_hosts, each a 0600 file in a
// 0700 directory under RUNNER_TEMP (main.ts has masked them already), and the SSH extra-vars file pointing
// Ansible at them (core/ssh.ts); Ansible's local temporary files (rendered templates, copied content,
// which may hold secrets) go in the same directory; the control sockets go in a short directory
// under /tmp. post removes both directories (cleanup.ts), also after a cancelled run.
import * as core from '@actions/core'
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { makeControlDir, writeSshVars } from '../core/ssh.ts'
import type { Settings } from './inputs.ts'

export interface Credentials {
  dir: string
  /** The control sockets' directory (short, under /tmp). */
  controlDir: string
  env: Record<string, string>
  /** Passed as --extra-vars @file: the SSH options. */
  extraVarsFiles: string[]
  /** Files written, for the log (names only). */
  files: string[]
}

/** Writes the secrets; `onDir` is called as soon as each directory exists (to save it for post). */
export function writeCredentials(settings: Settings, tempRoot: string, onDir: (dir: string) => void, onControlDir: (dir: string) => void, controlRoot?: string): Credentials {
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
  const controlDir = makeControlDir(controlRoot)
  onControlDir(controlDir)
  const sshVars = writeSshVars(dir, { keyFile, knownHostsFile, acceptNew: settings.acceptNewHostKeys, controlDir })
  files.push('ssh-vars.json')
  const localTemp = join(dir, 'ansible-tmp')
  mkdirSync(localTemp, { mode: 0o700 })
  env.ANSIBLE_LOCAL_TEMP = localTemp
  // A host_key_checking = False in ansible.cfg would put StrictHostKeyChecking=no before ours.
  env.ANSIBLE_HOST_KEY_CHECKING = 'True'
  return { dir, controlDir, env, extraVarsFiles: [sshVars], files }
}

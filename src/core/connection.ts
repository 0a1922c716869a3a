// How every run reaches the servers, built once for the action and every CLI command: a 0700
// directory for the run (0600 secrets written from text, the SSH extra-vars file), a short
// directory for the control sockets, the host-key policy, and the environment Ansible gets (vault
// password file, host key checking, Ansible's local temporary directory). The state read and the runs use the same Connection, so both
// log in the same way.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { AnsibleRunSettings } from './run.ts'
import { makeControlDir, removeControlDir, writeSshVars } from './ssh.ts'

/** A secret given as text (the action's inputs: written to the run's directory) or as a file of the user's (the CLI). */
export type Secret = { text: string } | { file: string }

export interface ConnectionRequest {
  /** Where the run's 0700 directory goes (RUNNER_TEMP, or the temporary directory). */
  tempRoot: string
  vaultKey?: Secret
  sshKey?: Secret
  /** The servers' host keys; absent: ssh's own ~/.ssh/known_hosts. */
  knownHosts?: Secret
  /** Trust a host key not yet known (ssh accept-new) instead of refusing it. */
  acceptNewHostKeys: boolean
  /** Where the control sockets' directory goes (default /tmp: a socket path must stay short). */
  controlRoot?: string
  /** Called as soon as each directory exists (the action saves them for post). */
  onDir?(dir: string): void
  onControlDir?(dir: string): void
}

export interface Connection {
  /** The run's 0700 directory: written secrets, the SSH vars, results and logs. */
  dir: string
  /** The control sockets' directory (short, under /tmp). */
  controlDir: string
  /** Added to Ansible's environment. */
  env: Record<string, string>
  /** Passed as --extra-vars @file: the SSH options (core/ssh.ts). */
  extraVarsFiles: string[]
  /** Files written in `dir`, for the log (names only). */
  files: string[]
}

export function openConnection(req: ConnectionRequest): Connection {
  mkdirSync(req.tempRoot, { recursive: true })
  const dir = mkdtempSync(join(req.tempRoot, 'django-deploy-'))
  req.onDir?.(dir)
  const files: string[] = []
  const place = (secret: Secret | undefined, name: string): string | undefined => {
    if (!secret) return undefined
    if ('file' in secret) return secret.file
    writeFileSync(join(dir, name), secret.text ? secret.text + '\n' : '', { mode: 0o600 })
    files.push(name)
    return join(dir, name)
  }
  const env: Record<string, string> = {}
  const vaultFile = place(req.vaultKey, 'vault.key')
  if (vaultFile) env.ANSIBLE_VAULT_PASSWORD_FILE = vaultFile
  const keyFile = place(req.sshKey, 'id_deploy')
  const knownHostsFile = place(req.knownHosts, 'known_hosts')
  const controlDir = makeControlDir(req.controlRoot)
  req.onControlDir?.(controlDir)
  const sshVars = writeSshVars(dir, { keyFile, knownHostsFile, acceptNew: req.acceptNewHostKeys, controlDir })
  files.push('ssh-vars.json')
  // Ansible's local temporary files (rendered templates, copied content: secrets among them) in
  // the run's private directory, removed with it.
  const localTemp = join(dir, 'ansible-tmp')
  mkdirSync(localTemp, { mode: 0o700 })
  env.ANSIBLE_LOCAL_TEMP = localTemp
  // A host_key_checking = False in ansible.cfg would put StrictHostKeyChecking=no before ours.
  env.ANSIBLE_HOST_KEY_CHECKING = 'True'
  return { dir, controlDir, env, extraVarsFiles: [sshVars], files }
}

/** Removes the control sockets, and the run's directory unless it is kept (it holds a log to read). */
export function closeConnection(c: Connection, keepDir = false): void {
  removeControlDir(c.controlDir)
  if (!keepDir) rmSync(c.dir, { recursive: true, force: true })
}

/** The runs' settings connected through `c`: its environment, SSH vars, and its directory for results. */
export function connectedRun(run: AnsibleRunSettings, c: Connection): AnsibleRunSettings {
  return { ...run, env: { ...run.env, ...c.env }, extraVarsFiles: c.extraVarsFiles, resultsDir: c.dir }
}

// The run's secrets on disk, from the inputs: vault key, SSH private key and known_hosts, each a
// 0600 file in a 0700 directory under RUNNER_TEMP (main.ts has masked them already), through the
// connection builder every command shares (core/connection.ts), with Ansible's local temporary files (rendered templates,
// copied content, which may hold secrets). post removes both directories (cleanup.ts).
import * as core from '@actions/core'
import { openConnection, type Connection } from '../core/connection.ts'
import type { Settings } from './inputs.ts'

/** Writes the secrets; `onDir` is called as soon as each directory exists (to save it for post). */
export function writeCredentials(settings: Settings, tempRoot: string, onDir: (dir: string) => void, onControlDir: (dir: string) => void, controlRoot?: string): Connection {
  if (settings.acceptNewHostKeys) {
    core.warning('accept-new-host-keys is on: host keys not in known-hosts are trusted on first use, which a machine in the middle can exploit. Pin them with the known-hosts input (ssh-keyscan -p PORT HOST).')
  } else if (!settings.knownHosts) {
    core.info('known-hosts is empty: host keys are checked strictly against ~/.ssh/known_hosts')
  }
  return openConnection({
    tempRoot,
    vaultKey: settings.vaultKey ? { text: settings.vaultKey } : undefined,
    sshKey: settings.sshPrivateKey ? { text: settings.sshPrivateKey } : undefined,
    // With accept-new and nothing pinned, a file of this run's own (empty): trusting keys first
    // seen must not write to the runner's ~/.ssh.
    knownHosts: settings.knownHosts || settings.acceptNewHostKeys ? { text: settings.knownHosts } : undefined,
    acceptNewHostKeys: settings.acceptNewHostKeys,
    controlRoot,
    onDir,
    onControlDir,
  })
}

// The post step: removes the secrets main wrote. Runs after failures and cancellations too.
import * as core from '@actions/core'
import { removeControlDir } from '../core/ssh.ts'
import { removeSecretsDir } from './cleanup.ts'
import { controlDir, secretsDir } from './post-state.ts'

export async function post(): Promise<void> {
  const dir = secretsDir()
  const outcome = removeSecretsDir(dir)
  if (outcome === 'refused') core.warning(`Not removing ${dir}: not a directory this action created`)
  else core.info(outcome === 'removed' ? 'Removed the vault key, SSH key and known_hosts of this run, and Ansible\'s local temporary files' : 'No secrets to remove')
  if (removeControlDir(controlDir())) core.info('Removed the SSH control sockets of this run')
}

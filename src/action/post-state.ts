// Every piece of state main hands to post, in one place. A key is saved only once the resource
// it names exists, so post cleans up exactly what main created.
import * as core from '@actions/core'

const IS_POST = 'isPost'
const SECRETS_DIR = 'secretsDir'
const CONTROL_DIR = 'controlDir'

/** True in the post step: main saved the flag (the same bundle runs both). */
export const isPost = (): boolean => core.getState(IS_POST) === 'true'

/** Marks that main ran, so the next invocation of this bundle is post. */
export function markMainRan(): void {
  core.saveState(IS_POST, 'true')
}

/** The directory holding the vault key, SSH key and known_hosts of this run. */
export const secretsDir = (): string => core.getState(SECRETS_DIR)

export function saveSecretsDir(dir: string): void {
  core.saveState(SECRETS_DIR, dir)
}

/** The short directory of this run's SSH control sockets. */
export const controlDir = (): string => core.getState(CONTROL_DIR)

export function saveControlDir(dir: string): void {
  core.saveState(CONTROL_DIR, dir)
}

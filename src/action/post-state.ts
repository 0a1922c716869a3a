// Every piece of state main hands to post, in one place. A key is saved only once the resource
// it names exists, so post cleans up exactly what main created. The runner hands it over through
// STATE_* variables to post's own process; a runner of both steps in one process
// (@github/local-action with the bundle) finds it here.
import * as core from '@actions/core'

const savedHere = new Map<string, string>()
const save = (key: string, value: string) => {
  savedHere.set(key, value)
  core.saveState(key, value)
}
const saved = (key: string): string => savedHere.get(key) ?? core.getState(key)

const IS_POST = 'isPost'
const SECRETS_DIR = 'secretsDir'
const CONTROL_DIR = 'controlDir'

/** True in the post step: main saved the flag (the same bundle runs both). */
export const isPost = (): boolean => core.getState(IS_POST) === 'true'

/** Marks that main ran, so the next invocation of this bundle is post; what an earlier main of this process saved is forgotten. */
export function markMainRan(): void {
  savedHere.clear()
  core.saveState(IS_POST, 'true')
}

/** The directory holding the vault key, SSH key and known_hosts of this run. */
export const secretsDir = (): string => saved(SECRETS_DIR)

export function saveSecretsDir(dir: string): void {
  save(SECRETS_DIR, dir)
}

/** The short directory of this run's SSH control sockets. */
export const controlDir = (): string => saved(CONTROL_DIR)

export function saveControlDir(dir: string): void {
  save(CONTROL_DIR, dir)
}

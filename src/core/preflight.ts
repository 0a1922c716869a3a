// The one validation pass the action and the CLI run before anything else: the vault key against
// every vault the run loads, the SSH private key, known_hosts, extra-vars, the event file. Each
// problem is one line (what, where, how to fix), never a secret or a piece of one.
import { existsSync, readFileSync } from 'node:fs'
import { normaliseExtraVars } from './extra-vars.ts'
import { readPlanConfig } from './plan-config.ts'
import { checkKnownHosts, checkPrivateKey } from './ssh-check.ts'
import { secretPieces } from './secrets.ts'
import { checkVaultKey } from './vault-read.ts'

export class PreflightError extends Error {
  override name = 'PreflightError'
}

/** The name of the vault key secret everywhere (README, init, workflows). */
export const VAULT_KEY_SECRET = 'ANSIBLE_VAULT_KEY'

export interface PreflightInput {
  root: string
  inventory: string
  vaultKey: string
  /** How to fix a wrong or missing vault key, for the error line. */
  vaultKeyFix: string
  extraVars: string
  /** The name of the extra-vars input or option, for the error line. */
  extraVarsWhere: string
  ssh?: { privateKey: string; knownHosts: string; keyWhere: string; knownHostsWhere: string }
  /** The action's environment: its event file is checked too (the CLI has none). */
  eventEnv?: NodeJS.ProcessEnv
}

export interface PreflightResult {
  /** The extra-vars argument to pass (JSON, key=value or @file), if any. */
  extraVars?: string
  /** Repository-relative vault files opened. */
  vaultFiles: string[]
  /** Every secret value and line the vaults hold, longest first (to mask and scrub). */
  secrets: string[]
}

const rethrow = (e: unknown): never => {
  throw new PreflightError((e as Error).message)
}

export function preflight(input: PreflightInput): PreflightResult {
  let vault: { files: string[]; values: string[] } = { files: [], values: [] }
  try {
    vault = checkVaultKey(input.root, input.inventory, input.vaultKey, input.vaultKeyFix)
  } catch (e) {
    rethrow(e)
  }
  let extraVars: string | undefined
  try {
    if (input.ssh) {
      if (input.ssh.privateKey.trim()) checkPrivateKey(input.ssh.privateKey, input.ssh.keyWhere, 'store the deploy key\'s private file as the SSH_PRIVATE_KEY secret')
      if (input.ssh.knownHosts.trim()) checkKnownHosts(input.ssh.knownHosts, input.ssh.knownHostsWhere, 'store ssh-keyscan\'s output as the SSH_KNOWN_HOSTS secret')
    }
    extraVars = normaliseExtraVars(input.extraVars, input.extraVarsWhere, input.root)
    // Read now so that a malformed override file stops the run before anything is written.
    readPlanConfig(input.root, input.inventory)
    if (input.eventEnv) readEventPayload(input.eventEnv)
  } catch (e) {
    rethrow(e)
  }
  return { extraVars, vaultFiles: vault.files, secrets: secretPieces(vault.values) }
}

/** Events whose plan needs the event file's commits. */
const DIFF_EVENTS = new Set(['push', 'pull_request', 'pull_request_target'])

/**
 * The event payload GitHub wrote to GITHUB_EVENT_PATH. A push or pull request without one cannot
 * be planned (running everything would be a guess): one line. Not JSON: one line naming the file.
 */
export function readEventPayload(env: NodeJS.ProcessEnv): Record<string, unknown> {
  const name = env.GITHUB_EVENT_NAME ?? ''
  const file = env.GITHUB_EVENT_PATH ?? ''
  if (!file || !existsSync(file)) {
    if (DIFF_EVENTS.has(name)) {
      throw new PreflightError(`the ${name} event's file ${file ? `${file} does not exist` : '(GITHUB_EVENT_PATH) is not set'}: the changes cannot be planned; run on GitHub's runner, or set playbooks: to the playbooks to run`)
    }
    return {}
  }
  let payload: unknown
  try {
    payload = JSON.parse(readFileSync(file, 'utf8'))
  } catch {
    throw new PreflightError(`the event file ${file} (GITHUB_EVENT_PATH) is not JSON: point GITHUB_EVENT_PATH at the event GitHub wrote, or set playbooks: to the playbooks to run`)
  }
  if (payload === null || typeof payload !== 'object' || Array.isArray(payload)) {
    throw new PreflightError(`the event file ${file} (GITHUB_EVENT_PATH) is not a JSON object: point GITHUB_EVENT_PATH at the event GitHub wrote`)
  }
  return payload as Record<string, unknown>
}

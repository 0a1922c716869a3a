// The one validation pass the action and the CLI run before anything else: the vault key against
// every vault the run loads, the SSH private key, known_hosts, extra-vars, the plan's override
// file, the event file. Each problem is a ValidationError of one line (what, where, how to fix),
// never a secret or a piece of one; anything else (a bug, an unreadable disk) passes through as it
// is. What it read (the override file, the event) is handed forward: nothing reads it again.
import { existsSync, readFileSync } from 'node:fs'
import { ValidationError } from './errors.ts'
import { normaliseExtraVars } from './extra-vars.ts'
import { readPlanConfig, type PlanConfig } from './plan/config.ts'
import type { EventInfo } from './plan/changes.ts'
import { checkKnownHosts, checkPrivateKey } from './ssh-check.ts'
import { secretPieces } from './secrets.ts'
import { checkVaultKey } from './vault-read.ts'

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
  /** The plan's override file (.github/deploy-plan.yml), with the inventory in use. */
  planConfig: PlanConfig
  /** The event (name and payload), when eventEnv was given. */
  event?: EventInfo
}

export function preflight(input: PreflightInput): PreflightResult {
  const vault = checkVaultKey(input.root, input.inventory, input.vaultKey, input.vaultKeyFix)
  if (input.ssh) {
    if (input.ssh.privateKey.trim()) checkPrivateKey(input.ssh.privateKey, input.ssh.keyWhere, 'store the deploy key\'s private file as the SSH_PRIVATE_KEY secret')
    if (input.ssh.knownHosts.trim()) checkKnownHosts(input.ssh.knownHosts, input.ssh.knownHostsWhere, 'store ssh-keyscan\'s output as the SSH_KNOWN_HOSTS secret')
  }
  const extraVars = normaliseExtraVars(input.extraVars, input.extraVarsWhere, input.root)
  const planConfig = readPlanConfig(input.root, input.inventory)
  const event = input.eventEnv ? { name: input.eventEnv.GITHUB_EVENT_NAME ?? '', payload: readEventPayload(input.eventEnv) } : undefined
  return { extraVars, vaultFiles: vault.files, secrets: secretPieces(vault.values), planConfig, ...(event ? { event } : {}) }
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
      throw new ValidationError(`the ${name} event's file ${file ? `${file} does not exist` : '(GITHUB_EVENT_PATH) is not set'}: the changes cannot be planned; run on GitHub's runner, or set playbooks: to the playbooks to run`)
    }
    return {}
  }
  let payload: unknown
  try {
    payload = JSON.parse(readFileSync(file, 'utf8'))
  } catch {
    throw new ValidationError(`the event file ${file} (GITHUB_EVENT_PATH) is not JSON: point GITHUB_EVENT_PATH at the event GitHub wrote, or set playbooks: to the playbooks to run`)
  }
  if (payload === null || typeof payload !== 'object' || Array.isArray(payload)) {
    throw new ValidationError(`the event file ${file} (GITHUB_EVENT_PATH) is not a JSON object: point GITHUB_EVENT_PATH at the event GitHub wrote`)
  }
  return payload as Record<string, unknown>
}

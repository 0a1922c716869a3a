// Every input read once, defaulted, parsed and validated into one typed Settings object.
// A bad value throws one line quoting it and the expected form; nothing downstream reads inputs.
import { isAbsolute, normalize } from 'node:path'
import { ValidationError } from '../core/errors.ts'
import { parsePlaybookSelection, type Playbook } from '../core/playbooks.ts'
import { checkWebhookUrl } from '../core/webhook.ts'
import { parseAnsibleSpec, type AnsibleSpec } from './install.ts'

export interface Settings {
  playbooks: 'auto' | Playbook[]
  inventory: string
  vaultKey: string
  sshPrivateKey: string
  knownHosts: string
  acceptNewHostKeys: boolean
  ansible: AnsibleSpec
  check: boolean
  diff: boolean
  limit: string
  tags: string[]
  extraVars: string
  /** Relative to the workspace. */
  workingDirectory: string
  /** A secret; '' for none. */
  webhookUrl: string
  /** The job's token for GitHub's API (the preview's comment, the drift issue); '' for none. */
  githubToken: string
  /** After the run, every deploy playbook in check mode with diff: what changed on the servers by hand. */
  drift: boolean
  /** Keep one GitHub issue open while there is drift (needs drift). */
  driftIssue: boolean
}

export type InputReader = (name: string) => string

export class InputError extends ValidationError {
  override name = 'InputError'
}

const TRUE = ['true', 'True', 'TRUE']
const FALSE = ['false', 'False', 'FALSE']

function bool(name: string, raw: string, dflt: boolean): boolean {
  const v = raw.trim()
  if (v === '') return dflt
  if (TRUE.includes(v)) return true
  if (FALSE.includes(v)) return false
  throw new InputError(`input "${name}": "${v}" is not a boolean (expected true or false)`)
}

/** A path inside the repository: relative, no `..` escaping it. */
function repoPath(name: string, raw: string, dflt: string): string {
  const v = raw.trim() || dflt
  const n = normalize(v).replace(/\/+$/, '') || '.'
  if (isAbsolute(v) || n === '..' || n.startsWith('../')) {
    throw new InputError(`input "${name}": "${v}" must be a path inside the repository (relative, without ..)`)
  }
  return n
}

export function readSettings(get: InputReader): Settings {
  const input = (name: string) => get(name) ?? ''
  let playbooks: Settings['playbooks']
  try {
    playbooks = parsePlaybookSelection(input('playbooks'))
  } catch (e) {
    throw new InputError(`input "playbooks": ${(e as Error).message}`)
  }
  if (Array.isArray(playbooks) && playbooks.length === 0) throw new InputError('input "playbooks": empty list (expected auto, all, or playbook names)')

  let ansible: AnsibleSpec
  try {
    ansible = parseAnsibleSpec(input('ansible-version'))
  } catch (e) {
    throw new InputError(`input "ansible-version": ${(e as Error).message}`)
  }

  const limit = input('limit').trim()
  if (/[\n\r]/.test(limit)) throw new InputError(`input "limit": "${limit.replace(/\s+/g, ' ')}" must be one line (an Ansible host pattern such as web1 or webservers:!web2)`)
  const tags = input('tags').split(/[\n,]+/).map((t) => t.trim()).filter(Boolean)
  const badTag = tags.find((t) => /\s/.test(t))
  if (badTag) throw new InputError(`input "tags": "${badTag}" contains a space (expected tag names separated by commas or newlines)`)

  // Checked by the validation pass (core/preflight.ts), which also knows the repository (@file).
  const extraVars = input('extra-vars').trim()
  const vaultKey = input('vault-key').trim()
  const sshPrivateKey = input('ssh-private-key').replace(/\r\n/g, '\n').trim()
  const knownHosts = input('known-hosts').replace(/\r\n/g, '\n').trim()
  let webhookUrl = input('webhook-url').trim()
  if (webhookUrl) {
    try {
      webhookUrl = checkWebhookUrl(webhookUrl, 'input "webhook-url"')
    } catch (e) {
      throw new InputError((e as Error).message)
    }
  }

  const drift = bool('drift', input('drift'), false)
  const driftIssue = bool('drift-issue', input('drift-issue'), false)
  if (driftIssue && !drift) throw new InputError('input "drift-issue": "true" needs drift: true (the issue reports what the drift check finds)')

  return {
    playbooks,
    inventory: repoPath('inventory', input('inventory'), 'inventories/production'),
    vaultKey,
    sshPrivateKey,
    knownHosts,
    acceptNewHostKeys: bool('accept-new-host-keys', input('accept-new-host-keys'), false),
    ansible,
    check: bool('check', input('check'), false),
    diff: bool('diff', input('diff'), false),
    limit,
    tags,
    extraVars,
    workingDirectory: repoPath('working-directory', input('working-directory'), '.'),
    webhookUrl,
    githubToken: input('github-token').trim(),
    drift,
    driftIssue,
  }
}

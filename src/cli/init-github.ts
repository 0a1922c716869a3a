// init's GitHub part: the secrets the workflows read, sealed and stored through the API, in the
// production environment unless asked otherwise. The token and the target are checked before
// init changes anything locally.
import { GitHubError, SecretsClient, apiBase, describeTarget, parseSecretsTarget, readToken, type SecretsTarget } from './github-secrets.ts'
import { PRODUCTION_ENVIRONMENT, missingProtection, parseProtection } from '../core/github-environment.ts'
import { UsageError } from './command.ts'
import { checkDeployKey, checkKnownHosts } from './init-files.ts'

/** Secret names; .github/workflows/*.yml read the same names. */
export const SECRET_NAMES = {
  vaultKey: 'ANSIBLE_VAULT_KEY',
  deployKey: 'SSH_PRIVATE_KEY',
  knownHosts: 'SSH_KNOWN_HOSTS',
} as const

/** deploy.yml's environment: limited to main, so no other branch's code reads its secrets. */
export const DEFAULT_ENVIRONMENT = PRODUCTION_ENVIRONMENT

export interface GitHubPlan {
  client: SecretsClient
  target: SecretsTarget
  deployKey?: string
  knownHosts?: string
}

export interface GitHubRequest {
  github: string
  environment?: string
  deployKey?: string
  knownHosts?: string
  tokenFile?: string
  /** Store into an environment whose rules do not protect the credentials (a warning instead of a refusal). */
  allowUnprotected?: boolean
}

/**
 * Reads the token and the files, checks that the environment protects what is stored in it, and asks
 * GitHub for the target's public key: all before any change. `warn` says what --allow-unprotected let through.
 */
export async function prepareGitHub(o: GitHubRequest, env: NodeJS.ProcessEnv, warn: (line: string) => void = () => {}): Promise<GitHubPlan> {
  const target = parseSecretsTarget(o.github, o.environment)
  let token: string
  try {
    token = readToken(o.tokenFile, env)
  } catch (e) {
    throw new UsageError((e as Error).message)
  }
  const deployKey = o.deployKey === undefined ? undefined : checkDeployKey(o.deployKey)
  const knownHosts = o.knownHosts === undefined ? undefined : checkKnownHosts(o.knownHosts)
  const client = new SecretsClient({ token, target, apiUrl: apiBase(env) })
  if (target.environment !== undefined) {
    const missing = missingProtection(target.environment, parseProtection(await client.environment()))
    const where = describeTarget(target)
    if (missing && !o.allowUnprotected) {
      throw new GitHubError(`refusing to store credentials in ${where}: it has ${missing}, so any branch's workflow could read them; add that under Settings → Environments → ${target.environment}, or pass --allow-unprotected`)
    }
    if (missing) warn(`github: warning: ${where} has ${missing}; storing anyway (--allow-unprotected)`)
  }
  await client.publicKey()
  return { client, target, deployKey, knownHosts }
}

/** Stores vault.key (and the deploy key, known_hosts if given); `hint` ends a failure's message. */
export async function storeSecrets(gh: GitHubPlan, vaultKey: string, out: (line: string) => void, hint = ''): Promise<void> {
  const secrets: [string, string][] = [[SECRET_NAMES.vaultKey, vaultKey]]
  if (gh.deployKey !== undefined) secrets.push([SECRET_NAMES.deployKey, gh.deployKey])
  if (gh.knownHosts !== undefined) secrets.push([SECRET_NAMES.knownHosts, gh.knownHosts])
  for (const [name, value] of secrets) {
    try {
      const how = await gh.client.put(name, value)
      out(`github: ${name} ${how} in ${describeTarget(gh.target)}`)
    } catch (e) {
      throw new GitHubError(`${(e as Error).message}${hint}`)
    }
  }
}

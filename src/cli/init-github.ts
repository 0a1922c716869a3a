// init's GitHub part: the secrets the workflows read, sealed and stored through the API, in the
// production environment unless asked otherwise. The token and the target are checked before
// init changes anything locally.
import { GitHubError, SecretsClient, apiBase, describeTarget, parseSecretsTarget, readToken, type SecretsTarget } from './github-secrets.ts'
import { UsageError } from './command.ts'
import { checkDeployKey, checkKnownHosts } from './init-files.ts'

/** Secret names; .github/workflows/*.yml read the same names. */
export const SECRET_NAMES = {
  vaultKey: 'ANSIBLE_VAULT_KEY',
  deployKey: 'SSH_PRIVATE_KEY',
  knownHosts: 'SSH_KNOWN_HOSTS',
} as const

/** deploy.yml's environment: limited to main, so no other branch's code reads its secrets. */
export const DEFAULT_ENVIRONMENT = 'production'

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
}

/** Reads the token and the files, and asks GitHub for the target's public key: all before any change. */
export async function prepareGitHub(o: GitHubRequest, env: NodeJS.ProcessEnv): Promise<GitHubPlan> {
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

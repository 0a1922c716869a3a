// GitHub Actions secrets through the REST API: fetch the repository's (or environment's) public key,
// seal the value with libsodium's crypto_box_seal, PUT it. The value never leaves this process in
// clear, and no error message quotes it or the token.
import { readFileSync } from 'node:fs'
import sodium from 'libsodium-wrappers'

export const DEFAULT_API_URL = 'https://api.github.com'

export interface SecretsTarget {
  owner: string
  repo: string
  /** A GitHub environment (e.g. `production`): its secrets instead of the repository's. */
  environment?: string
}

export interface PublicKey {
  key_id: string
  /** Base64 of a Curve25519 public key (32 bytes). */
  key: string
}

export class GitHubError extends Error {
  override name = 'GitHubError'
  constructor(message: string, readonly status?: number) {
    super(message)
  }
}

const OWNER = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$/
const REPO = /^[A-Za-z0-9._-]{1,100}$/
const SECRET_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/

/** `owner/repo` → target; throws on anything else. */
export function parseSecretsTarget(spec: string, environment?: string): SecretsTarget {
  const m = /^([^/\s]+)\/([^/\s]+)$/.exec(spec.trim())
  if (!m || !OWNER.test(m[1]!) || !REPO.test(m[2]!) || m[2] === '.' || m[2] === '..') {
    throw new GitHubError(`"${spec}" is not a repository: expected OWNER/REPO, e.g. my-org/my-site`)
  }
  if (environment !== undefined && (environment.trim() === '' || /[/\p{Cc}]/u.test(environment) || environment.length > 255)) {
    throw new GitHubError(`"${environment}" is not an environment name (1-255 characters, no slash)`)
  }
  return { owner: m[1]!, repo: m[2]!, environment }
}

/** Checks a secret name as GitHub does: letters, digits, underscores, not GITHUB_*, no leading digit. */
export function checkSecretName(name: string): void {
  if (!SECRET_NAME.test(name) || /^GITHUB_/i.test(name)) {
    throw new GitHubError(`"${name}" is not a valid secret name (letters, digits, _; not starting with a digit or GITHUB_)`)
  }
}

/** API base from GITHUB_API_URL (GitHub Enterprise, or a local server in tests). */
export function apiBase(env: NodeJS.ProcessEnv = process.env): string {
  const raw = env.GITHUB_API_URL?.trim() || DEFAULT_API_URL
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    throw new GitHubError(`GITHUB_API_URL "${raw}" is not a URL`)
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new GitHubError(`GITHUB_API_URL "${raw}": use http(s)`)
  return url.href.replace(/\/+$/, '')
}

/** The secrets collection's path for a target: /repos/O/R/actions/secrets or /repos/O/R/environments/E/secrets. */
export function secretsPath(t: SecretsTarget): string {
  const repo = `/repos/${encodeURIComponent(t.owner)}/${encodeURIComponent(t.repo)}`
  return t.environment === undefined
    ? `${repo}/actions/secrets`
    : `${repo}/environments/${encodeURIComponent(t.environment)}/secrets`
}

export function describeTarget(t: SecretsTarget): string {
  return t.environment === undefined ? `${t.owner}/${t.repo}` : `${t.owner}/${t.repo} (environment ${t.environment})`
}

/** One clear line for a failed API call. `apiMessage` is GitHub's own `message` field, if any. */
export function httpErrorMessage(status: number, t: SecretsTarget, what: string, apiMessage?: string): string {
  const where = describeTarget(t)
  const detail = apiMessage ? ` (GitHub says: ${apiMessage.split('\n')[0]!.slice(0, 200)})` : ''
  switch (status) {
    case 401:
      return `GitHub rejected the token (401) while trying to ${what}: it is wrong or expired; set GITHUB_TOKEN or --token-file to a valid token${detail}`
    case 403:
      return `the token may not manage the secrets of ${where} (403) while trying to ${what}: it needs the ${t.environment === undefined ? '"Secrets"' : '"Secrets" and "Environments"'} read/write permission (fine-grained) or the "repo" scope (classic)${detail}`
    case 404:
      return t.environment === undefined
        ? `${where} not found (404) while trying to ${what}: check OWNER/REPO, and that the token can see this repository${detail}`
        : `${where} not found (404) while trying to ${what}: create the environment under Settings → Environments, and check that the token can see the repository${detail}`
    case 422:
      return `GitHub refused the request (422) while trying to ${what} in ${where}${detail}`
    default:
      return `GitHub answered ${status} while trying to ${what} in ${where}${detail}`
  }
}

/** Reads the token from `--token-file` (if given) or GITHUB_TOKEN. Never echoes it. */
export function readToken(tokenFile: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  if (tokenFile !== undefined) {
    let text: string
    try {
      text = readFileSync(tokenFile, 'utf8')
    } catch (e) {
      throw new GitHubError(`cannot read the token file ${tokenFile}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`)
    }
    const token = text.trim()
    if (!token) throw new GitHubError(`the token file ${tokenFile} is empty`)
    if (/\s/.test(token)) throw new GitHubError(`the token file ${tokenFile} holds more than one word: put only the token in it`)
    return token
  }
  const token = env.GITHUB_TOKEN?.trim()
  if (!token) throw new GitHubError('no GitHub token: set GITHUB_TOKEN or pass --token-file FILE')
  return token
}

/** Seals `value` for the holder of `publicKeyB64`'s private key (crypto_box_seal), base64 as GitHub wants. */
export async function sealSecret(value: string, publicKeyB64: string): Promise<string> {
  await sodium.ready
  let key: Uint8Array
  try {
    key = sodium.from_base64(publicKeyB64, sodium.base64_variants.ORIGINAL)
  } catch {
    throw new GitHubError('the public key GitHub returned is not base64')
  }
  if (key.length !== sodium.crypto_box_PUBLICKEYBYTES) throw new GitHubError(`the public key GitHub returned has ${key.length} bytes, not ${sodium.crypto_box_PUBLICKEYBYTES}`)
  const sealed = sodium.crypto_box_seal(sodium.from_string(value), key)
  return sodium.to_base64(sealed, sodium.base64_variants.ORIGINAL)
}

export interface SecretsClientOptions {
  token: string
  target: SecretsTarget
  apiUrl?: string
  fetch?: typeof fetch
  timeoutMs?: number
}

/** Repository or environment secrets of one target. */
export class SecretsClient {
  private readonly base: string
  private readonly doFetch: typeof fetch
  private publicKeyCache?: PublicKey

  constructor(private readonly opts: SecretsClientOptions) {
    this.base = (opts.apiUrl ?? apiBase()).replace(/\/+$/, '')
    this.doFetch = opts.fetch ?? fetch
  }

  private async request(method: 'GET' | 'PUT', path: string, what: string, body?: unknown): Promise<Response> {
    let res: Response
    try {
      res = await this.doFetch(this.base + path, {
        method,
        headers: {
          Accept: 'application/vnd.github+json',
          Authorization: `Bearer ${this.opts.token}`,
          'X-GitHub-Api-Version': '2022-11-28',
          'User-Agent': 'django-ansible-deploy',
          ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(this.opts.timeoutMs ?? 30_000),
        redirect: 'error',
      })
    } catch (e) {
      const cause = (e as { cause?: { code?: string } }).cause?.code ?? (e as Error).message
      throw new GitHubError(`cannot reach ${this.base} to ${what}: ${cause}`)
    }
    if (!res.ok) {
      let apiMessage: string | undefined
      try {
        apiMessage = ((await res.json()) as { message?: string }).message
      } catch {
        // no JSON body
      }
      throw new GitHubError(httpErrorMessage(res.status, this.opts.target, what, apiMessage), res.status)
    }
    return res
  }

  /** The public key secrets must be sealed with (fetched once). */
  async publicKey(): Promise<PublicKey> {
    if (this.publicKeyCache) return this.publicKeyCache
    const res = await this.request('GET', `${secretsPath(this.opts.target)}/public-key`, 'fetch the secrets public key')
    const body = (await res.json().catch(() => ({}))) as Partial<PublicKey>
    if (typeof body.key_id !== 'string' || typeof body.key !== 'string') {
      throw new GitHubError(`${this.base} returned no public key (key_id, key) for ${describeTarget(this.opts.target)}`)
    }
    this.publicKeyCache = { key_id: body.key_id, key: body.key }
    return this.publicKeyCache
  }

  /** The environment itself (GET /repos/O/R/environments/E): its protection rules. */
  async environment(): Promise<unknown> {
    const t = this.opts.target
    if (t.environment === undefined) throw new GitHubError('no environment to read: the target is the repository')
    const path = `/repos/${encodeURIComponent(t.owner)}/${encodeURIComponent(t.repo)}/environments/${encodeURIComponent(t.environment)}`
    const res = await this.request('GET', path, 'read the environment\'s protection rules')
    return res.json().catch(() => ({}))
  }

  /** Creates or updates a secret. Resolves to 'created' (201) or 'updated' (204). */
  async put(name: string, value: string): Promise<'created' | 'updated'> {
    checkSecretName(name)
    if (value === '') throw new GitHubError(`refusing to store an empty ${name}`)
    const pk = await this.publicKey()
    const encrypted_value = await sealSecret(value, pk.key)
    const res = await this.request('PUT', `${secretsPath(this.opts.target)}/${encodeURIComponent(name)}`, `store ${name}`, {
      encrypted_value,
      key_id: pk.key_id,
    })
    return res.status === 201 ? 'created' : 'updated'
  }
}

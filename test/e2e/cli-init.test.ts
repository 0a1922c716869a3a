// `django-deploy init` end to end, without test servers: the real ansible-vault on a scratch copy
// of the repository, and a local HTTP server implementing GitHub's secrets endpoints that opens
// each sealed box with the private key matching the public key it handed out.
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn, spawnSync } from 'node:child_process'
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { createServer, type IncomingMessage, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import sodium from 'libsodium-wrappers'
import { parse } from 'yaml'
import { rotateKey, encryptToFile, writeKeyFile, generateVaultKey } from '../../src/core/vault.ts'

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..')
const TOKEN = 'ghp_localtesttoken0123456789'

interface Stored {
  path: string
  value: string
  auth: string | undefined
  apiVersion: string | undefined
}

/**
 * GitHub's secrets API for o/site (repository, environments `production` and `preview`) and the
 * environments' protection rules, nothing else. production is limited to selected branches; preview
 * starts as GitHub creates it when a workflow first names it: without any rule.
 */
class FakeGitHub {
  server!: Server
  url = ''
  stored: Stored[] = []
  requests: string[] = []
  environments: Record<string, { protection_rules: unknown[]; deployment_branch_policy: unknown }> = {
    production: { protection_rules: [{ id: 1, type: 'branch_policy' }], deployment_branch_policy: { protected_branches: false, custom_branch_policies: true } },
    preview: { protection_rules: [], deployment_branch_policy: null },
  }
  private keys = new Map<string, { id: string; publicKey: Uint8Array; privateKey: Uint8Array }>()

  async start(): Promise<void> {
    await sodium.ready
    for (const scope of ['/repos/o/site/actions/secrets', ...Object.keys(this.environments).map((e) => `/repos/o/site/environments/${e}/secrets`)]) {
      const kp = sodium.crypto_box_keypair()
      this.keys.set(scope, { id: `kid-${this.keys.size + 1}`, publicKey: kp.publicKey, privateKey: kp.privateKey })
    }
    this.server = createServer((req, res) => {
      this.handle(req).then(
        ([status, body]) => {
          res.writeHead(status, { 'Content-Type': 'application/json' })
          res.end(body === undefined ? '' : JSON.stringify(body))
        },
        (e: Error) => {
          res.writeHead(500)
          res.end(JSON.stringify({ message: e.message }))
        },
      )
    })
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r))
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`
  }

  private async handle(req: IncomingMessage): Promise<[number, unknown?]> {
    const chunks: Buffer[] = []
    for await (const c of req) chunks.push(c as Buffer)
    this.requests.push(`${req.method} ${req.url}`)
    if (req.headers.authorization !== `Bearer ${TOKEN}`) return [401, { message: 'Bad credentials' }]
    const env = /^\/repos\/o\/site\/environments\/([^/]+)$/.exec(req.url ?? '')
    if (req.method === 'GET' && env) {
      const found = this.environments[decodeURIComponent(env[1]!)]
      return found ? [200, { name: decodeURIComponent(env[1]!), ...found }] : [404, { message: 'Not Found' }]
    }
    const m = /^(\/repos\/[^/]+\/[^/]+\/(?:actions|environments\/[^/]+)\/secrets)\/([^/]+)$/.exec(req.url ?? '')
    const scope = m && this.keys.get(m[1]!)
    if (!m || !scope) return [404, { message: 'Not Found' }]
    if (req.method === 'GET' && m[2] === 'public-key') {
      return [200, { key_id: scope.id, key: sodium.to_base64(scope.publicKey, sodium.base64_variants.ORIGINAL) }]
    }
    if (req.method === 'PUT') {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { encrypted_value: string; key_id: string }
      if (body.key_id !== scope.id) return [422, { message: 'key_id does not match' }]
      const sealed = sodium.from_base64(body.encrypted_value, sodium.base64_variants.ORIGINAL)
      const value = sodium.to_string(sodium.crypto_box_seal_open(sealed, scope.publicKey, scope.privateKey))
      const existed = this.stored.some((s) => s.path === req.url)
      this.stored.push({ path: req.url!, value, auth: req.headers.authorization, apiVersion: req.headers['x-github-api-version'] as string })
      return [existed ? 204 : 201]
    }
    return [404, { message: 'Not Found' }]
  }

  /** The last value stored under a secret path, opened with the private key. */
  secret(path: string): string | undefined {
    return this.stored.filter((s) => s.path === path).at(-1)?.value
  }

  stop(): Promise<void> {
    return new Promise((r) => this.server.close(() => r()))
  }
}

interface CliResult {
  code: number
  stdout: string
  stderr: string
}

/** Runs `init` in a child process, as the dispatcher would (UsageError → one line, exit 2). */
function init(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  const script = `
    import { command } from ${JSON.stringify(join(repoRoot, 'src/cli/init.ts'))}
    import { UsageError } from ${JSON.stringify(join(repoRoot, 'src/cli/command.ts'))}
    try { process.exitCode = await command.run(process.argv.slice(1)) }
    catch (e) { if (e instanceof UsageError) { console.error('django-deploy init: ' + e.message); process.exitCode = 2 } else throw e }`
  return new Promise((res, rej) => {
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script, '--', ...args], {
      cwd: repoRoot,
      env: { ...process.env, GITHUB_TOKEN: '', GITHUB_API_URL: '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()))
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()))
    child.on('error', rej)
    child.on('close', (code) => res({ code: code ?? 1, stdout, stderr }))
  })
}

/** Decrypts with the real ansible-vault; undefined when the key does not open the file. */
function openVault(file: string, keyFile: string): Record<string, unknown> | undefined {
  const r = spawnSync('ansible-vault', ['decrypt', '--output', '-', file], {
    encoding: 'utf8',
    env: { ...process.env, ANSIBLE_VAULT_PASSWORD_FILE: keyFile },
  })
  return r.status === 0 ? (parse(r.stdout) as Record<string, unknown>) : undefined
}

/** Every file under dir (recursively) with its bytes. */
function snapshot(dir: string): Map<string, string> {
  const out = new Map<string, string>()
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name)
      if (e.isDirectory()) walk(p)
      else out.set(p, readFileSync(p, 'latin1'))
    }
  }
  walk(dir)
  return out
}

/** A scratch repository: ansible.cfg, the production inventory's vault example, an empty group_vars/all. */
function scratchRepo(parent: string, name: string): string {
  const dir = join(parent, name)
  mkdirSync(join(dir, 'inventories/production/group_vars/all'), { recursive: true })
  copyFileSync(join(repoRoot, 'ansible.cfg'), join(dir, 'ansible.cfg'))
  copyFileSync(join(repoRoot, 'inventories/vault.example.yml'), join(dir, 'inventories/vault.example.yml'))
  return dir
}

describe('django-deploy init', () => {
  const gh = new FakeGitHub()
  let work: string
  let repo: string
  let deployKey: string
  let knownHosts: string
  const vaultFile = () => join(repo, 'inventories/production/group_vars/all/vault.yml')
  const keyFile = () => join(repo, 'vault.key')
  const stagingVault = () => join(repo, 'inventories/staging/group_vars/all/vault.yml')
  const api = () => ({ GITHUB_API_URL: gh.url, GITHUB_TOKEN: TOKEN })

  before(async () => {
    await gh.start()
    work = mkdtempSync(join(tmpdir(), 'cli-init-'))
    repo = scratchRepo(work, 'repo')
    deployKey = join(work, 'deploy_ed25519')
    spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'deploy', '-f', deployKey])
    knownHosts = join(work, 'known_hosts')
    writeFileSync(knownHosts, '[203.0.113.10]:2222 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIExampleHostKeyExampleHostKeyExampleHostKe\n')
  })

  after(async () => {
    await gh.stop()
    rmSync(work, { recursive: true, force: true })
  })

  test('a first run makes a 0600 key, a vault that opens with it, and production environment secrets that decrypt to it', async () => {
    const r = await init([
      '--root', repo, '--no-input', '--set', 'vault_rollbar_token=rb-token-123',
      '--github', 'o/site', '--deploy-key', deployKey, '--known-hosts', knownHosts,
    ], api())
    assert.equal(r.code, 0, r.stderr)
    assert.equal(statSync(keyFile()).mode & 0o777, 0o600)
    const key = readFileSync(keyFile(), 'utf8').trim()
    assert.match(key, /^[0-9a-f]{64}$/)

    const values = openVault(vaultFile(), keyFile())
    assert.ok(values, 'the vault opens with vault.key')
    const example = parse(readFileSync(join(repo, 'inventories/vault.example.yml'), 'utf8')) as Record<string, unknown>
    assert.deepEqual(Object.keys(values).sort(), Object.keys(example).sort())
    assert.equal(String(values.vault_django_secret_key).length, 50)
    assert.match(String(values.vault_database_password), /^[A-Za-z0-9]{32}$/)
    assert.match(String(values.vault_admin_sudo_password), /^[A-Za-z0-9]{20}$/)
    assert.equal(values.vault_rollbar_token, 'rb-token-123')
    assert.equal(values.vault_mailgun_api_key, '')

    assert.equal(gh.secret('/repos/o/site/environments/production/secrets/ANSIBLE_VAULT_KEY'), key)
    assert.equal(gh.secret('/repos/o/site/environments/production/secrets/SSH_PRIVATE_KEY'), readFileSync(deployKey, 'utf8'))
    assert.equal(gh.secret('/repos/o/site/environments/production/secrets/SSH_KNOWN_HOSTS'), readFileSync(knownHosts, 'utf8'))
    assert.ok(gh.stored.every((s) => s.auth === `Bearer ${TOKEN}` && s.apiVersion === '2022-11-28'))

    // No secret in clear: not on disk outside vault.key, not in the output.
    const secrets = [String(values.vault_django_secret_key), String(values.vault_database_password), String(values.vault_admin_sudo_password), 'rb-token-123']
    for (const [file, bytes] of snapshot(repo)) {
      if (file === keyFile()) continue
      for (const s of [...secrets, key]) assert.ok(!bytes.includes(s), `${file} holds a secret in clear`)
    }
    for (const s of [...secrets, key, TOKEN]) assert.ok(!(r.stdout + r.stderr).includes(s), 'the output quotes a secret')
  })

  test('a second run keeps the key and the vault, and says so', async () => {
    const before = snapshot(repo)
    const r = await init(['--root', repo, '--no-input'])
    assert.equal(r.code, 0, r.stderr)
    assert.match(r.stdout, /unchanged/)
    assert.deepEqual(snapshot(repo), before)
  })

  test('--set and --set-file on an existing vault change those values only', async () => {
    const old = openVault(vaultFile(), keyFile())!
    const multiLine = '-----BEGIN SOMETHING-----\nline: two # not a comment\n-----END SOMETHING-----\n'
    const file = join(work, 'multi-line-value')
    writeFileSync(file, multiLine)
    const r = await init(['--root', repo, '--set', 'vault_mailgun_domain=mg.example.com', '--set-file', `vault_backup_s3_secret_key=${file}`])
    assert.equal(r.code, 0, r.stderr)
    const now = openVault(vaultFile(), keyFile())!
    assert.deepEqual(now, { ...old, vault_mailgun_domain: 'mg.example.com', vault_backup_s3_secret_key: multiLine })
  })

  test('a second inventory gets its own vault, encrypted with the same key', async () => {
    mkdirSync(join(repo, 'inventories/staging/group_vars/all'), { recursive: true })
    const key = readFileSync(keyFile(), 'utf8')
    const r = await init(['--root', repo, '--no-input', '--inventory', 'inventories/staging'])
    assert.equal(r.code, 0, r.stderr)
    assert.match(r.stdout, /vault\.key: kept/)
    assert.equal(readFileSync(keyFile(), 'utf8'), key)
    const staging = openVault(stagingVault(), keyFile())!
    assert.equal(String(staging.vault_django_secret_key).length, 50)
    assert.notEqual(staging.vault_django_secret_key, openVault(vaultFile(), keyFile())!.vault_django_secret_key)
  })

  test('--rotate re-encrypts the vault: it opens with the new key, not the old; the environment secret is the new key', async () => {
    const oldKey = join(work, 'old.key')
    copyFileSync(keyFile(), oldKey)
    const valuesBefore = openVault(vaultFile(), keyFile())
    const stagingBefore = openVault(stagingVault(), keyFile())
    const r = await init(['--root', repo, '--rotate', '--github', 'o/site', '--environment', 'production'], api())
    assert.equal(r.code, 0, r.stderr)
    const newKey = readFileSync(keyFile(), 'utf8').trim()
    assert.notEqual(newKey, readFileSync(oldKey, 'utf8').trim())
    assert.equal(statSync(keyFile()).mode & 0o777, 0o600)
    assert.deepEqual(openVault(vaultFile(), keyFile()), valuesBefore)
    assert.equal(openVault(vaultFile(), oldKey), undefined, 'the old key no longer opens the vault')
    assert.deepEqual(openVault(stagingVault(), keyFile()), stagingBefore, 'every vault of the repository is rotated')
    assert.equal(openVault(stagingVault(), oldKey), undefined)
    assert.equal(gh.secret('/repos/o/site/environments/production/secrets/ANSIBLE_VAULT_KEY'), newKey)
    assert.deepEqual(readdirSync(repo).filter((f) => f.startsWith('.')), [], 'no temporary file left')
  })

  test('--repository-secrets stores vault.key at repository level, the vault untouched', async () => {
    const before = snapshot(repo)
    const r = await init(['--root', repo, '--no-input', '--github', 'o/site', '--repository-secrets'], api())
    assert.equal(r.code, 0, r.stderr)
    assert.match(r.stdout, /ANSIBLE_VAULT_KEY \w+ in o\/site\n/)
    assert.equal(gh.secret('/repos/o/site/actions/secrets/ANSIBLE_VAULT_KEY'), readFileSync(keyFile(), 'utf8').trim())
    assert.deepEqual(snapshot(repo), before)
  })

  test('a rotation that fails half-way changes nothing', async () => {
    const dir = mkdtempSync(join(work, 'atomic-'))
    const key = join(dir, 'vault.key')
    writeKeyFile(key, generateVaultKey())
    const good = join(dir, 'a.yml')
    await encryptToFile(key, 'x: 1\n', good)
    const bad = join(dir, 'b.yml')
    writeFileSync(bad, '$ANSIBLE_VAULT;1.1;AES256\n6162636465\n') // a vault header on garbage
    const before = snapshot(dir)
    await assert.rejects(rotateKey(key, [good, bad], generateVaultKey()), /could not rekey .*b\.yml/)
    assert.deepEqual(snapshot(dir), before)
    assert.deepEqual(openVault(good, key), { x: 1 })
  })

  test('refuses a rotation when no key exists, and a vault without its key', async () => {
    const fresh = scratchRepo(work, 'fresh')
    const r1 = await init(['--root', fresh, '--rotate'])
    assert.equal(r1.code, 2)
    assert.match(r1.stderr, /nothing to rotate/)
    copyFileSync(vaultFile(), join(fresh, 'inventories/production/group_vars/all/vault.yml'))
    const r2 = await init(['--root', fresh, '--no-input'])
    assert.equal(r2.code, 2)
    assert.match(r2.stderr, /vault\.key is missing/)
    assert.equal(existsSync(join(fresh, 'vault.key')), false)
  })

  test('on a terminal it asks for the other values, without echoing the secret ones', async (t) => {
    if (spawnSync('script', ['--version']).status !== 0) return t.skip('script(1) (util-linux) is not installed')
    const fresh = scratchRepo(work, 'tty')
    const runner = join(work, 'run-init.mts')
    writeFileSync(runner, `import { command } from ${JSON.stringify(join(repoRoot, 'src/cli/init.ts'))}\nprocess.exitCode = await command.run(process.argv.slice(2))\n`)
    const answers: Record<string, string> = {
      vault_mailgun_api_key: 'mg-typed-2',
      vault_mailgun_domain: 'mg.example.com',
      vault_rollbar_token: 'rb-typed-3',
      vault_backup_age_identity: 'AGE-SECRET-KEY-1TYPED4',
    }
    // script(1) gives the command a pseudo-terminal; each answer is typed once its prompt shows.
    const child = spawn('script', ['-qfec', `${process.execPath} --import tsx ${runner} --root ${fresh}`, '/dev/null'], {
      cwd: repoRoot,
      stdio: ['pipe', 'pipe', 'pipe'],
    })
    let out = ''
    let asked = 0
    child.stdout.on('data', (b: Buffer) => {
      out += b.toString()
      const prompts = [...out.matchAll(/(vault_\w+) \(Enter to leave empty\): /g)]
      while (asked < prompts.length) child.stdin.write(`${answers[prompts[asked++]![1]!] ?? ''}\r`)
    })
    const code = await new Promise<number | null>((r) => child.on('close', r))
    child.stdin.destroy()
    assert.equal(code, 0, out)
    // The example vault's values that init neither generates nor is given (the mail, backup, media and Rollbar ones).
    assert.equal(asked, 10, 'every value neither generated nor given is asked for')
    const values = openVault(join(fresh, 'inventories/production/group_vars/all/vault.yml'), join(fresh, 'vault.key'))!
    for (const [k, v] of Object.entries(answers)) assert.equal(values[k], v)
    assert.equal(values.vault_backup_s3_bucket, '')
    assert.match(String(values.vault_admin_sudo_password), /^[A-Za-z0-9]{20}$/)
    for (const secret of ['mg-typed-2', 'rb-typed-3', 'AGE-SECRET-KEY-1TYPED4']) assert.ok(!out.includes(secret), `${secret} was echoed`)
    assert.ok(out.includes('mg.example.com'), 'a value that is not secret is echoed as typed')
  })

  test('an environment without protection rules is refused, nothing stored; --allow-unprotected stores with a warning', async () => {
    const fresh = scratchRepo(work, 'unprotected')
    const preview = '/repos/o/site/environments/preview/secrets/ANSIBLE_VAULT_KEY'
    const refused = await init(['--root', fresh, '--no-input', '--github', 'o/site', '--environment', 'preview', '--deploy-key', deployKey], api())
    assert.equal(refused.code, 1, refused.stderr)
    assert.match(refused.stderr, /^django-deploy init: refusing to store credentials in o\/site \(environment preview\): it has no required reviewers, .*Settings → Environments → preview, or pass --allow-unprotected\n$/)
    assert.equal(gh.secret(preview), undefined)
    assert.equal(existsSync(join(fresh, 'vault.key')), false, 'vault.key was written before the refusal')
    assert.ok(gh.requests.includes('GET /repos/o/site/environments/preview'))
    const allowed = await init(['--root', fresh, '--no-input', '--github', 'o/site', '--environment', 'preview', '--allow-unprotected'], api())
    assert.equal(allowed.code, 0, allowed.stderr)
    assert.match(allowed.stdout, /^github: warning: o\/site \(environment preview\) has no required reviewers; storing anyway \(--allow-unprotected\)$/m)
    assert.equal(gh.secret(preview), readFileSync(join(fresh, 'vault.key'), 'utf8').trim())
    // Once a reviewer is required, preview takes the secrets without the flag or a warning.
    gh.environments.preview!.protection_rules = [{ id: 2, type: 'required_reviewers', reviewers: [{ type: 'User', reviewer: { login: 'alice' } }] }]
    const protectedRun = await init(['--root', fresh, '--no-input', '--github', 'o/site', '--environment', 'preview'], api())
    assert.equal(protectedRun.code, 0, protectedRun.stderr)
    assert.doesNotMatch(protectedRun.stdout, /warning/)
    // production without its branch policy is refused the same way.
    const policy = gh.environments.production!.deployment_branch_policy
    gh.environments.production!.deployment_branch_policy = null
    try {
      const r = await init(['--root', fresh, '--no-input', '--github', 'o/site'], api())
      assert.equal(r.code, 1)
      assert.match(r.stderr, /refusing to store credentials in o\/site \(environment production\): it has no deployment branch policy/)
    } finally {
      gh.environments.production!.deployment_branch_policy = policy
    }
  })

  test('GitHub errors are one line, and checked before anything is written', async () => {
    const cases: [string[], Record<string, string>, RegExp][] = [
      [['--github', 'o/site'], { ...api(), GITHUB_TOKEN: 'ghp_notthetoken42' }, /rejected the token \(401\)/],
      [['--github', 'o/other', '--repository-secrets'], api(), /o\/other not found \(404\)/],
      [['--github', 'o/site', '--environment', 'staging'], api(), /environment staging\) not found \(404\).*Settings → Environments/],
      [['--github', 'o/site'], { GITHUB_API_URL: gh.url }, /no GitHub token/],
    ]
    for (const [args, env, expected] of cases) {
      const fresh = scratchRepo(work, `gh-${Math.random().toString(36).slice(2)}`)
      const r = await init(['--root', fresh, '--no-input', ...args], env)
      assert.notEqual(r.code, 0)
      assert.match(r.stderr, expected)
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr)
      assert.ok(!r.stderr.includes('ghp_notthetoken42') && !r.stderr.includes(TOKEN), 'the token is not quoted')
      assert.equal(existsSync(join(fresh, 'vault.key')), false)
      assert.equal(existsSync(join(fresh, 'inventories/production/group_vars/all/vault.yml')), false)
    }
  })
})

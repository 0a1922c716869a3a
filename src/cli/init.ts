// `django-deploy init`: first-run setup. A random vault.key, the inventory's vault (generated and
// asked values), key rotation, and the GitHub secrets the workflows read.
import { existsSync, mkdirSync, readFileSync, rmSync, statSync } from 'node:fs'
import { dirname, isAbsolute, join, relative, resolve } from 'node:path'
import { createInterface } from 'node:readline'
import { Writable } from 'node:stream'
import { spawnSync } from 'node:child_process'
import { parse, stringify } from 'yaml'
import { parse as parseOptions } from './args.ts'
import { UsageError, type Command } from './command.ts'
import {
  VaultError, decryptFile, encryptToFile, findVaultFiles, generateDjangoSecretKey, generatePassword, generateVaultKey,
  isVaultText, opensWith, readKeyFile, rotateKey, writeKeyFile,
} from '../core/vault.ts'
import { GitHubError, SecretsClient, apiBase, describeTarget, parseRepo, readToken, type SecretsTarget } from '../core/github-secrets.ts'

/** Secret names; .github/workflows/*.yml read the same names. */
export const SECRET_NAMES = {
  vaultKey: 'ANSIBLE_VAULT_KEY',
  deployKey: 'SSH_PRIVATE_KEY',
  knownHosts: 'SSH_KNOWN_HOSTS',
} as const

/** Vault values generated when the vault is created (unless given). */
export const GENERATED: Record<string, () => string> = {
  vault_django_secret_key: generateDjangoSecretKey,
  vault_database_password: () => generatePassword(32),
  // The admins' sudo password (bootstrap wants 8+ characters): read it with `ansible-vault view`.
  vault_admin_sudo_password: () => generatePassword(20),
}

/** Multi-line vault values a one-line prompt cannot take: given with --set-file KEY=FILE, or left empty. */
export const FILE_ONLY: Record<string, string> = {
  vault_git_deploy_key: 'the SSH private key the server clones the app with (backend_code_source: git)',
}

const KEY_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/

export interface InitOptions {
  root: string
  inventory: string
  sets: Map<string, string>
  /** --set-file KEY=FILE: values read from files (multi-line ones: SSH keys, certificates). */
  setFiles: Map<string, string>
  fromEnv: boolean
  noInput: boolean
  rotate: boolean
  github?: string
  environment?: string
  deployKey?: string
  knownHosts?: string
  tokenFile?: string
}

const usage = `Usage: django-deploy init [options]

First-run setup, run from the repository root:
  1. vault.key: a new random key (mode 0600, git-ignored); an existing one is kept (see --rotate);
  2. INVENTORY/group_vars/all/vault.yml, if absent: the keys of inventories/vault.example.yml, with
     vault_django_secret_key, vault_database_password and vault_admin_sudo_password generated
     (read them with ansible-vault view), the others asked for
     (Enter leaves one empty: Mailgun, S3 backups, Rollbar are optional), encrypted with vault.key;
     an existing vault is left as is, or updated with --set / --from-env;
  3. with --github: vault.key stored as the GitHub secret ${SECRET_NAMES.vaultKey} (and --deploy-key as
     ${SECRET_NAMES.deployKey}, --known-hosts as ${SECRET_NAMES.knownHosts}), the names the workflows read.

Options:
  --inventory DIR       inventory whose vault to create or update (default: inventories/production)
  --set KEY=VALUE       a vault value, e.g. --set vault_mailgun_domain=mg.example.com (repeatable)
  --set-file KEY=FILE   a vault value read from a file, e.g. --set-file vault_git_deploy_key=git_key
  --from-env            vault values from environment variables named after the keys in capitals
                        (VAULT_MAILGUN_API_KEY=... for vault_mailgun_api_key)
  --no-input            never prompt (also the case without a terminal): values not given are
                        generated or left empty
  --rotate              replace vault.key by a new key and re-encrypt every vault in the repository
                        with it (all or nothing); commit the re-encrypted files
  --github OWNER/REPO   store the secrets in this GitHub repository (token: GITHUB_TOKEN or --token-file;
                        API: GITHUB_API_URL, default ${'https://api.github.com'})
  --environment NAME    store them as secrets of this GitHub environment (e.g. production) instead
  --deploy-key FILE     also store this SSH private key (no passphrase) as ${SECRET_NAMES.deployKey}
  --known-hosts FILE    also store this known_hosts file as ${SECRET_NAMES.knownHosts}
  --token-file FILE     read the GitHub token from FILE instead of GITHUB_TOKEN
  --root DIR            the repository (default: the current directory)
  -h, --help            this help

Examples:
  django-deploy init
  django-deploy init --no-input --set vault_rollbar_token=abc123
  GITHUB_TOKEN=... django-deploy init --github my-org/my-site --environment production --deploy-key ~/.ssh/deploy_ed25519
  django-deploy init --rotate --github my-org/my-site`

/** Parses argv into options; bad input is a UsageError (nothing has been done yet). */
export function parseInitArgs(argv: string[]): InitOptions | 'help' {
  const { values } = parseOptions(argv, {
    inventory: { type: 'string' },
    set: { type: 'string', multiple: true },
    'set-file': { type: 'string', multiple: true },
    'from-env': { type: 'boolean' },
    'no-input': { type: 'boolean' },
    rotate: { type: 'boolean' },
    github: { type: 'string' },
    environment: { type: 'string' },
    'deploy-key': { type: 'string' },
    'known-hosts': { type: 'string' },
    'token-file': { type: 'string' },
    root: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  })
  if (values.help) return 'help'
  const sets = new Map<string, string>()
  const setFiles = new Map<string, string>()
  for (const [flag, pairs, into] of [['--set', values.set, sets], ['--set-file', values['set-file'], setFiles]] as const) {
    for (const pair of pairs ?? []) {
      const eq = pair.indexOf('=')
      const key = eq < 0 ? pair : pair.slice(0, eq)
      if (eq < 0 || !KEY_NAME.test(key)) throw new UsageError(`${flag} expects KEY=${flag === '--set' ? 'VALUE' : 'FILE'} with KEY a variable name (got "${key}")`)
      if (sets.has(key) || setFiles.has(key)) throw new UsageError(`${key} given twice (--set / --set-file)`)
      if (flag === '--set-file' && eq === pair.length - 1) throw new UsageError(`--set-file ${key}= needs a file name`)
      into.set(key, pair.slice(eq + 1))
    }
  }
  for (const [flag, v] of Object.entries({ inventory: values.inventory, github: values.github, environment: values.environment, 'deploy-key': values['deploy-key'], 'known-hosts': values['known-hosts'], 'token-file': values['token-file'], root: values.root })) {
    if (v !== undefined && v.trim() === '') throw new UsageError(`--${flag} needs a value`)
  }
  if (!values.github) {
    for (const flag of ['environment', 'deploy-key', 'known-hosts', 'token-file'] as const) {
      if (values[flag] !== undefined) throw new UsageError(`--${flag} only makes sense with --github OWNER/REPO`)
    }
  }
  if (values.rotate && (sets.size > 0 || setFiles.size > 0 || values['from-env'])) {
    throw new UsageError('--rotate changes the key, not the values: run --set / --set-file / --from-env separately')
  }
  if (values.github) {
    try {
      parseRepo(values.github, values.environment)
    } catch (e) {
      throw new UsageError(`--github: ${(e as Error).message}`)
    }
  }
  return {
    root: values.root ?? '.',
    inventory: values.inventory ?? 'inventories/production',
    sets,
    setFiles,
    fromEnv: values['from-env'] ?? false,
    noInput: values['no-input'] ?? false,
    rotate: values.rotate ?? false,
    github: values.github,
    environment: values.environment,
    deployKey: values['deploy-key'],
    knownHosts: values['known-hosts'],
    tokenFile: values['token-file'],
  }
}

/** Environment variable for a vault key with --from-env: vault_mailgun_api_key → VAULT_MAILGUN_API_KEY. */
export const envName = (key: string): string => key.toUpperCase()

export type ValueSource = 'set' | 'env' | 'generated' | 'ask' | 'example' | 'empty'

export interface PlannedValue {
  key: string
  source: ValueSource
  /** Known now (everything but `ask`). */
  value?: string
}

/**
 * Where each vault value comes from, first match wins: --set, the environment (--from-env), a
 * generator, a prompt (when interactive), the example's own non-empty value, else empty.
 */
export function planValues(
  example: Record<string, unknown>,
  sets: Map<string, string>,
  opts: { fromEnv: boolean; env: NodeJS.ProcessEnv; interactive: boolean },
): PlannedValue[] {
  const keys = Object.keys(example)
  const unknown = [...sets.keys()].filter((k) => !keys.includes(k))
  if (unknown.length > 0) {
    throw new UsageError(`--set ${unknown.join(', ')}: not in vault.example.yml (keys: ${keys.join(', ')}); add new keys to vault.example.yml first`)
  }
  return keys.map((key): PlannedValue => {
    if (sets.has(key)) return { key, source: 'set', value: sets.get(key)! }
    const fromEnv = opts.fromEnv ? opts.env[envName(key)] : undefined
    if (fromEnv !== undefined) return { key, source: 'env', value: fromEnv }
    const gen = GENERATED[key]
    if (gen) return { key, source: 'generated', value: gen() }
    if (opts.interactive && !(key in FILE_ONLY)) return { key, source: 'ask' }
    const ex = example[key]
    if (ex !== null && ex !== undefined && String(ex) !== '') return { key, source: 'example', value: String(ex) }
    return { key, source: 'empty', value: '' }
  })
}

/** Values whose prompt hides what is typed. */
export const isSecretKey = (key: string): boolean => /key|secret|token|password|passphrase/i.test(key)

export interface InitIO {
  out(line: string): void
  env: NodeJS.ProcessEnv
  /** Prompts for one value; absent when not interactive. */
  ask?(question: string, hidden: boolean): Promise<string>
}

function readYamlMap(file: string, what: string): Record<string, unknown> {
  let doc: unknown
  try {
    doc = parse(readFileSync(file, 'utf8'))
  } catch (e) {
    throw new VaultError(`${what} ${file} is not valid YAML: ${(e as Error).message.split('\n')[0]}`)
  }
  if (doc === null || doc === undefined) return {}
  if (typeof doc !== 'object' || Array.isArray(doc)) throw new VaultError(`${what} ${file} is not a mapping of variables`)
  return doc as Record<string, unknown>
}

const vaultYaml = (values: Record<string, unknown>): string => '---\n' + stringify(values, { lineWidth: 0 })

/** Checks an SSH private key without printing it: readable, a private key, no passphrase. */
function checkDeployKey(file: string): string {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (e) {
    throw new UsageError(`--deploy-key ${file}: cannot read it (${(e as NodeJS.ErrnoException).code ?? 'error'})`)
  }
  if (!/^-----BEGIN [A-Z ]*PRIVATE KEY-----/m.test(text)) throw new UsageError(`--deploy-key ${file}: not an SSH private key (the .pub is the public half)`)
  const r = spawnSync('ssh-keygen', ['-y', '-P', '', '-f', file], { stdio: ['ignore', 'ignore', 'ignore'] })
  if (r.error === undefined && r.status !== 0) throw new UsageError(`--deploy-key ${file}: the key has a passphrase; the workflows need one without (ssh-keygen -t ed25519 -N '' -f deploy_key)`)
  return text.endsWith('\n') ? text : text + '\n'
}

function checkKnownHosts(file: string): string {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (e) {
    throw new UsageError(`--known-hosts ${file}: cannot read it (${(e as NodeJS.ErrnoException).code ?? 'error'})`)
  }
  const lines = text.split('\n').filter((l) => l.trim() && !l.startsWith('#'))
  if (lines.length === 0 || lines.some((l) => l.trim().split(/\s+/).length < 3)) {
    throw new UsageError(`--known-hosts ${file}: expected known_hosts lines (HOST KEYTYPE KEY), e.g. from ssh-keyscan -p 2222 HOST`)
  }
  return text
}

/** The whole init; every check runs before the first change. */
export async function runInit(o: InitOptions, io: InitIO): Promise<void> {
  const root = resolve(o.root)
  const rel = (p: string) => relative(root, p) || '.'
  if (!existsSync(join(root, 'ansible.cfg'))) throw new UsageError(`no ansible.cfg in ${root}: run from the repository root or pass --root`)
  const keyFile = join(root, 'vault.key')
  const invDir = isAbsolute(o.inventory) ? o.inventory : join(root, o.inventory)
  if (!existsSync(invDir) || !statSync(invDir).isDirectory()) throw new UsageError(`--inventory ${o.inventory}: no such directory`)
  const vaultFile = join(invDir, 'group_vars/all/vault.yml')
  // Beside the inventories, not in one: Ansible would try to load it as inventory (and warn).
  const exampleFile = [join(root, 'inventories/vault.example.yml')].find((f) => existsSync(f))
  const keyExists = existsSync(keyFile)
  const vaultExists = existsSync(vaultFile)

  // --- checks: nothing has changed yet ---
  if (o.rotate && !keyExists) throw new UsageError(`nothing to rotate: no vault.key in ${rel(root)} (run init without --rotate first)`)
  if (!keyExists && vaultExists) {
    throw new UsageError(`${rel(vaultFile)} exists but vault.key is missing: put the team's vault.key (it is not in git) at ${rel(keyFile)}, or delete ${rel(vaultFile)} to start a new vault`)
  }
  if (keyExists) readKeyFile(keyFile)
  if (vaultExists && !isVaultText(readFileSync(vaultFile, 'utf8'))) {
    throw new UsageError(`${rel(vaultFile)} is not encrypted: encrypt it (ansible-vault encrypt ${rel(vaultFile)}) and, if it was ever committed, change every value in it`)
  }
  if (!vaultExists && !exampleFile) throw new UsageError(`no inventories/vault.example.yml in ${rel(root)}: it lists the vault's keys`)
  const example = exampleFile ? readYamlMap(exampleFile, 'vault example') : {}
  const sets = new Map(o.sets)
  for (const [key, file] of o.setFiles) {
    try {
      sets.set(key, readFileSync(isAbsolute(file) ? file : resolve(file), 'utf8'))
    } catch (e) {
      throw new UsageError(`--set-file ${key}=${file}: cannot read it (${(e as NodeJS.ErrnoException).code ?? 'error'})`)
    }
  }
  const wantsUpdate = sets.size > 0 || o.fromEnv

  let github: { client: SecretsClient; target: SecretsTarget; deployKey?: string; knownHosts?: string } | undefined
  if (o.github) {
    const target = parseRepo(o.github, o.environment)
    let token: string
    try {
      token = readToken(o.tokenFile, io.env)
    } catch (e) {
      throw new UsageError((e as Error).message)
    }
    const deployKey = o.deployKey === undefined ? undefined : checkDeployKey(o.deployKey)
    const knownHosts = o.knownHosts === undefined ? undefined : checkKnownHosts(o.knownHosts)
    const client = new SecretsClient({ token, target, apiUrl: apiBase(io.env) })
    await client.publicKey() // token, repository and environment checked before any local change
    github = { client, target, deployKey, knownHosts }
  }

  let rotated = false
  if (o.rotate) {
    const { vault, inline } = findVaultFiles(root)
    if (inline.length > 0) {
      throw new VaultError(`inline !vault values in ${inline.map(rel).join(', ')}: ansible-vault rekey cannot re-encrypt them; move them into a vault file, then rotate`)
    }
    for (const f of vault) if (!(await opensWith(keyFile, f))) throw new VaultError(`${rel(f)} does not open with vault.key: nothing rotated`)
    await rotateKey(keyFile, vault, generateVaultKey())
    rotated = true
    io.out(`vault.key: replaced by a new random key; re-encrypted with it: ${vault.map(rel).join(', ') || '(no vault files)'}`)
    io.out('  commit the re-encrypted files; everyone (and CI) needs the new vault.key. The values themselves did not change.')
  } else if (!vaultExists) {
    const planned = planValues(example, sets, { fromEnv: o.fromEnv, env: io.env, interactive: !o.noInput && io.ask !== undefined })
    const values: Record<string, string> = {}
    for (const p of planned) {
      values[p.key] = p.source === 'ask'
        ? await io.ask!(`${p.key} (Enter to leave empty): `, isSecretKey(p.key))
        : p.value!
    }
    let newKey = false
    if (!keyExists) {
      writeKeyFile(keyFile, generateVaultKey())
      newKey = true
    }
    try {
      mkdirSync(dirname(vaultFile), { recursive: true })
      await encryptToFile(keyFile, vaultYaml(values), vaultFile)
    } catch (e) {
      if (newKey) rmSync(keyFile, { force: true }) // no key left behind for a vault that does not exist
      throw e
    }
    if (newKey) io.out(`vault.key: new random key (mode 0600): keep a copy in the team's password manager`)
    else io.out('vault.key: kept (already there)')
    // git check-ignore: 0 ignored, 1 not ignored, 128 not a repository (nothing to say then).
    if (spawnSync('git', ['check-ignore', '-q', 'vault.key'], { cwd: root, stdio: 'ignore' }).status === 1) {
      io.out('WARNING: vault.key is not git-ignored here: add "vault.key" to .gitignore before committing anything')
    }
    const count = (s: ValueSource[]) => planned.filter((p) => s.includes(p.source)).map((p) => p.key)
    const empty = planned.filter((p) => values[p.key] === '').map((p) => p.key)
    io.out(`vault: ${rel(vaultFile)} created with ${planned.length} values (generated: ${count(['generated']).join(', ') || 'none'}; empty: ${empty.join(', ') || 'none'})`)
    io.out(`  commit it; read or edit it with: ansible-vault view|edit ${rel(vaultFile)}`)
    for (const key of empty.filter((k) => k in FILE_ONLY)) {
      io.out(`  ${key} (${FILE_ONLY[key]}) is empty: set it with --set-file ${key}=FILE when needed`)
    }
  } else if (wantsUpdate) {
    const current = parse(await decryptFile(keyFile, vaultFile)) as Record<string, unknown> | null
    const merged: Record<string, unknown> = { ...(current ?? {}) }
    const allowed = new Set([...Object.keys(example), ...Object.keys(merged)])
    const unknown = [...sets.keys()].filter((k) => !allowed.has(k))
    if (unknown.length > 0) throw new UsageError(`--set ${unknown.join(', ')}: not a key of the vault or vault.example.yml`)
    const changed: string[] = []
    for (const k of allowed) {
      const v = sets.get(k) ?? (o.fromEnv ? io.env[envName(k)] : undefined)
      if (v !== undefined && merged[k] !== v) {
        merged[k] = v
        changed.push(k)
      }
    }
    if (changed.length > 0) await encryptToFile(keyFile, vaultYaml(merged), vaultFile)
    io.out(changed.length > 0 ? `vault: ${rel(vaultFile)} updated: ${changed.join(', ')}` : `vault: ${rel(vaultFile)} already has these values`)
  } else {
    if (!(await opensWith(keyFile, vaultFile))) throw new VaultError(`${rel(vaultFile)} does not open with vault.key: is it the team's key?`)
    io.out(`vault: ${rel(vaultFile)} exists and opens with vault.key: unchanged`)
  }

  if (github) {
    const secrets: [string, string][] = [[SECRET_NAMES.vaultKey, readKeyFile(keyFile)]]
    if (github.deployKey !== undefined) secrets.push([SECRET_NAMES.deployKey, github.deployKey])
    if (github.knownHosts !== undefined) secrets.push([SECRET_NAMES.knownHosts, github.knownHosts])
    for (const [name, value] of secrets) {
      try {
        const how = await github.client.put(name, value)
        io.out(`github: ${name} ${how} in ${describeTarget(github.target)}`)
      } catch (e) {
        const hint = rotated ? ' (vault.key was rotated locally: run init again without --rotate to store it)' : ''
        throw new GitHubError(`${(e as Error).message}${hint}`)
      }
    }
  }
}

/**
 * Prompts on the terminal, one readline for the whole run (lines typed ahead are kept); what is
 * typed for a hidden answer is not echoed.
 */
function terminalAsker(): { ask(question: string, hidden: boolean): Promise<string>; close(): void } {
  let muted = false
  const output = new Writable({
    write(chunk, _enc, cb) {
      if (!muted) process.stdout.write(chunk)
      cb()
    },
  })
  const rl = createInterface({ input: process.stdin, output, terminal: true })
  const lines = rl[Symbol.asyncIterator]()
  let interrupted = false
  rl.on('SIGINT', () => {
    interrupted = true
    rl.close()
  })
  return {
    async ask(question, hidden) {
      rl.setPrompt(question)
      rl.prompt()
      muted = hidden
      try {
        const line = await lines.next()
        if (line.done) throw new UsageError(interrupted ? 'interrupted: nothing written' : 'input ended: nothing written')
        return (line.value as string).trim()
      } finally {
        muted = false
        if (hidden || interrupted) process.stdout.write('\n')
      }
    },
    close: () => rl.close(),
  }
}

export const command: Command = {
  name: 'init',
  summary: 'First-run setup: vault key, vault values, GitHub secrets (also rotates the key)',
  usage,
  async run(argv) {
    const opts = parseInitArgs(argv)
    if (opts === 'help') {
      console.log(usage)
      return 0
    }
    const asker = !opts.noInput && process.stdin.isTTY === true && process.stdout.isTTY === true ? terminalAsker() : undefined
    try {
      await runInit(opts, { out: (line) => console.log(line), env: process.env, ask: asker?.ask })
      return 0
    } catch (e) {
      if (e instanceof VaultError || e instanceof GitHubError) {
        console.error(`django-deploy init: ${e.message}`)
        return 1
      }
      throw e
    } finally {
      asker?.close()
    }
  },
}

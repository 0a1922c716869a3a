// `django-deploy init`'s options: the usage text and the parsing (bad input is one UsageError line).
import { parse as parseOptions } from './args.ts'
import { UsageError } from './command.ts'
import { parseSecretsTarget } from './github-secrets.ts'
import { DEFAULT_ENVIRONMENT, SECRET_NAMES } from './init-github.ts'

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
  /** The GitHub environment whose secrets init sets; undefined: the repository's (--repository-secrets). */
  environment?: string
  deployKey?: string
  knownHosts?: string
  tokenFile?: string
  /** Store into an environment without the protection rules init requires (a warning instead). */
  allowUnprotected: boolean
}

export const usage = `Usage: django-deploy init [options]

First-run setup, run from the repository root:
  1. vault.key: a new random key (mode 0600, git-ignored); an existing one is kept (see --rotate);
  2. INVENTORY/group_vars/all/vault.yml, if absent: the keys of inventories/vault.example.yml, with
     vault_django_secret_key, vault_database_password and vault_admin_sudo_password generated
     (read them with ansible-vault view), the others asked for
     (Enter leaves one empty: Mailgun, S3 backups, Rollbar are optional), encrypted with vault.key;
     an existing vault is left as is, or updated with --set / --from-env;
  3. with --github: vault.key stored as the GitHub secret ${SECRET_NAMES.vaultKey} (and --deploy-key as
     ${SECRET_NAMES.deployKey}, --known-hosts as ${SECRET_NAMES.knownHosts}), the names the workflows read,
     in the repository's ${DEFAULT_ENVIRONMENT} environment (create it first, limited to the main branch:
     only deploy.yml's jobs on main can read them). init reads the environment's rules first and
     refuses one that does not protect them: ${DEFAULT_ENVIRONMENT} needs a deployment branch policy,
     preview required reviewers, any other environment one of the two.

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
  --environment NAME    the GitHub environment to store them in (default: ${DEFAULT_ENVIRONMENT})
  --repository-secrets  store them as repository secrets instead, readable by every workflow on
                        every branch (not recommended: see the README's GitHub environments)
  --allow-unprotected   store into an environment without those rules anyway (a warning instead)
  --deploy-key FILE     also store this SSH private key (no passphrase) as ${SECRET_NAMES.deployKey}
  --known-hosts FILE    also store this known_hosts file as ${SECRET_NAMES.knownHosts}
  --token-file FILE     read the GitHub token from FILE instead of GITHUB_TOKEN
  --root DIR            the repository (default: the current directory)
  -h, --help            this help

Examples:
  django-deploy init
  django-deploy init --no-input --set vault_rollbar_token=abc123
  GITHUB_TOKEN=... django-deploy init --github my-org/my-site --deploy-key ~/.ssh/deploy_ed25519
  django-deploy init --rotate --github my-org/my-site`

/** Parses argv into options; bad input is a UsageError (nothing has been done yet). */
export function parseInitArgs(argv: string[]): InitOptions {
  const { values } = parseOptions(argv, {
    inventory: { type: 'string' },
    set: { type: 'string', multiple: true },
    'set-file': { type: 'string', multiple: true },
    'from-env': { type: 'boolean' },
    'no-input': { type: 'boolean' },
    rotate: { type: 'boolean' },
    github: { type: 'string' },
    environment: { type: 'string' },
    'repository-secrets': { type: 'boolean' },
    'allow-unprotected': { type: 'boolean' },
    'deploy-key': { type: 'string' },
    'known-hosts': { type: 'string' },
    'token-file': { type: 'string' },
    root: { type: 'string' },
  })
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
    for (const flag of ['environment', 'repository-secrets', 'allow-unprotected', 'deploy-key', 'known-hosts', 'token-file'] as const) {
      if (values[flag] !== undefined) throw new UsageError(`--${flag} only makes sense with --github OWNER/REPO`)
    }
  }
  if (values.environment !== undefined && values['repository-secrets']) {
    throw new UsageError('--environment and --repository-secrets contradict each other: pick one')
  }
  if (values['allow-unprotected'] && values['repository-secrets']) {
    throw new UsageError('--allow-unprotected is about an environment\'s rules; repository secrets have none (drop one of the two)')
  }
  const environment = values['repository-secrets'] ? undefined : values.environment ?? DEFAULT_ENVIRONMENT
  if (values.rotate && (sets.size > 0 || setFiles.size > 0 || values['from-env'])) {
    throw new UsageError('--rotate changes the key, not the values: run --set / --set-file / --from-env separately')
  }
  if (values.github) {
    try {
      parseSecretsTarget(values.github, environment)
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
    environment: values.github ? environment : undefined,
    deployKey: values['deploy-key'],
    knownHosts: values['known-hosts'],
    tokenFile: values['token-file'],
    allowUnprotected: values['allow-unprotected'] ?? false,
  }
}


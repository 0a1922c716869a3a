// Where each value of a new vault comes from (pure): given, from the environment, generated,
// asked, the example's, or empty.
import { UsageError } from './command.ts'
import { generateDjangoSecretKey, generatePassword } from '../core/vault.ts'

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
export const isSecretKey = (key: string): boolean => /key|secret|token|password|passphrase|identity/i.test(key)


// The Ansible vault: random keys and values, and ansible-vault run as a child process with argument
// arrays. Plaintext reaches ansible-vault through stdin only (never a file), key files are 0600, and
// every change lands by rename: a failure leaves the previous files as they were.
import { childEnv, lastLine as lastOutputLine, run, type ExecResult } from './exec.ts'
import { randomBytes, randomInt } from 'node:crypto'
import { closeSync, openSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync, writeSync, chmodSync, lstatSync } from 'node:fs'
import { basename, dirname, join } from 'node:path'

export const VAULT_HEADER = '$ANSIBLE_VAULT;'

const LOWER = 'abcdefghijklmnopqrstuvwxyz'
const ALNUM = LOWER + LOWER.toUpperCase() + '0123456789'
/**
 * Django's `get_random_secret_key()` alphabet without `%` and `$`, which ini readers with
 * interpolation (configparser, python-decouple) and shells would expand.
 */
const DJANGO_ALPHABET = LOWER + '0123456789!@#^&*(-_=+)'

/** `length` characters drawn uniformly (crypto.randomInt has no modulo bias) from `alphabet`. */
export function randomString(alphabet: string, length: number): string {
  if (alphabet.length < 2 || length < 1) throw new Error('randomString: need an alphabet of 2+ characters and a length of 1+')
  let s = ''
  for (let i = 0; i < length; i++) s += alphabet[randomInt(alphabet.length)]
  return s
}

/** A vault key: 256 random bits as 64 hex characters (safe in files, env vars and secrets). */
export const generateVaultKey = (): string => randomBytes(32).toString('hex')
/** A Django SECRET_KEY: 50 characters, as `django-admin startproject` makes them. */
export const generateDjangoSecretKey = (): string => randomString(DJANGO_ALPHABET, 50)
/** A password without characters that need quoting in a URL, a shell or an ini file. */
export const generatePassword = (length = 32): string => randomString(ALNUM, length)

/** Whether a file's text is a whole-file vault (as opposed to plaintext YAML). */
export const isVaultText = (text: string): boolean => text.startsWith(VAULT_HEADER)
/** Whether YAML text holds inline vaulted values (`!vault |`), which `ansible-vault rekey` cannot reach. */
export const hasInlineVault = (text: string): boolean => !isVaultText(text) && /!vault\s*\|/.test(text)

export class VaultError extends Error {
  override name = 'VaultError'
}

const lastLine = (text: string): string => lastOutputLine(text).replace(/^ERROR! /, '')

/**
 * Runs ansible-vault with `keyFile` as the only vault secret (ANSIBLE_VAULT_PASSWORD_FILE overrides
 * any vault_password_file an ansible.cfg sets; no other identity is loaded).
 */
async function ansibleVault(args: string[], keyFile: string, input?: string): Promise<ExecResult> {
  const env = childEnv({ ANSIBLE_VAULT_PASSWORD_FILE: keyFile, ANSIBLE_NOCOLOR: '1' })
  delete env.ANSIBLE_VAULT_IDENTITY_LIST
  delete env.ANSIBLE_VAULT_ID_MATCH
  try {
    return await run('ansible-vault', args, { env, input })
  } catch (e) {
    const err = e as NodeJS.ErrnoException
    throw new VaultError(err.code === 'ENOENT' ? 'ansible-vault not found: install ansible-core (bash scripts/setup.sh)' : `ansible-vault: ${err.message}`)
  }
}

/** A temporary sibling of `file` (same directory, so the final rename is atomic). */
export function tempSibling(file: string, tag = 'tmp'): string {
  return join(dirname(file), `.${basename(file)}.${tag}-${randomBytes(4).toString('hex')}`)
}

/** Writes `content` to a new file with mode 0600; fails if the file exists. */
function writeNew0600(file: string, content: string): void {
  const fd = openSync(file, 'wx', 0o600)
  try {
    writeSync(fd, content)
  } finally {
    closeSync(fd)
  }
  chmodSync(file, 0o600) // whatever the umask
}

/** Writes a vault key file (0600). Refuses to replace an existing file unless `replace` is set. */
export function writeKeyFile(file: string, key: string, opts: { replace?: boolean } = {}): void {
  if (!opts.replace) {
    writeNew0600(file, key + '\n')
    return
  }
  const tmp = tempSibling(file)
  writeNew0600(tmp, key + '\n')
  try {
    renameSync(tmp, file)
  } catch (e) {
    rmSync(tmp, { force: true })
    throw e
  }
}

/** Reads a key file, refusing one readable by others (ansible-vault would also run it if executable). */
export function readKeyFile(file: string): string {
  const st = lstatSync(file)
  if (!st.isFile()) throw new VaultError(`${file} is not a regular file`)
  if ((st.mode & 0o111) !== 0) throw new VaultError(`${file} is executable: ansible-vault would run it as a script (chmod 0600 ${file})`)
  const key = readFileSync(file, 'utf8').trim()
  if (!key) throw new VaultError(`${file} is empty`)
  return key
}

/** Encrypts `plaintext` (through stdin) into `dest`, replacing it atomically. */
export async function encryptToFile(keyFile: string, plaintext: string, dest: string): Promise<void> {
  const tmp = tempSibling(dest)
  try {
    const r = await ansibleVault(['encrypt', '--output', tmp, '-'], keyFile, plaintext)
    if (r.code !== 0) throw new VaultError(`ansible-vault could not encrypt ${dest}: ${lastLine(r.stderr || r.stdout)}`)
    renameSync(tmp, dest)
  } finally {
    rmSync(tmp, { force: true })
  }
}

/** Decrypts a vault file to memory (stdout of ansible-vault; nothing written). */
export async function decryptFile(keyFile: string, file: string): Promise<string> {
  const r = await ansibleVault(['decrypt', '--output', '-', file], keyFile)
  if (r.code !== 0) throw new VaultError(`${file} does not open with ${keyFile}: ${lastLine(r.stderr || r.stdout)}`)
  return r.stdout
}

/** Whether `file` opens with the key in `keyFile`. */
export async function opensWith(keyFile: string, file: string): Promise<boolean> {
  return (await ansibleVault(['decrypt', '--output', '-', file], keyFile)).code === 0
}

const SKIP_DIRS = new Set(['.git', 'node_modules', 'dist', '.lab', '.ansible', '__pycache__', 'app'])

/**
 * Files under `root` that the vault key protects: whole-file vaults (`vault`), and YAML files with
 * inline `!vault |` values (`inline`), which only a human can re-encrypt.
 */
export function findVaultFiles(root: string): { vault: string[]; inline: string[] } {
  const vault: string[] = []
  const inline: string[] = []
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name)
      if (e.isDirectory()) {
        if (!SKIP_DIRS.has(e.name)) walk(p)
      } else if (e.isFile() && /\.(ya?ml|json)$|^[^.]*$/.test(e.name) && !e.name.startsWith('.')) {
        let head: string
        try {
          head = readFileSync(p, 'utf8')
        } catch {
          continue
        }
        if (isVaultText(head)) vault.push(p)
        else if (/\.ya?ml$/.test(e.name) && hasInlineVault(head)) inline.push(p)
      }
    }
  }
  walk(root)
  return { vault: vault.sort(), inline: inline.sort() }
}

/**
 * Re-encrypts every file of `files` from the key in `keyFile` to `newKey`, then replaces `keyFile`.
 * All-or-nothing: the files are rekeyed as temporary copies and checked to open with the new key;
 * only then are they renamed over the originals, the key file last. If a rename fails, the files
 * already replaced are restored. Before the final renames nothing outside temporary files changes.
 */
export async function rotateKey(keyFile: string, files: string[], newKey: string): Promise<void> {
  readKeyFile(keyFile)
  const newKeyFile = tempSibling(keyFile, 'new')
  const staged: { file: string; tmp: string; original: string }[] = []
  try {
    writeNew0600(newKeyFile, newKey + '\n')
    for (const file of files) {
      const original = readFileSync(file, 'utf8')
      if (!isVaultText(original)) throw new VaultError(`${file} is not an encrypted vault`)
      const tmp = tempSibling(file, 'rotate')
      staged.push({ file, tmp, original })
      writeFileSync(tmp, original, { flag: 'wx', mode: 0o644 })
      const r = await ansibleVault(['rekey', '--new-vault-password-file', newKeyFile, tmp], keyFile)
      if (r.code !== 0) throw new VaultError(`ansible-vault could not rekey ${file}: ${lastLine(r.stderr || r.stdout).replaceAll(tmp, file)}`)
      if (!(await opensWith(newKeyFile, tmp))) throw new VaultError(`${file} rekeyed does not open with the new key`)
    }
    const done: typeof staged = []
    try {
      for (const s of staged) {
        renameSync(s.tmp, s.file)
        done.push(s)
      }
      renameSync(newKeyFile, keyFile)
    } catch (e) {
      for (const s of done) writeFileSync(s.file, s.original) // back to the old key's ciphertext
      throw e
    }
  } finally {
    rmSync(newKeyFile, { force: true })
    for (const s of staged) rmSync(s.tmp, { force: true })
  }
}

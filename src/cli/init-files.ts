// The files init reads: the vault example, --set-file values, the deploy key and known_hosts.
// Each check fails with one line naming the file and the fix, before anything is written.
import { readFileSync } from 'node:fs'
import { isAbsolute, resolve } from 'node:path'
import { parse, stringify } from 'yaml'
import { UsageError } from './command.ts'
import { runSync } from '../core/exec.ts'
import { VaultError } from '../core/vault.ts'

export const vaultYaml = (values: Record<string, unknown>): string => '---\n' + stringify(values, { lineWidth: 0 })

export function readYamlMap(file: string, what: string): Record<string, unknown> {
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

/** Reads a file an option names; `option` starts the one-line error ("--deploy-key FILE"). */
function readOptionFile(option: string, file: string): string {
  try {
    return readFileSync(isAbsolute(file) ? file : resolve(file), 'utf8')
  } catch (e) {
    throw new UsageError(`${option}: cannot read it (${(e as NodeJS.ErrnoException).code ?? 'error'})`)
  }
}

/** --set-file KEY=FILE values, read now (a missing file stops init before any change). */
export function readSetFiles(setFiles: Map<string, string>): Map<string, string> {
  return new Map([...setFiles].map(([key, file]) => [key, readOptionFile(`--set-file ${key}=${file}`, file)]))
}

/** Checks an SSH private key without printing it: readable, a private key, no passphrase. */
export function checkDeployKey(file: string): string {
  const text = readOptionFile(`--deploy-key ${file}`, file)
  if (!/^-----BEGIN [A-Z ]*PRIVATE KEY-----/m.test(text)) throw new UsageError(`--deploy-key ${file}: not an SSH private key (the .pub is the public half)`)
  // 127: no ssh-keygen here, the key cannot be checked (GitHub stores it all the same).
  const r = runSync('ssh-keygen', ['-y', '-P', '', '-f', file])
  if (r.code !== 0 && r.code !== 127) throw new UsageError(`--deploy-key ${file}: the key has a passphrase; the workflows need one without (ssh-keygen -t ed25519 -N '' -f deploy_key)`)
  return text.endsWith('\n') ? text : text + '\n'
}

/** Checks a known_hosts file: lines of HOST KEYTYPE KEY. */
export function checkKnownHosts(file: string): string {
  const text = readOptionFile(`--known-hosts ${file}`, file)
  const lines = text.split('\n').filter((l) => l.trim() && !l.startsWith('#'))
  if (lines.length === 0 || lines.some((l) => l.trim().split(/\s+/).length < 3)) {
    throw new UsageError(`--known-hosts ${file}: expected known_hosts lines (HOST KEYTYPE KEY), e.g. from ssh-keyscan -p 2222 HOST`)
  }
  return text
}

/** git check-ignore: 0 ignored, 1 not ignored, 128 not a repository (nothing to say then). */
export const gitTracksFile = (root: string, file: string): boolean => runSync('git', ['check-ignore', '-q', file], { cwd: root }).code === 1

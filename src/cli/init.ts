// `django-deploy init`: first-run setup. A random vault.key, the inventory's vault (generated and
// asked values), key rotation, and the GitHub secrets the workflows read. The options are in
// init-args.ts, the values in init-values.ts, the file checks in init-files.ts, GitHub in
// init-github.ts, the prompt in prompt.ts; here, the order of things.
import { existsSync, mkdirSync, readFileSync, rmSync, statSync } from 'node:fs'
import { dirname, isAbsolute, join, relative, resolve } from 'node:path'
import { parse } from 'yaml'
import { UsageError, type Command } from './command.ts'
import { parseInitArgs, usage, type InitOptions } from './init-args.ts'
import { gitTracksFile, readSetFiles, readYamlMap, vaultYaml } from './init-files.ts'
import { prepareGitHub, storeSecrets } from './init-github.ts'
import { FILE_ONLY, envName, isSecretKey, planValues, type ValueSource } from './init-values.ts'
import { terminalAsker } from './prompt.ts'
import { GitHubError } from './github-secrets.ts'
import {
  VaultError, decryptFile, encryptToFile, findVaultFiles, generateVaultKey, isVaultText, opensWith, readKeyFile, rotateKey, writeKeyFile,
} from '../core/vault.ts'

export { parseInitArgs, type InitOptions } from './init-args.ts'
export { GENERATED, envName, isSecretKey, planValues } from './init-values.ts'
export { SECRET_NAMES } from './init-github.ts'

export interface InitIO {
  out(line: string): void
  env: NodeJS.ProcessEnv
  /** Prompts for one value; absent when not interactive. */
  ask?(question: string, hidden: boolean): Promise<string>
}

/** What every step of init works on, found and checked before the first change. */
interface Setup {
  o: InitOptions
  io: InitIO
  root: string
  rel(p: string): string
  keyFile: string
  keyExists: boolean
  vaultFile: string
  example: Record<string, unknown>
  /** --set and --set-file values. */
  sets: Map<string, string>
}

/** Finds the files and refuses, with one line, anything that cannot go well. Changes nothing. */
function check(o: InitOptions, io: InitIO): Setup & { vaultExists: boolean } {
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
  const sets = new Map([...o.sets, ...readSetFiles(o.setFiles)])
  return { o, io, root, rel, keyFile, keyExists, vaultFile, vaultExists, example, sets }
}

/** --rotate: a new vault.key, every vault re-encrypted with it (all or nothing). */
async function rotateVault({ root, rel, keyFile, io }: Setup): Promise<void> {
  const { vault, inline } = findVaultFiles(root)
  if (inline.length > 0) {
    throw new VaultError(`inline !vault values in ${inline.map(rel).join(', ')}: ansible-vault rekey cannot re-encrypt them; move them into a vault file, then rotate`)
  }
  for (const f of vault) if (!(await opensWith(keyFile, f))) throw new VaultError(`${rel(f)} does not open with vault.key: nothing rotated`)
  await rotateKey(keyFile, vault, generateVaultKey())
  io.out(`vault.key: replaced by a new random key; re-encrypted with it: ${vault.map(rel).join(', ') || '(no vault files)'}`)
  io.out('  commit the re-encrypted files; everyone (and CI) needs the new vault.key. The values themselves did not change.')
}

/** No vault yet: its values planned (and asked), vault.key made if needed, the vault encrypted. */
async function createVault({ o, io, root, rel, keyFile, keyExists, vaultFile, example, sets }: Setup): Promise<void> {
  const planned = planValues(example, sets, { fromEnv: o.fromEnv, env: io.env, interactive: !o.noInput && io.ask !== undefined })
  const values: Record<string, string> = {}
  for (const p of planned) {
    values[p.key] = p.source === 'ask' ? await io.ask!(`${p.key} (Enter to leave empty): `, isSecretKey(p.key)) : p.value!
  }
  if (!keyExists) writeKeyFile(keyFile, generateVaultKey())
  try {
    mkdirSync(dirname(vaultFile), { recursive: true })
    await encryptToFile(keyFile, vaultYaml(values), vaultFile)
  } catch (e) {
    if (!keyExists) rmSync(keyFile, { force: true }) // no key left behind for a vault that does not exist
    throw e
  }
  io.out(keyExists ? 'vault.key: kept (already there)' : `vault.key: new random key (mode 0600): keep a copy in the team's password manager`)
  if (gitTracksFile(root, 'vault.key')) {
    io.out('WARNING: vault.key is not git-ignored here: add "vault.key" to .gitignore before committing anything')
  }
  const count = (s: ValueSource[]) => planned.filter((p) => s.includes(p.source)).map((p) => p.key)
  const empty = planned.filter((p) => values[p.key] === '').map((p) => p.key)
  io.out(`vault: ${rel(vaultFile)} created with ${planned.length} values (generated: ${count(['generated']).join(', ') || 'none'}; empty: ${empty.join(', ') || 'none'})`)
  io.out(`  commit it; read or edit it with: ansible-vault view|edit ${rel(vaultFile)}`)
  for (const key of empty.filter((k) => k in FILE_ONLY)) {
    io.out(`  ${key} (${FILE_ONLY[key]}) is empty: set it with --set-file ${key}=FILE when needed`)
  }
}

/** --set / --set-file / --from-env on an existing vault: the values that differ, re-encrypted. */
async function updateVault({ o, io, rel, keyFile, vaultFile, example, sets }: Setup): Promise<void> {
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
}

/** Nothing asked of the vault: only checks that it opens with vault.key. */
async function checkVault({ io, rel, keyFile, vaultFile }: Setup): Promise<void> {
  if (!(await opensWith(keyFile, vaultFile))) throw new VaultError(`${rel(vaultFile)} does not open with vault.key: is it the team's key?`)
  io.out(`vault: ${rel(vaultFile)} exists and opens with vault.key: unchanged`)
}

/** The whole init; every check runs before the first change. */
export async function runInit(o: InitOptions, io: InitIO): Promise<void> {
  const setup = check(o, io)
  const github = o.github ? await prepareGitHub({ ...o, github: o.github }, io.env, io.out) : undefined
  if (o.rotate) await rotateVault(setup)
  else if (!setup.vaultExists) await createVault(setup)
  else if (setup.sets.size > 0 || o.fromEnv) await updateVault(setup)
  else await checkVault(setup)
  if (github) {
    const hint = o.rotate ? ' (vault.key was rotated locally: run init again without --rotate to store it)' : ''
    await storeSecrets(github, readKeyFile(setup.keyFile), io.out, hint)
  }
}

export const command: Command = {
  name: 'init',
  summary: 'First-run setup: vault key, vault values, GitHub secrets (also rotates the key)',
  usage,
  async run(argv) {
    const opts = parseInitArgs(argv)
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

// Opens Ansible vaults in-process (format 1.1/1.2, AES256: PBKDF2-SHA256 → AES-256-CTR, HMAC-SHA256),
// so the key is checked before anything runs, with no child process and nothing written. Also
// finds the vaults a run loads (whole files and inline `!vault` values) and the values inside,
// which the action registers as secrets.
import { ValidationError } from './errors.ts'
import { createDecipheriv, createHmac, pbkdf2Sync, timingSafeEqual } from 'node:crypto'
import { existsSync, readFileSync, statSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { isMap, isScalar, isSeq, parseDocument, type Node, type ScalarTag } from 'yaml'
import { findVaultFiles, hasInlineVault, isVaultText } from './vault.ts'

/** Why a vault did not open: not a vault we can read, or the key is wrong. */
export type OpenFailure = 'format' | 'key'

/** Decrypts one vault text with `key` (the content of vault.key, trimmed as Ansible does). */
export function openVault(text: string, key: string): { ok: true; plaintext: string } | { ok: false; why: OpenFailure } {
  const lines = text.trim().split(/\r?\n/)
  const header = (lines.shift() ?? '').trim().split(';')
  if (header[0] !== '$ANSIBLE_VAULT' || !['1.1', '1.2'].includes(header[1] ?? '') || header[2] !== 'AES256') return { ok: false, why: 'format' }
  const hex = lines.map((l) => l.trim()).join('')
  if (!/^([0-9a-f]{2})+$/i.test(hex)) return { ok: false, why: 'format' }
  const parts = Buffer.from(hex, 'hex').toString('latin1').split('\n')
  if (parts.length !== 3 || !parts.every((p) => /^([0-9a-f]{2})+$/i.test(p))) return { ok: false, why: 'format' }
  const [salt, mac, data] = parts.map((p) => Buffer.from(p, 'hex')) as [Buffer, Buffer, Buffer]
  const material = pbkdf2Sync(Buffer.from(key, 'utf8'), salt, 10000, 80, 'sha256')
  const expected = createHmac('sha256', material.subarray(32, 64)).update(data).digest()
  if (mac.length !== expected.length || !timingSafeEqual(mac, expected)) return { ok: false, why: 'key' }
  const decipher = createDecipheriv('aes-256-ctr', material.subarray(0, 32), material.subarray(64, 80))
  const padded = Buffer.concat([decipher.update(data), decipher.final()])
  const pad = padded[padded.length - 1] ?? 0
  if (pad < 1 || pad > 16) return { ok: false, why: 'format' }
  return { ok: true, plaintext: padded.subarray(0, padded.length - pad).toString('utf8') }
}

/** A `!vault` value: its ciphertext and where it sits (1-based line). */
interface InlineVault { ciphertext: string; line: number; name: string }

const vaultTag: ScalarTag = { tag: '!vault', resolve: (s: string) => ({ __vault: s }) as unknown as string }

/** The inline `!vault` values of a YAML text, with the key they are under. */
export function inlineVaults(text: string): InlineVault[] {
  const out: InlineVault[] = []
  for (const doc of parseAllSafe(text)) {
    const lineOf = (n: Node) => (n.range ? text.slice(0, n.range[0]).split('\n').length : 0)
    const walk = (n: unknown, name: string) => {
      if (isMap(n)) for (const p of n.items) walk(p.value, isScalar(p.key) ? String(p.key.value) : name)
      else if (isSeq(n)) n.items.forEach((v, i) => walk(v, `${name}[${i}]`))
      else if (isScalar(n) && n.tag === '!vault') out.push({ ciphertext: String((n.value as { __vault?: string }).__vault ?? n.source ?? ''), line: lineOf(n), name })
    }
    walk(doc, '')
  }
  return out
}

function parseAllSafe(text: string): Node[] {
  const doc = parseDocument(text, { customTags: [vaultTag], uniqueKeys: false })
  return doc.contents ? [doc.contents as Node] : []
}

/** Every string (and number) leaf of a YAML text: the values a vault holds. */
export function yamlLeaves(text: string): string[] {
  const out: string[] = []
  const walk = (v: unknown) => {
    if (typeof v === 'string') out.push(v)
    else if (typeof v === 'number' || typeof v === 'bigint') out.push(String(v))
    else if (Array.isArray(v)) v.forEach(walk)
    else if (v && typeof v === 'object') Object.values(v).forEach(walk)
  }
  try {
    walk(parseDocument(text, { customTags: [vaultTag] }).toJS())
  } catch {
    // Not YAML (a vaulted key file, a certificate…): the whole text is the secret.
    out.push(text)
  }
  return out
}

export interface VaultCheck {
  /** Repository-relative paths checked. */
  files: string[]
  /** The plaintext values found (for masking), never printed. */
  values: string[]
}

/** Thrown with one line: which file (and line) did not open, and how to fix it. Never quotes a secret. */
export class VaultKeyError extends ValidationError {
  override name = 'VaultKeyError'
}

/**
 * The vaults a run with `inventory` loads: whole-file vaults and files with inline `!vault` values
 * in the inventory, the top-level group_vars/host_vars, playbooks/ and roles/ (not other
 * inventories, which may have their own key, nor tests or docs).
 */
export function vaultsForRun(root: string, inventory: string): { vault: string[]; inline: string[] } {
  const vault: string[] = []
  const inline: string[] = []
  for (const dir of [inventory, 'group_vars', 'host_vars', 'playbooks', 'roles']) {
    const path = resolve(root, dir)
    if (!existsSync(path)) continue
    if (!statSync(path).isDirectory()) {
      // An inventory file: itself, then the group_vars/host_vars beside it.
      const text = readFileSync(path, 'utf8')
      if (isVaultText(text)) vault.push(path)
      else if (hasInlineVault(text)) inline.push(path)
      for (const d of ['group_vars', 'host_vars']) {
        const beside = join(dirname(path), d)
        if (existsSync(beside)) {
          const f = findVaultFiles(beside)
          vault.push(...f.vault)
          inline.push(...f.inline)
        }
      }
      continue
    }
    const f = findVaultFiles(path)
    vault.push(...f.vault)
    inline.push(...f.inline)
  }
  return { vault: [...new Set(vault)].sort(), inline: [...new Set(inline)].sort() }
}

/**
 * Opens every vault the run loads with `key`; returns their values. `fix` says where the key comes
 * from (the action's secret, the CLI's --vault-key file), for the error line.
 */
export function checkVaultKey(root: string, inventory: string, key: string, fix: string): VaultCheck {
  const { vault, inline } = vaultsForRun(root, inventory)
  const files: string[] = []
  const values: string[] = []
  const needKey = (where: string) => {
    if (!key) throw new VaultKeyError(`the vault key is empty but ${where} is encrypted: ${fix}`)
  }
  const fail = (where: string, why: OpenFailure) => {
    throw new VaultKeyError(why === 'key'
      ? `the vault key does not open ${where}: ${fix}`
      : `${where} is not a vault Ansible can open (expected $ANSIBLE_VAULT;1.1;AES256): re-encrypt it with ansible-vault encrypt`)
  }
  for (const file of vault) {
    const rel = relative(root, file)
    needKey(rel)
    const r = openVault(readFileSync(file, 'utf8'), key)
    if (!r.ok) fail(rel, r.why)
    values.push(...yamlLeaves((r as { plaintext: string }).plaintext))
    files.push(rel)
  }
  for (const file of inline) {
    const rel = relative(root, file)
    const text = readFileSync(file, 'utf8')
    if (isVaultText(text)) continue
    for (const v of inlineVaults(text)) {
      const where = `${rel}:${v.line} (${v.name})`
      needKey(where)
      const r = openVault(v.ciphertext, key)
      if (!r.ok) fail(where, r.why)
      values.push((r as { plaintext: string }).plaintext)
    }
    files.push(rel)
  }
  return { files, values }
}

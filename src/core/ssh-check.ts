// Checks of the SSH material a run gets, in-process (nothing written, no child process): the
// private key is one ssh can use without a passphrase, each known_hosts line is host patterns, a
// key type and that type's base64 key. Errors never quote the material: a private key pasted in
// the wrong place must not reach the log.
import { ValidationError } from './errors.ts'
import { createPrivateKey } from 'node:crypto'

export class SshInputError extends ValidationError {
  override name = 'SshInputError'
}

const ARMOUR = /^-----BEGIN ([A-Z0-9 ]*)PRIVATE KEY-----\n([\s\S]+?)\n-----END \1PRIVATE KEY-----$/

/** Reads an SSH wire-format string (uint32 length + bytes) at `at`. */
function sshString(buf: Buffer, at: number): { value: Buffer; next: number } | undefined {
  if (at + 4 > buf.length) return undefined
  const len = buf.readUInt32BE(at)
  if (at + 4 + len > buf.length) return undefined
  return { value: buf.subarray(at + 4, at + 4 + len), next: at + 4 + len }
}

/** The problem with an OpenSSH-format key body, or undefined when it is usable as is. */
function opensshProblem(body: Buffer): 'garbage' | 'passphrase' | undefined {
  const magic = Buffer.from('openssh-key-v1\0', 'latin1')
  if (body.length < magic.length || !body.subarray(0, magic.length).equals(magic)) return 'garbage'
  const cipher = sshString(body, magic.length)
  const kdf = cipher && sshString(body, cipher.next)
  const kdfOptions = kdf && sshString(body, kdf.next)
  if (!cipher || !kdf || !kdfOptions) return 'garbage'
  if (cipher.value.toString('latin1') !== 'none' || kdf.value.toString('latin1') !== 'none') return 'passphrase'
  let at = kdfOptions.next
  if (at + 4 > body.length) return 'garbage'
  const count = body.readUInt32BE(at)
  at += 4
  if (count !== 1) return 'garbage'
  const pub = sshString(body, at)
  const priv = pub && sshString(body, pub.next)
  if (!pub || !priv || priv.value.length < 8) return 'garbage'
  // Two equal check integers open the private section: what ssh itself tests first.
  if (priv.value.readUInt32BE(0) !== priv.value.readUInt32BE(4)) return 'garbage'
  const type = sshString(priv.value, 8)
  const pubType = sshString(pub.value, 0)
  if (!type || !pubType || !type.value.equals(pubType.value)) return 'garbage'
  return undefined
}

/**
 * Checks an SSH private key (the whole file's text). Throws one line on the first problem; `where`
 * names the input and `fix` where the key is set. Never quotes the key.
 */
export function checkPrivateKey(text: string, where: string, fix: string): void {
  const key = text.replace(/\r\n/g, '\n').trim()
  const m = ARMOUR.exec(key)
  if (!m) throw new SshInputError(`${where}: not a private key (expected the whole file, from -----BEGIN … PRIVATE KEY----- to -----END … PRIVATE KEY-----): ${fix}`)
  const kind = m[1]!.trim()
  const passphrase = `${where}: the private key is protected by a passphrase, which nothing can type in CI: store a key without one (ssh-keygen -p -N '' -f KEY on a copy, or a new deploy key), ${fix}`
  const garbage = `${where}: the text between the BEGIN and END lines is not a usable private key (cut short or altered?): ${fix}`
  if (kind === 'OPENSSH') {
    const b64 = m[2]!.replace(/\s+/g, '')
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64)) throw new SshInputError(garbage)
    const problem = opensshProblem(Buffer.from(b64, 'base64'))
    if (problem === 'passphrase') throw new SshInputError(passphrase)
    if (problem) throw new SshInputError(garbage)
    return
  }
  if (kind === 'ENCRYPTED' || /^Proc-Type: 4,ENCRYPTED$/m.test(m[2]!)) throw new SshInputError(passphrase)
  if (!['', 'RSA', 'EC', 'DSA'].includes(kind)) throw new SshInputError(garbage)
  try {
    createPrivateKey({ key, format: 'pem' })
  } catch {
    throw new SshInputError(garbage)
  }
}

/** Key types ssh accepts in known_hosts, certificates' included. */
export const HOST_KEY_TYPES = [
  'ssh-ed25519', 'ssh-rsa', 'ssh-dss', 'ecdsa-sha2-nistp256', 'ecdsa-sha2-nistp384', 'ecdsa-sha2-nistp521',
  'sk-ssh-ed25519@openssh.com', 'sk-ecdsa-sha2-nistp256@openssh.com',
]
const isKeyType = (t: string) => HOST_KEY_TYPES.includes(t) || HOST_KEY_TYPES.some((k) => t === k.replace(/(@openssh\.com)?$/, '-cert-v01@openssh.com'))

const HASHED = /^\|1\|[A-Za-z0-9+/]+={0,2}\|[A-Za-z0-9+/]+={0,2}$/
const PATTERN = /^!?(\[[A-Za-z0-9.:*?_-]+\]:\d{1,5}|[A-Za-z0-9.:*?_-]+)$/

/** Why one known_hosts line is wrong, or undefined. Pure; never returns a piece of the line. */
export function knownHostsLineProblem(line: string): string | undefined {
  if (/PRIVATE KEY|^[A-Za-z0-9+/=]{40,}$/.test(line)) return 'looks like part of a private key, which never goes there (known-hosts takes the servers\' public host keys)'
  const fields = line.split(/\s+/)
  if (fields[0] === '@cert-authority' || fields[0] === '@revoked') fields.shift()
  if (fields.length < 3) return 'is not "host key-type base64-key"'
  const [hosts, type, b64] = fields as [string, string, string]
  if (!HASHED.test(hosts) && !hosts.split(',').every((h) => PATTERN.test(h))) return 'does not start with host names or patterns (host, [host]:port, comma-separated, or a hashed |1|… entry)'
  if (!isKeyType(type)) return `has no known key type in its second field (expected ${HOST_KEY_TYPES.slice(0, 3).join(', ')}…)`
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64)) return 'has a key that is not base64'
  const blob = sshString(Buffer.from(b64, 'base64'), 0)
  if (!blob || blob.value.toString('latin1') !== type) return `has a key that is not a ${type} key`
  return undefined
}

/** Checks known_hosts text line by line; throws one line naming the first bad line by its number. */
export function checkKnownHosts(text: string, where: string, fix: string): void {
  const lines = text.replace(/\r\n/g, '\n').split('\n')
  for (const [i, raw] of lines.entries()) {
    const line = raw.trim()
    if (!line || line.startsWith('#')) continue
    const problem = knownHostsLineProblem(line)
    if (problem) throw new SshInputError(`${where}: line ${i + 1} ${problem}: ${fix}`)
  }
}

// The base image: a debootstrapped Debian tree, built once per (suite, package list) and shared
// read-only as the lower layer of every host's overlay.
import { createHash } from 'node:crypto'
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { runOk } from '../core/exec.ts'
import { withLock } from './lock.ts'
import { removeTree } from './mounts.ts'
import { APT_PROXY_PORT, CACHE_DIR, MIRROR } from './paths.ts'

export const IMAGE_PACKAGES = [
  'systemd', 'systemd-sysv', 'dbus', 'openssh-server', 'python3', 'sudo', 'iproute2', 'ca-certificates',
]
/** Bump when finalize() changes, so cached images built by an older recipe are not reused. */
const RECIPE = 2

export function imageKey(suite: string, packages: readonly string[] = IMAGE_PACKAGES): string {
  const id = JSON.stringify({ suite, variant: 'minbase', packages: [...packages].sort(), recipe: RECIPE })
  return `${suite}-${createHash('sha256').update(id).digest('hex').slice(0, 12)}`
}

/** Returns the image's root directory, building it first if no finished image is cached. */
export async function ensureImage(suite = 'bookworm'): Promise<string> {
  const dir = join(CACHE_DIR, 'images')
  const key = imageKey(suite)
  const final = join(dir, key)
  if (existsSync(final)) return final
  mkdirSync(dir, { recursive: true })
  // Concurrent callers queue on the lock; whoever gets it second finds the image built.
  return withLock(join(dir, `${key}.lock`), async () => {
    if (existsSync(final)) return final
    // Leftovers of builders that died (we hold the lock, so none of them is still building).
    for (const f of readdirSync(dir)) if (f.startsWith(`${key}.tmp-`)) removeTree(join(dir, f))
    const tmp = join(dir, `${key}.tmp-${process.pid}`)
    const include = IMAGE_PACKAGES.join(',')
    process.stderr.write(`lab: building the ${suite} image in ${final} (once; about a minute)\n`)
    try {
      // --pdeathsig: if we die, debootstrap dies too instead of writing on into an abandoned tree.
      await runOk('setpriv', [
        '--pdeathsig', 'KILL', '--', 'debootstrap', '--variant=minbase', `--include=${include}`, suite, tmp, MIRROR,
      ], { timeoutMs: 15 * 60_000 })
      finalize(tmp, suite)
    } catch (e) {
      removeTree(tmp)
      throw e
    }
    renameSync(tmp, final) // atomic: an image under its final name is always complete
    return final
  })
}

/**
 * The image of `suite` with `aptPackages` installed by apt in a copy of it (the controllers' trees:
 * src/lab/controller.ts), cached and built like the image. apt rather than debootstrap: debootstrap
 * cannot resolve every dependency (ansible-core's python3-cryptography), and a copy is faster.
 */
export async function ensureImageWith(suite: string, aptPackages: readonly string[]): Promise<string> {
  const base = await ensureImage(suite)
  const dir = join(CACHE_DIR, 'images')
  const id = JSON.stringify({ base: imageKey(suite), apt: [...aptPackages].sort(), recipe: RECIPE })
  const key = `${imageKey(suite)}-with-${createHash('sha256').update(id).digest('hex').slice(0, 12)}`
  const final = join(dir, key)
  if (existsSync(final)) return final
  return withLock(join(dir, `${key}.lock`), async () => {
    if (existsSync(final)) return final
    for (const f of readdirSync(dir)) if (f.startsWith(`${key}.tmp-`)) removeTree(join(dir, f))
    const tmp = join(dir, `${key}.tmp-${process.pid}`)
    process.stderr.write(`lab: building ${final} (${aptPackages.join(', ')}; once)\n`)
    try {
      await runOk('cp', ['-a', '--reflink=auto', base, tmp], { timeoutMs: 30 * 60_000 })
      await aptInstall(tmp, suite, aptPackages)
    } catch (e) {
      removeTree(tmp)
      throw e
    }
    renameSync(tmp, final)
    return final
  })
}

// In a private mount namespace (the mounts vanish with it). The image's sources.list names
// deb.debian.org: apt reaches it through apt-cacher-ng, as the hosts do. The packages are the
// release's (-t suite), like the debootstrapped image beneath them: -updates and -security would
// also upgrade what the image holds, and a mirror may index security files its pool lacks (bullseye's
// python3-httplib2 +deb11u1 here: "Unable to fetch some archives").
const APT_INSTALL = `set -eu
root=$1 proxy=$2 suite=$3
shift 3
mount -t proc proc "$root/proc"
mount --rbind /dev "$root/dev"
chroot "$root" apt-get -q -o "Acquire::http::Proxy=$proxy" update
DEBIAN_FRONTEND=noninteractive chroot "$root" apt-get -q -y --no-install-recommends -t "$suite" -o "Acquire::http::Proxy=$proxy" install "$@"
chroot "$root" apt-get clean`

async function aptInstall(root: string, suite: string, packages: readonly string[]): Promise<void> {
  await runOk('setpriv', [
    '--pdeathsig', 'KILL', '--', 'unshare', '--mount', '--propagation', 'private', '--',
    'sh', '-c', APT_INSTALL, 'apt-install', root, `http://127.0.0.1:${APT_PROXY_PORT}`, suite, ...packages,
  ], { timeoutMs: 30 * 60_000 })
  rmSync(join(root, 'var/lib/apt/lists'), { recursive: true, force: true })
  mkdirSync(join(root, 'var/lib/apt/lists/partial'), { recursive: true })
}

/** Turns a fresh debootstrap tree into a template: nothing in it may be shared by two hosts. */
export function finalize(root: string, suite: string): void {
  // Hosts see the archive under its real name; their apt proxy setting points it at the cache.
  writeFileSync(
    join(root, 'etc/apt/sources.list'),
    [
      `deb http://deb.debian.org/debian ${suite} main`,
      `deb http://deb.debian.org/debian ${suite}-updates main`,
      `deb http://deb.debian.org/debian-security ${suite}-security main`,
      '',
    ].join('\n'),
  )
  // Host keys and machine-id are made per host, before its first boot.
  for (const f of readdirSync(join(root, 'etc/ssh'))) {
    if (f.startsWith('ssh_host_')) rmSync(join(root, 'etc/ssh', f))
  }
  writeFileSync(join(root, 'etc/machine-id'), '')
  // A lab host is thrown away whole if the machine crashes, so dpkg need not fsync every file it
  // unpacks: installs on a loaded machine take about a tenth less time. The roles never see it.
  writeFileSync(join(root, 'etc/dpkg/dpkg.cfg.d/lab-unsafe-io'), 'force-unsafe-io\n')
  for (const f of readdirSync(join(root, 'var/cache/apt/archives'))) {
    if (f.endsWith('.deb')) rmSync(join(root, 'var/cache/apt/archives', f))
  }
}

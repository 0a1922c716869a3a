// The base image: a debootstrapped Debian tree, built once per (suite, package list) and shared
// read-only as the lower layer of every host's overlay.
import { createHash } from 'node:crypto'
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { runOk } from './exec.ts'
import { withLock } from './lock.ts'
import { removeTree } from './mounts.ts'
import { CACHE_DIR, MIRROR } from './paths.ts'

export const IMAGE_PACKAGES = [
  'systemd', 'systemd-sysv', 'dbus', 'openssh-server', 'python3', 'sudo', 'iproute2', 'ca-certificates',
]
/** Bump when finalize() changes, so cached images built by an older recipe are not reused. */
const RECIPE = 1

export function imageKey(suite: string, packages: readonly string[] = IMAGE_PACKAGES, aptPackages: readonly string[] = []): string {
  const apt = aptPackages.length > 0 ? { apt: [...aptPackages].sort() } : {}
  const id = JSON.stringify({ suite, variant: 'minbase', packages: [...packages].sort(), ...apt, recipe: RECIPE })
  return `${suite}-${createHash('sha256').update(id).digest('hex').slice(0, 12)}`
}

/**
 * Returns the image's root directory, building it first if no finished image is cached. Another
 * package list makes another image (the controllers' trees: src/lab/controller.ts). `aptPackages`
 * are installed by apt inside the tree after debootstrap, which cannot resolve every dependency
 * (virtual packages, alternatives: ansible-core's python3-cryptography is one).
 */
export async function ensureImage(suite = 'bookworm', packages: readonly string[] = IMAGE_PACKAGES, aptPackages: readonly string[] = []): Promise<string> {
  const dir = join(CACHE_DIR, 'images')
  const key = imageKey(suite, packages, aptPackages)
  const final = join(dir, key)
  if (existsSync(final)) return final
  mkdirSync(dir, { recursive: true })
  // Concurrent callers queue on the lock; whoever gets it second finds the image built.
  return withLock(join(dir, `${key}.lock`), async () => {
    if (existsSync(final)) return final
    // Leftovers of builders that died (we hold the lock, so none of them is still building).
    for (const f of readdirSync(dir)) if (f.startsWith(`${key}.tmp-`)) removeTree(join(dir, f))
    const tmp = join(dir, `${key}.tmp-${process.pid}`)
    const include = packages.join(',')
    process.stderr.write(`lab: building the ${suite} image in ${final} (${include}; once, about a minute)\n`)
    try {
      // --pdeathsig: if we die, debootstrap dies too instead of writing on into an abandoned tree.
      await runOk('setpriv', [
        '--pdeathsig', 'KILL', '--', 'debootstrap', '--variant=minbase', `--include=${include}`, suite, tmp, MIRROR,
      ], { timeoutMs: 15 * 60_000 })
      if (aptPackages.length > 0) await aptInstall(tmp, aptPackages)
      finalize(tmp, suite)
    } catch (e) {
      removeTree(tmp)
      throw e
    }
    renameSync(tmp, final) // atomic: an image under its final name is always complete
    return final
  })
}

// In a private mount namespace (the mounts vanish with it); the tree's sources.list still names the
// archive through apt-cacher-ng, as debootstrap wrote it.
const APT_INSTALL = `set -eu
root=$1
shift
mount -t proc proc "$root/proc"
mount --rbind /dev "$root/dev"
chroot "$root" apt-get update -q
DEBIAN_FRONTEND=noninteractive chroot "$root" apt-get install -q -y --no-install-recommends "$@"
chroot "$root" apt-get clean`

async function aptInstall(root: string, packages: readonly string[]): Promise<void> {
  await runOk('setpriv', [
    '--pdeathsig', 'KILL', '--', 'unshare', '--mount', '--propagation', 'private', '--', 'sh', '-c', APT_INSTALL, 'apt-install', root, ...packages,
  ], { timeoutMs: 15 * 60_000 })
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
  for (const f of readdirSync(join(root, 'var/cache/apt/archives'))) {
    if (f.endsWith('.deb')) rmSync(join(root, 'var/cache/apt/archives', f))
  }
}

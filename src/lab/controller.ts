// Ansible controllers other than this machine's: a Debian tree with the distribution's own Ansible
// (built once and cached like the hosts' images), entered with chroot. The chroot shares this
// machine's network, so it reaches the lab's hosts; it sees the repository and the lab directory at
// their own paths, so inventories, keys and known_hosts work unchanged.
import { mkdirSync, mkdtempSync } from 'node:fs'
import { join } from 'node:path'
import { run } from '../core/exec.ts'
import { ensureImageWith } from './image.ts'

export interface CommandLine {
  cmd: string
  args: string[]
}

export interface Controller {
  /** What runs the playbooks, e.g. "bookworm" or a local bin directory. */
  readonly name: string
  /**
   * The command line that runs `cmd args` on this controller. `paths` (absolute directories) are
   * seen there at the same place; `scratch` is a directory of the caller's for the run's own files.
   */
  command(cmd: string, args: readonly string[], ctx: { paths: readonly string[]; scratch: string }): CommandLine
}

/** Debian's own Ansible in each suite: bullseye 2.10 (the `ansible` bundle), bookworm 2.14, trixie 2.19. */
export const DEBIAN_ANSIBLE: Readonly<Record<string, string>> = {
  bullseye: 'ansible',
  bookworm: 'ansible-core',
  trixie: 'ansible-core',
}

/**
 * What apt adds to the suite's host image for a controller tree.
 * passlib: password_hash without Python's crypt module (deprecated, gone in Python 3.13).
 */
export function controllerPackages(suite: string): string[] {
  const ansible = DEBIAN_ANSIBLE[suite]
  if (!ansible) throw new Error(`lab: no controller for suite "${suite}" (suites: ${Object.keys(DEBIAN_ANSIBLE).join(', ')})`)
  return [ansible, 'python3-passlib', 'openssh-client']
}

// Runs as root in a private mount namespace: the mounts vanish with the process, whatever ends it,
// so there is nothing to tear down. Each run gets its own overlay on the cached tree (runs may be
// concurrent, and nothing they write reaches the cache). chroot starts in its root: the command goes
// back to the caller's working directory when it is bound (the repository, for ansible-playbook's
// relative playbooks/… and ansible.cfg), else stays in /.
const ENTER = `set -eu
lower=$1 run=$2 n=$3 cwd=$(pwd)
shift 3
mkdir -p "$run/upper" "$run/work" "$run/root"
mount -t overlay overlay -o "lowerdir=$lower,upperdir=$run/upper,workdir=$run/work" "$run/root"
while [ "$n" -gt 0 ]; do
  mkdir -p "$run/root$1"
  mount --bind "$1" "$run/root$1"
  shift
  n=$((n - 1))
done
mount -t proc proc "$run/root/proc"
mount --rbind /dev "$run/root/dev"
exec chroot "$run/root" sh -c 'cd "$1" 2>/dev/null || cd /; shift; exec "$@"' in-cwd "$cwd" "$@"`

/** The wrapper around `cmd args` that enters `tree` (pure: no I/O but the scratch directory). */
export function chrootCommand(tree: string, cmd: string, args: readonly string[], ctx: { paths: readonly string[]; scratch: string }): CommandLine {
  for (const p of ctx.paths) if (!p.startsWith('/')) throw new Error(`lab: controller path must be absolute: ${p}`)
  mkdirSync(ctx.scratch, { recursive: true })
  const runDir = mkdtempSync(join(ctx.scratch, 'run-'))
  return {
    cmd: 'unshare',
    args: ['--mount', '--propagation', 'private', '--', 'sh', '-c', ENTER, 'enter', tree, runDir, String(ctx.paths.length), ...ctx.paths, cmd, ...args],
  }
}

/** A controller for a Debian suite (its tree built on first use: about a minute, once per machine). */
export async function debianController(suite: string): Promise<Controller> {
  const tree = await ensureImageWith(suite, controllerPackages(suite))
  return {
    name: suite,
    command: (cmd, args, ctx) => chrootCommand(tree, cmd, args, ctx),
  }
}

/** Ansible installed elsewhere on this machine: its bin directory's executables run in place. */
export function localController(binDir: string): Controller {
  return {
    name: binDir,
    command: (cmd, args) => ({ cmd: join(binDir, cmd), args: [...args] }),
  }
}

/** The first line of `ansible --version` on the controller, e.g. "ansible 2.10.8" or "ansible [core 2.19.4]". */
export async function ansibleVersion(controller: Controller, scratch: string): Promise<string> {
  const { cmd, args } = controller.command('ansible', ['--version'], { paths: [], scratch })
  const r = await run(cmd, args, { timeoutMs: 120_000 })
  if (r.code !== 0) throw new Error(`lab: ansible --version on controller ${controller.name} exited ${r.code}: ${r.stderr.trim()}`)
  return r.stdout.split('\n')[0]!.trim()
}

// Throwaway Debian test servers: systemd-nspawn hosts, each in its own network namespace, reachable
// from this machine over SSH. See README.md in this directory for the API and the figures.
import { randomBytes } from 'node:crypto'
import { createWriteStream, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { dirname, isAbsolute, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { run, runOk, type ExecResult } from '../core/exec.ts'
import { ensureImage } from './image.ts'
import { withLock } from './lock.ts'
import { boot, createBridge, createNetns, knownHostsLines, prepareRootfs, tcpOpen, waitReady } from './host.ts'
import { writeInventory } from './inventory.ts'
import { runPlaybook } from '../core/run.ts'
import type { HostStats, PlaybookResult as RunResult } from '../core/results.ts'
import type { Controller } from './controller.ts'
import { procId } from './proc.ts'
import { APT_PROXY_PORT, GLOBAL_LOCK, LABS_DIR } from './paths.ts'
import {
  allocateSlot, loadState, ownerAlive, saveState, sweepOrphans, teardown, usedSlots, slotDir, type LabState,
} from './resources.ts'

/** One host's counts in a run's recap (from the callback plugin, as the action reads them). */
export type HostRecap = HostStats

/** Backend variables for lab hosts, which have no PyPI: the venv sees Debian's Django, gunicorn and psycopg2. */
export const DEBIAN_PYTHON_VARS = {
  backend_venv_system_site_packages: true,
  backend_packages_extra: ['python3-django', 'python3-gunicorn', 'python3-psycopg2'],
} as const
/** A site over plain HTTP on Debian's Python packages: what the role tests deploy after root's login. */
export const PLAIN_SITE_VARS = { ...DEBIAN_PYTHON_VARS, backend_https: false, frontend_tls_enabled: false } as const
export { imageKey, ensureImage } from './image.ts'
export { debianController, localController, ansibleVersion, type Controller } from './controller.ts'

export interface LabHost {
  name: string
  address: string
  gateway: string
  rootfs: string
}

export interface StartOptions {
  /** Host names (lowercase, e.g. ['web1', 'web2']) or a count (web1..webN). */
  hosts: string[] | number
  /** Debian suite of the image. */
  suite?: string
  /** Repository whose inventories/ and playbooks/ are used (default: found above this module). */
  repoRoot?: string
}

export interface SshOptions {
  user?: string
  port?: number
  key?: string
  input?: string
  timeoutMs?: number
}

export interface PlaybookOptions {
  inventory: string
  extraVars?: Record<string, unknown>
  check?: boolean
  diff?: boolean
  tags?: string[]
  limit?: string
  env?: Record<string, string>
  /** Runs ansible-playbook there instead of on this machine (src/lab/controller.ts). */
  controller?: Controller
  /** The fact cache directory (core/run.ts); by default the lab's own, shared by all its runs
   *  (the facts the roles use, distribution, virtualization, CPUs, do not change in a lab's life). */
  factCache?: string
}

export interface PlaybookResult {
  code: number
  output: string
  recap: Record<string, HostRecap>
  /** The run as core's runner reads it: per-task results and timings, failures. */
  result: RunResult<string>
}

const HOST_NAME = /^[a-z][a-z0-9-]{0,30}$/

function findRepoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url))
  while (!existsSync(join(dir, 'ansible.cfg'))) {
    const up = dirname(dir)
    if (up === dir) throw new Error('lab: no ansible.cfg above src/lab: pass repoRoot')
    dir = up
  }
  return dir
}

export class Lab {
  readonly hosts: LabHost[]
  readonly dir: string
  readonly slot: number
  readonly rootKey: string
  readonly keys: { admin: string; deploy: string }
  readonly knownHosts: string
  readonly repoRoot: string
  private playbookRuns = 0
  private inventories = 0

  constructor(private readonly state: LabState, repoRoot: string) {
    this.repoRoot = repoRoot
    this.dir = state.dir
    this.slot = state.slot
    this.hosts = state.hosts.map((h) => ({ name: h.name, address: h.address, gateway: state.gateway, rootfs: h.merged }))
    this.rootKey = join(state.dir, 'keys/root')
    this.keys = { admin: join(state.dir, 'keys/admin'), deploy: join(state.dir, 'keys/deploy') }
    this.knownHosts = join(state.dir, 'known_hosts')
  }

  /** Inventory variables that log in as root on port 22, as on a fresh server before bootstrap. */
  get rootLogin(): { ansible_user: string; ansible_port: number; ansible_ssh_private_key_file: string } {
    return { ansible_user: 'root', ansible_port: 22, ansible_ssh_private_key_file: this.rootKey }
  }

  host(name: string | LabHost): LabHost {
    if (typeof name !== 'string') return name
    const h = this.hosts.find((x) => x.name === name)
    if (!h) throw new Error(`lab has no host "${name}" (hosts: ${this.hosts.map((x) => x.name).join(', ')})`)
    return h
  }

  /** Runs `cmd` on the host over SSH, host key strictly checked against the lab's known_hosts. */
  ssh(host: string | LabHost, cmd: string, opts: SshOptions = {}): Promise<ExecResult> {
    const h = this.host(host)
    return run('ssh', [
      '-F', '/dev/null',
      '-i', opts.key ?? this.rootKey,
      '-o', 'IdentitiesOnly=yes',
      '-o', 'BatchMode=yes',
      '-o', 'StrictHostKeyChecking=yes',
      '-o', `UserKnownHostsFile=${this.knownHosts}`,
      '-o', 'GlobalKnownHostsFile=/dev/null',
      '-o', 'ConnectTimeout=5',
      '-o', 'LogLevel=ERROR',
      '-p', String(opts.port ?? 22),
      '-l', opts.user ?? 'root',
      h.address, '--', cmd,
    ], { input: opts.input, timeoutMs: opts.timeoutMs ?? 300_000 })
  }

  /**
   * Takes the host's link on the lab bridge down (the server unreachable: connections time out, as
   * when a cloud server's network is cut) or back up. The host keeps running.
   */
  async setLink(host: string | LabHost, up: boolean): Promise<void> {
    const name = this.host(host).name
    const veth = this.state.hosts.find((h) => h.name === name)!.veth
    const r = await run('ip', ['link', 'set', veth, up ? 'up' : 'down'])
    if (r.code !== 0) throw new Error(`ip link set ${veth} ${up ? 'up' : 'down'}: ${r.stderr.trim()}`)
  }

  tcpOpen(host: string | LabHost, port: number): Promise<boolean> {
    return tcpOpen(this.host(host).address, port)
  }

  /** Writes an inventory (production vars + lab defaults + `vars`; vault encrypted) and returns its dir. */
  writeInventory(opts: { vars?: Record<string, unknown>; vault?: Record<string, unknown>; name?: string; groups?: Record<string, string[]>; hardening?: 'role' | 'lab' } = {}): Promise<string> {
    const name = opts.name ?? `inventory${++this.inventories}`
    if (!/^[\w.-]+$/.test(name)) throw new Error(`inventory name "${name}": use letters, digits, . _ -`)
    return writeInventory({
      repoRoot: this.repoRoot,
      dir: join(this.dir, 'inventories', name),
      hosts: this.hosts,
      keys: { root: this.rootKey, ...this.keys },
      knownHosts: this.knownHosts,
      controlPathDir: join(this.dir, 'cp'),
      vars: opts.vars ?? {},
      vault: opts.vault ?? {},
      ...(opts.groups ? { groups: opts.groups } : {}),
      ...(opts.hardening ? { hardening: opts.hardening } : {}),
    })
  }

  /** Runs playbooks/<playbook>.yml (or a path) from the repository root against an inventory. */
  async runPlaybook(playbook: string, opts: PlaybookOptions): Promise<PlaybookResult> {
    const vaultKey = join(opts.inventory, 'vault.key')
    const env = {
      ANSIBLE_CONFIG: join(this.repoRoot, 'ansible.cfg'),
      // The lab's inventory brings its own key; the variable also overrides any key file an ansible.cfg names.
      ANSIBLE_VAULT_PASSWORD_FILE: vaultKey,
      ANSIBLE_FORCE_COLOR: '0',
      ANSIBLE_NOCOLOR: '1',
      ANSIBLE_SSH_CONTROL_PATH_DIR: join(this.dir, 'cp'),
      ANSIBLE_LOCAL_TEMP: join(this.dir, 'ansible-tmp'),
      ...opts.env,
    }
    mkdirSync(join(this.dir, 'cp'), { recursive: true, mode: 0o700 })
    mkdirSync(join(this.dir, 'logs'), { recursive: true })
    const log = createWriteStream(join(this.dir, 'logs', `${++this.playbookRuns}-${playbook.replace(/\W+/g, '_')}.log`))
    const chunks: Buffer[] = []
    const result = await runPlaybook(playbook, {
      cwd: this.repoRoot,
      ansiblePlaybook: 'ansible-playbook',
      inventory: opts.inventory,
      check: opts.check,
      diff: opts.diff,
      tags: opts.tags,
      limit: opts.limit,
      extraVars: opts.extraVars ? JSON.stringify(opts.extraVars) : undefined,
      env,
      resultsDir: this.dir,
      factCacheDir: opts.factCache ?? join(this.dir, 'facts'),
      wrap: opts.controller
        ? (cmd, args) => opts.controller!.command(cmd, args, { paths: [this.repoRoot, this.dir], scratch: join(this.dir, 'controller') })
        : undefined,
    }, (b) => {
      chunks.push(b)
      log.write(b)
    })
    await new Promise<void>((done) => log.end(done))
    return { code: result.exitCode, output: Buffer.concat(chunks).toString('utf8'), recap: result.hosts, result }
  }

  /** Powers the hosts off and removes every trace (processes, mounts, netns, links, files, slot). */
  async destroy(): Promise<void> {
    if (!live.has(this.state)) return
    teardown(this.state)
    live.delete(this.state)
  }
}

/** Labs owned by this process, torn down on exit, on SIGINT/SIGTERM and on uncaught exceptions. */
const live = new Set<LabState>()
let handlersInstalled = false

function teardownAll(): void {
  for (const s of live) {
    try {
      teardown(s)
    } catch (e) {
      process.stderr.write(`lab: teardown of slot ${s.slot} failed: ${(e as Error).message}\n`)
    }
    live.delete(s)
  }
}

function installHandlers(): void {
  if (handlersInstalled) return
  handlersInstalled = true
  process.on('exit', teardownAll)
  // An uncaught exception ends the process without 'exit' handlers, unless someone handles it
  // (node:test does, and goes on with the next test: its labs must stay up).
  process.on('uncaughtExceptionMonitor', () => {
    if (process.listenerCount('uncaughtException') === 0) teardownAll()
  })
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    const handler = () => {
      teardownAll()
      // Others listening (a test runner, the CLI) decide what happens next; alone, die of it.
      if (process.listenerCount(sig) === 1) {
        process.removeListener(sig, handler)
        process.kill(process.pid, sig)
      }
    }
    process.on(sig, handler)
  }
}

/** Tears down labs whose owning process is dead (killed -9, crashed before its handlers ran). */
export async function cleanupStale(): Promise<number> {
  return withLock(GLOBAL_LOCK, async () => cleanupStaleLocked())
}

function cleanupStaleLocked(): number {
  let n = 0
  for (const slot of usedSlots()) {
    const state = loadState(slot)
    if (!state) {
      rmSync(slotDir(slot), { recursive: true, force: true }) // crashed before its first write
      continue
    }
    if (ownerAlive(state)) continue
    teardown(state)
    n++
  }
  sweepOrphans()
  return n
}

function hostNames(hosts: string[] | number): string[] {
  const names = typeof hosts === 'number' ? Array.from({ length: hosts }, (_, i) => `web${i + 1}`) : hosts
  if (names.length < 1 || names.length > 250) throw new Error(`lab: between 1 and 250 hosts, got ${names.length}`)
  for (const n of names) if (!HOST_NAME.test(n)) throw new Error(`lab: bad host name "${n}" (expected ${HOST_NAME})`)
  if (new Set(names).size !== names.length) throw new Error(`lab: duplicate host names in ${names.join(', ')}`)
  return names
}

async function genKey(file: string, comment: string): Promise<void> {
  await runOk('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', comment, '-f', file])
}

export async function startLab(opts: StartOptions): Promise<Lab> {
  const names = hostNames(opts.hosts)
  const repoRoot = opts.repoRoot ?? findRepoRoot()
  if (!isAbsolute(repoRoot)) throw new Error(`lab: repoRoot must be absolute: ${repoRoot}`)
  if (process.getuid?.() !== 0) throw new Error('lab: test servers need root (network namespaces, mounts, systemd-nspawn)')
  if (!(await tcpOpen('127.0.0.1', APT_PROXY_PORT))) {
    throw new Error(`lab: apt-cacher-ng does not answer on 127.0.0.1:${APT_PROXY_PORT}: run scripts/setup.sh`)
  }
  installHandlers()
  const image = await ensureImage(opts.suite ?? 'bookworm')
  const owner = procId(process.pid)!
  const state = await withLock(GLOBAL_LOCK, async () => {
    cleanupStaleLocked()
    return allocateSlot(owner, (slot) => join(LABS_DIR, `${slot}-${randomBytes(3).toString('hex')}`))
  })
  live.add(state)
  try {
    state.hosts = names.map((name, i) => ({
      name,
      index: i,
      address: state.gateway.replace(/\.1$/, `.${i + 2}`),
      netns: `dad${state.slot}-${i}`,
      veth: `dad${state.slot}h${i}`,
      merged: join(state.dir, 'hosts', name, 'merged'),
    }))
    saveState(state) // before creating anything: a crash from here on leaves a complete record
    mkdirSync(join(state.dir, 'keys'), { recursive: true, mode: 0o700 })
    mkdirSync(join(state.dir, 'cp'), { recursive: true, mode: 0o700 })
    const lab = new Lab(state, repoRoot)
    await Promise.all([
      genKey(lab.rootKey, `lab${state.slot}-root`),
      genKey(lab.keys.admin, `lab${state.slot}-admin`),
      genKey(lab.keys.deploy, `lab${state.slot}-deploy`),
    ])
    await createBridge(state)
    // apt-cacher-ng must answer on the gateway address, not only on loopback.
    if (!(await tcpOpen(state.gateway, APT_PROXY_PORT))) {
      throw new Error(`lab: apt-cacher-ng does not listen on ${state.gateway}:${APT_PROXY_PORT} (check BindAddress in /etc/apt-cacher-ng/acng.conf)`)
    }
    const rootPub = (await runOk('ssh-keygen', ['-y', '-f', lab.rootKey])).stdout
    await Promise.all(state.hosts.map(async (h) => {
      await createNetns(state, h)
      await prepareRootfs(image, state, h, rootPub)
    }))
    writeFileSync(lab.knownHosts, state.hosts.flatMap(knownHostsLines).join('\n') + '\n')
    for (const h of state.hosts) boot(state, h)
    saveState(state)
    await Promise.all(state.hosts.map((h) => waitReady(state, h, (cmd) => lab.ssh(h.name, cmd, { timeoutMs: 60_000 }))))
    return lab
  } catch (e) {
    teardown(state)
    live.delete(state)
    throw e
  }
}

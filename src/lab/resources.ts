// A lab's resources, recorded in /run before each is created, so that whoever tears it down (its
// owner, a signal handler, or cleanupStale() in a later process) finds everything, and nothing else.
import { mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync, existsSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import { runSync } from '../core/exec.ts'
import { sleepSync } from './wait.ts'
import { isAlive, signal, type ProcId } from './proc.ts'
import { removeTree, umountUnder } from './mounts.ts'
import { LABS_DIR, SLOTS_DIR } from './paths.ts'

export interface HostState {
  name: string
  index: number
  address: string
  netns: string
  veth: string
  merged: string
  nspawn?: ProcId
}

export interface LabState {
  slot: number
  owner: ProcId
  dir: string
  bridge: string
  gateway: string
  hosts: HostState[]
  /** Set when teardown starts: a host that reboots now stays down. */
  destroyed?: boolean
}

/** 198.18.0.0/15 holds 512 /24s; slot 0 is left out (it is the range's well-known example). */
export const MAX_SLOT = 511

export function slotDir(slot: number): string {
  return join(SLOTS_DIR, String(slot))
}

export function saveState(state: LabState): void {
  const file = join(slotDir(state.slot), 'state.json')
  writeFileSync(`${file}.tmp`, JSON.stringify(state, null, 2))
  renameSync(`${file}.tmp`, file)
}

export function loadState(slot: number): LabState | undefined {
  try {
    return JSON.parse(readFileSync(join(slotDir(slot), 'state.json'), 'utf8')) as LabState
  } catch {
    return undefined
  }
}

export function usedSlots(): number[] {
  if (!existsSync(SLOTS_DIR)) return []
  return readdirSync(SLOTS_DIR)
    .filter((n) => /^\d+$/.test(n))
    .map(Number)
}

/** Takes the lowest free slot. Call under the global lock (cleanupStale() has run just before). */
export function allocateSlot(owner: ProcId, dirFor: (slot: number) => string): LabState {
  mkdirSync(SLOTS_DIR, { recursive: true })
  const used = new Set(usedSlots())
  for (let slot = 1; slot <= MAX_SLOT; slot++) {
    if (used.has(slot)) continue
    mkdirSync(slotDir(slot)) // throws EEXIST if someone ignored the lock: better than sharing
    const third = slot % 256
    const second = 18 + Math.floor(slot / 256)
    const state: LabState = {
      slot,
      owner,
      dir: dirFor(slot),
      bridge: `dadbr${slot}`,
      gateway: `198.${second}.${third}.1`,
      hosts: [],
    }
    saveState(state)
    return state
  }
  throw new Error(`no free lab slot: ${MAX_SLOT} labs are running (see ${SLOTS_DIR})`)
}

export function ownerAlive(state: LabState): boolean {
  return isAlive(state.owner)
}

function netnsPids(netns: string): number[] {
  const r = runSync('ip', ['netns', 'pids', netns])
  return r.code === 0 ? r.stdout.split(/\s+/).filter(Boolean).map(Number) : []
}

function killNetns(netns: string): void {
  for (const pid of netnsPids(netns)) {
    try {
      process.kill(pid, 'SIGKILL')
    } catch {
      // already gone
    }
  }
}

function waitUntil(done: () => boolean, ms: number): boolean {
  const end = Date.now() + ms
  while (!done()) {
    if (Date.now() > end) return false
    sleepSync(50)
  }
  return true
}

/**
 * Tears a lab down completely, synchronously (so it also runs from 'exit' handlers). Idempotent:
 * every step tolerates a resource that is already gone.
 */
export function teardown(state: LabState, graceMs = 5000): void {
  state.destroyed = true
  // A clean poweroff first (systemd-nspawn turns SIGTERM into one), everything killed after.
  for (const h of state.hosts) signal(h.nspawn, 'SIGTERM')
  waitUntil(() => state.hosts.every((h) => !isAlive(h.nspawn)), graceMs)
  for (const h of state.hosts) {
    if (isAlive(h.nspawn)) signal(h.nspawn, 'SIGKILL')
    killNetns(h.netns) // the container's init: killing it ends its whole PID namespace
  }
  waitUntil(() => state.hosts.every((h) => !isAlive(h.nspawn) && netnsPids(h.netns).length === 0), 5000)
  closeControlMasters(join(state.dir, 'cp'))
  for (const h of state.hosts) {
    umountUnder(h.merged)
    runSync('ip', ['netns', 'delete', h.netns])
    runSync('ip', ['link', 'delete', h.veth])
  }
  runSync('ip', ['link', 'delete', state.bridge])
  // The state file names the directory to delete: only ever a lab directory, whatever it says.
  if (!/\/\d+-[0-9a-f]{6}$/.test(state.dir)) throw new Error(`lab: refusing to delete ${state.dir}: not a lab directory`)
  removeTree(state.dir)
  releaseSlot(state.slot)
}

/** Ansible's persistent SSH masters would otherwise linger for ControlPersist seconds. */
function closeControlMasters(cpDir: string): void {
  if (!existsSync(cpDir)) return
  for (const sock of readdirSync(cpDir)) {
    runSync('ssh', ['-o', `ControlPath=${join(cpDir, sock)}`, '-O', 'exit', 'lab'])
  }
}

function releaseSlot(slot: number): void {
  // Rename first: the slot is free at once, and a half-deleted directory never looks like a slot.
  const gone = join(SLOTS_DIR, `.released-${slot}-${randomBytes(4).toString('hex')}`)
  try {
    renameSync(slotDir(slot), gone)
  } catch {
    return
  }
  rmSync(gone, { recursive: true, force: true })
}

/**
 * Removes lab resources that no slot accounts for (the registry in /run was deleted by hand, or a
 * teardown failed half-way). Call under the global lock, after stale labs were torn down.
 */
export function sweepOrphans(): void {
  const used = new Set(usedSlots())
  const states = [...used].map(loadState)
  const orphan = (slot: string | undefined) => slot !== undefined && !used.has(Number(slot))
  for (const line of runSync('ip', ['netns', 'list']).stdout.split('\n')) {
    const m = /^(dad(\d+)-\d+)\b/.exec(line)
    if (!m || !orphan(m[2])) continue
    killNetns(m[1]!)
    runSync('ip', ['netns', 'delete', m[1]!])
  }
  for (const line of runSync('ip', ['-o', 'link', 'show', 'type', 'bridge']).stdout.split('\n')) {
    const m = /^\d+: (dadbr(\d+)):/.exec(line)
    if (m && orphan(m[2])) runSync('ip', ['link', 'delete', m[1]!])
  }
  if (!existsSync(LABS_DIR)) return
  for (const name of readdirSync(LABS_DIR)) {
    const dir = join(LABS_DIR, name)
    if (/^\d+-[0-9a-f]{6}$/.test(name) && !states.some((s) => s?.dir === dir)) removeTree(dir)
  }
}

// Changed paths for each kind of event, through git. Shallow clones are deepened as needed; a
// range that cannot be resolved is reported as such (the plan then takes its safe fallback).
// Git sits behind a small interface so the decisions are tested without a repository.
import { short } from '../format.ts'
import { childEnv, run } from '../exec.ts'
import type { Head } from './types.ts'

/** What the event gave us: a diff, no diff at all (dispatch, schedule), or a range we could not resolve. */
export type ChangeSet =
  | { kind: 'diff'; description: string; base: string; head: string; paths: string[]; notes?: string[] }
  | { kind: 'none'; description: string }
  | { kind: 'unresolved'; description: string; reason: string }

export interface GitResult { code: number; stdout: string; stderr: string }

export interface Git {
  run(args: string[]): Promise<GitResult>
}

/** Runs git in `cwd` (argument arrays only, no shell). `log` receives each command line run. */
export function gitIn(cwd: string, log?: (line: string) => void): Git {
  return {
    run(args) {
      log?.(`git ${args.join(' ')}`)
      const env = childEnv({ GIT_TERMINAL_PROMPT: '0', LC_ALL: 'C' })
      return run('git', args, { cwd, env }).catch((e: Error) => ({ code: 127, stdout: '', stderr: e.message }))
    },
  }
}

/**
 * Git reports paths from the repository's top; a plan works inside `prefix` (a working directory
 * below the top, as `git rev-parse --show-prefix` prints it): the paths under it, relative to it,
 * and those elsewhere (they trigger nothing).
 */
export function splitByPrefix(paths: string[], prefix: string): { inside: string[]; outside: string[] } {
  const p = prefix.replace(/^\/+|\/+$/g, '')
  if (p === '') return { inside: paths, outside: [] }
  const inside: string[] = []
  const outside: string[] = []
  for (const path of paths) {
    if (path.startsWith(`${p}/`)) inside.push(path.slice(p.length + 1))
    else outside.push(path)
  }
  return { inside, outside }
}

export const ZERO_SHA = /^0+$/
const SHA = /^[0-9a-f]{40}([0-9a-f]{24})?$/

/** How far to deepen a shallow clone, step by step, before fetching the whole history. */
export const DEEPEN_STEPS = [50, 200, 1000]

export interface EventInfo {
  name: string
  payload: Record<string, unknown>
}

export interface ChangeOptions {
  /** The remote to fetch missing commits from. */
  remote?: string
}

const obj = (v: unknown): Record<string, unknown> => (typeof v === 'object' && v !== null ? v as Record<string, unknown> : {})
const s = (v: unknown): string => (typeof v === 'string' ? v : '')

class Repo {
  constructor(private readonly git: Git, private readonly remote: string) {}

  async ok(args: string[]): Promise<boolean> {
    return (await this.git.run(args)).code === 0
  }

  async out(args: string[]): Promise<string | undefined> {
    const r = await this.git.run(args)
    return r.code === 0 ? r.stdout.trim() : undefined
  }

  hasCommit(sha: string): Promise<boolean> {
    return this.ok(['cat-file', '-e', `${sha}^{commit}`])
  }

  /** Makes sure the commit is here, fetching it by id when a shallow or partial clone lacks it. */
  async ensureCommit(sha: string): Promise<boolean> {
    if (await this.hasCommit(sha)) return true
    await this.git.run(['fetch', '--no-tags', '--quiet', '--depth=1', this.remote, sha])
    return this.hasCommit(sha)
  }

  async isShallow(): Promise<boolean> {
    return (await this.out(['rev-parse', '--is-shallow-repository'])) === 'true'
  }

  /** The merge base of a and b, deepening a shallow clone until it appears (or history ends). */
  async mergeBase(a: string, b: string): Promise<string | undefined> {
    const found = await this.out(['merge-base', a, b])
    if (found) return found
    for (const depth of DEEPEN_STEPS) {
      if (!(await this.isShallow())) return undefined
      await this.git.run(['fetch', '--no-tags', '--quiet', `--deepen=${depth}`, this.remote, a, b])
      const mb = await this.out(['merge-base', a, b])
      if (mb) return mb
    }
    if (await this.isShallow()) {
      await this.git.run(['fetch', '--no-tags', '--quiet', '--unshallow', this.remote])
      return this.out(['merge-base', a, b])
    }
    return undefined
  }

  /** Is `a` an ancestor of `b`? Deepens first, since a cut history answers "no" for anything. */
  async isAncestor(a: string, b: string): Promise<boolean> {
    const mb = await this.mergeBase(a, b)
    return mb === a
  }

  /** Paths changed between two commits; a rename counts as both its paths, a deletion counts. */
  async diff(base: string, head: string): Promise<string[] | undefined> {
    const r = await this.git.run(['diff', '--name-only', '--no-renames', '-z', base, head, '--'])
    if (r.code !== 0) return undefined
    return r.stdout.split('\0').filter(Boolean)
  }

  /** Resolves a remote branch to a commit, fetching it (shallow) when needed. */
  async remoteBranch(branch: string): Promise<string | undefined> {
    const ref = `refs/remotes/${this.remote}/${branch}`
    const here = await this.out(['rev-parse', '--verify', '--quiet', `${ref}^{commit}`])
    if (here) return here
    await this.git.run(['fetch', '--no-tags', '--quiet', '--depth=1', this.remote, `+refs/heads/${branch}:${ref}`])
    return this.out(['rev-parse', '--verify', '--quiet', `${ref}^{commit}`])
  }
}

async function diffSet(repo: Repo, description: string, base: string, head: string, notes: string[] = []): Promise<ChangeSet> {
  const paths = await repo.diff(base, head)
  if (!paths) return { kind: 'unresolved', description, reason: `git could not compare ${short(base)} with ${short(head)}` }
  return { kind: 'diff', description: `${description} ${short(base)}..${short(head)} (${paths.length} changed path${paths.length === 1 ? '' : 's'})`, base, head, paths, notes }
}

async function pushChanges(repo: Repo, payload: Record<string, unknown>): Promise<ChangeSet> {
  const before = s(payload.before)
  const after = s(payload.after)
  const ref = s(payload.ref)
  const branch = ref.replace(/^refs\/heads\//, '')
  const defaultBranch = s(obj(payload.repository).default_branch)
  if (payload.deleted === true || ZERO_SHA.test(after)) {
    // Nothing new to deploy: an empty diff plans nothing (a fallback would run everything).
    return { kind: 'diff', description: `push deleting ${ref || 'a ref'} (0 changed paths)`, base: before, head: after, paths: [], notes: [`${ref || 'The ref'} was deleted: there is nothing to deploy.`] }
  }
  if (!SHA.test(after)) return { kind: 'unresolved', description: 'push', reason: 'the event has no "after" commit' }
  if (!(await repo.ensureCommit(after))) return { kind: 'unresolved', description: 'push', reason: `commit ${short(after)} cannot be fetched` }

  if (!before || ZERO_SHA.test(before)) {
    // A new branch: compare with where it left the default branch, when there is one to compare with.
    if (!defaultBranch || defaultBranch === branch) {
      return { kind: 'unresolved', description: 'push of a new branch', reason: 'there is no earlier commit to compare with' }
    }
    const tip = await repo.remoteBranch(defaultBranch)
    const mb = tip ? await repo.mergeBase(tip, after) : undefined
    if (!mb) {
      return { kind: 'unresolved', description: 'push of a new branch', reason: `no common ancestor with ${defaultBranch} was found` }
    }
    return diffSet(repo, `push of new branch ${branch} from ${defaultBranch} at`, mb, after)
  }
  if (!SHA.test(before)) return { kind: 'unresolved', description: 'push', reason: `"before" is not a commit id: "${before}"` }
  if (!(await repo.ensureCommit(before))) {
    return { kind: 'unresolved', description: 'push', reason: `the previous tip ${short(before)} is no longer available (force push of a rewritten history?)` }
  }
  // A force push replaces history: compare with what both histories share, not the old tip.
  // GitHub says so in `forced`; without it, ask git (which may deepen a shallow clone).
  if (payload.forced === true || (payload.forced !== false && !(await repo.isAncestor(before, after)))) {
    const mb = await repo.mergeBase(before, after)
    if (!mb) return { kind: 'unresolved', description: 'force push', reason: `${short(before)} and ${short(after)} share no history` }
    return diffSet(repo, 'force push, since the common ancestor', mb, after, [
      `Force push: compared ${short(mb)} (shared by the old tip ${short(before)} and the new one) with ${short(after)}.`,
    ])
  }
  return diffSet(repo, 'push', before, after)
}

async function pullRequestChanges(repo: Repo, payload: Record<string, unknown>, name: string): Promise<ChangeSet> {
  const pr = obj(payload.pull_request)
  const base = s(obj(pr.base).sha)
  const head = s(obj(pr.head).sha)
  const description = `${name} #${String(payload.number ?? pr.number ?? '?')}`
  if (!SHA.test(base) || !SHA.test(head)) return { kind: 'unresolved', description, reason: 'the event has no base or head commit' }
  for (const c of [base, head]) {
    if (!(await repo.ensureCommit(c))) return { kind: 'unresolved', description, reason: `commit ${short(c)} cannot be fetched` }
  }
  const mb = await repo.mergeBase(base, head)
  if (!mb) return { kind: 'unresolved', description, reason: `${short(base)} and ${short(head)} share no history` }
  return diffSet(repo, `${description}, merge base`, mb, head)
}

/** What changed for this event: a diff, no diff (dispatch, schedule…), or unresolved with the reason. */
export async function changesForEvent(git: Git, event: EventInfo, opts: ChangeOptions = {}): Promise<ChangeSet> {
  const repo = new Repo(git, opts.remote ?? 'origin')
  switch (event.name) {
    case 'push':
      return pushChanges(repo, event.payload)
    case 'pull_request':
    case 'pull_request_target':
      return pullRequestChanges(repo, event.payload, event.name)
    default:
      return { kind: 'none', description: event.name || 'this event' }
  }
}

/** Paths changed between two refs (`to` defaults to HEAD), for the CLI. */
export async function changesBetween(git: Git, from: string, to = 'HEAD'): Promise<ChangeSet> {
  const repo = new Repo(git, 'origin')
  const a = await repo.out(['rev-parse', '--verify', '--quiet', `${from}^{commit}`])
  const b = await repo.out(['rev-parse', '--verify', '--quiet', `${to}^{commit}`])
  if (!a) return { kind: 'unresolved', description: `${from}..${to}`, reason: `"${from}" is not a commit here` }
  if (!b) return { kind: 'unresolved', description: `${from}..${to}`, reason: `"${to}" is not a commit here` }
  return diffSet(repo, `${from}..${to}:`, a, b)
}

/** Uncommitted changes (staged, unstaged, untracked) against HEAD, for the CLI. */
export async function changesInWorkingTree(git: Git): Promise<ChangeSet> {
  const description = 'working tree against HEAD'
  const tracked = await git.run(['diff', '--name-only', '--no-renames', '-z', 'HEAD', '--'])
  if (tracked.code !== 0) return { kind: 'unresolved', description, reason: tracked.stderr.trim().split('\n')[0] || 'git diff failed' }
  const untracked = await git.run(['ls-files', '--others', '--exclude-standard', '-z'])
  const paths = [...new Set([...tracked.stdout.split('\0'), ...untracked.stdout.split('\0')].filter(Boolean))]
  return { kind: 'diff', description: `${description} (${paths.length} changed path${paths.length === 1 ? '' : 's'})`, base: 'HEAD', head: 'working tree', paths }
}

/**
 * Paths that differ between `since` (a commit a host recorded) and HEAD, or the working tree: a tree
 * diff, so commits dropped by a force push count too. A shallow clone fetches `since` first;
 * undefined when git cannot find it (a rewritten history that no longer holds it).
 */
export async function changedSince(git: Git, since: string, opts: { workingTree?: boolean; remote?: string } = {}): Promise<string[] | undefined> {
  const repo = new Repo(git, opts.remote ?? 'origin')
  if (!SHA.test(since) || !(await repo.ensureCommit(since))) return undefined
  if (!opts.workingTree) return repo.diff(since, 'HEAD')
  const tracked = await git.run(['diff', '--name-only', '--no-renames', '-z', since, '--'])
  if (tracked.code !== 0) return undefined
  const untracked = await git.run(['ls-files', '--others', '--exclude-standard', '-z'])
  return [...new Set([...tracked.stdout.split('\0'), ...untracked.stdout.split('\0')].filter(Boolean))]
}

/** Where an automatic plan's changes come from when there is no deploy state to plan from. */
export type ChangeSource =
  | { kind: 'event'; event: EventInfo }
  | { kind: 'range'; from: string; to?: string }
  | { kind: 'working tree' }
  | { kind: 'none'; description: string }

/** What planning asks git, answered in one visit. */
export interface GitView {
  /** The working directory below the repository's top (`git rev-parse --show-prefix`). */
  prefix: string
  head: Head
  /** Paths changed since each recorded commit, relative to the working directory; undefined: unknown here. */
  changedSince: Record<string, string[] | undefined>
  /** The source's changes (paths as git reports them, from the top), when asked for. */
  changes?: ChangeSet
}

export interface GitQuestions {
  /** Deploys the working tree (the CLI), not only HEAD. */
  workingTree: boolean
  /** Commits the hosts recorded: each one's changes up to what is deployed. */
  recorded?: string[]
  source?: ChangeSource
}

async function changesOf(git: Git, source: ChangeSource): Promise<ChangeSet> {
  switch (source.kind) {
    case 'event': return changesForEvent(git, source.event)
    case 'range': return changesBetween(git, source.from, source.to)
    case 'working tree': return changesInWorkingTree(git)
    case 'none': return { kind: 'none', description: source.description }
  }
}

export async function askGit(git: Git, q: GitQuestions): Promise<GitView> {
  const prefix = (await git.run(['rev-parse', '--show-prefix'])).stdout.trim()
  const commit = (await git.run(['rev-parse', 'HEAD'])).stdout.trim()
  const dirty = q.workingTree && (await git.run(['status', '--porcelain', '--untracked-files=normal'])).stdout.trim() !== ''
  const head = { commit, dirty }
  const changed: Record<string, string[] | undefined> = {}
  for (const c of new Set(q.recorded ?? [])) {
    if (c === commit && !dirty) continue
    const paths = await changedSince(git, c, { workingTree: dirty })
    changed[c] = paths && splitByPrefix(paths, prefix).inside
  }
  return { prefix, head, changedSince: changed, ...(q.source ? { changes: await changesOf(git, q.source) } : {}) }
}

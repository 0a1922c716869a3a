// The deploy state each server keeps (roles/deploy_state writes it after each playbook) and the plan
// it leads to: a playbook runs on a push when a path that triggers it changed since the revision a
// host recorded for it, or when a host has no record. Pure: states and changed paths in, a Plan out.
import type { ChangeSet } from './changes.ts'
import { classifier, planExplicit, type DeployRecord, type HostPlan, type HostPlaybook, type Plan, type PlaybookDecision, type Trigger } from './plan.ts'
import type { PlanConfig } from './plan-config.ts'
import { PLAYBOOKS, isPlaybook, type Playbook } from './playbooks.ts'
import type { RepoModel } from './repo.ts'

/** Where servers keep the state (root-owned), one file per copy of the template. */
export const STATE_DIR = '/var/lib/django-deploy'
/** The state file, as Ansible templates it for each host. */
export const STATE_FILE = `${STATE_DIR}/{{ organization_slug }}-{{ project_slug }}.json`
/** The backup record the backup role writes beside it. */
export const BACKUP_FILE = `${STATE_DIR}/{{ organization_slug }}-{{ project_slug }}.backup.json`

export type { DeployRecord, HostPlan, HostPlaybook } from './plan.ts'

export type Records = Partial<Record<Playbook, DeployRecord>>

/** What the state read found on one host. */
export interface HostState {
  host: string
  /** read: the host answered (records may be empty: no state yet); unreachable; unreadable: it answered but the file is not valid. */
  status: 'read' | 'unreachable' | 'unreadable'
  records: Records
  message?: string
}

/** The whole read: per host, or why nothing could be read at all. */
export type StateRead =
  | { ok: true; hosts: HostState[]; durationMs: number }
  | { ok: false; reason: string; durationMs: number }

/** The extra variables a real run passes so the hosts record it (never in check mode). */
export interface RunIdentity { commit: string; dirty: boolean; run: string }

export function stateVars(id: RunIdentity): Record<string, string | boolean> {
  return { deploy_state_commit: id.commit, deploy_state_dirty: id.dirty, deploy_state_run: id.run }
}

/** Who runs this: the GitHub run's URL when there is one, otherwise user@machine. */
export function runName(env: NodeJS.ProcessEnv, userAtHost: string): string {
  if (env.GITHUB_SERVER_URL && env.GITHUB_REPOSITORY && env.GITHUB_RUN_ID) {
    return `${env.GITHUB_SERVER_URL}/${env.GITHUB_REPOSITORY}/actions/runs/${env.GITHUB_RUN_ID}`
  }
  return userAtHost
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)

/** Parses a state file; throws on anything that is not the role's format. */
export function parseStateFile(text: string): Records {
  const doc: unknown = JSON.parse(text)
  if (!isObj(doc) || !isObj(doc.playbooks)) throw new Error('not a deploy state (expected {"version": 1, "playbooks": {…}})')
  const out: Records = {}
  for (const [name, r] of Object.entries(doc.playbooks)) {
    if (!isPlaybook(name) || !isObj(r) || typeof r.commit !== 'string' || !r.commit) continue
    out[name] = {
      commit: r.commit,
      finished: typeof r.finished === 'string' ? r.finished : '',
      run: typeof r.run === 'string' ? r.run : '',
      ...(r.dirty === true ? { dirty: true } : {}),
    }
  }
  return out
}

export const short = (sha: string) => (/^[0-9a-f]{40}/.test(sha) ? sha.slice(0, 7) : sha)

/** "3 days ago", "5 min ago": how old a record is at `now`. */
export function ago(iso: string, now: number): string {
  const t = Date.parse(iso)
  if (Number.isNaN(t)) return 'at an unknown time'
  const s = Math.max(0, Math.round((now - t) / 1000))
  if (s < 60) return `${s} s ago`
  if (s < 3600) return `${Math.floor(s / 60)} min ago`
  if (s < 86_400) return `${Math.floor(s / 3600)} h ago`
  const d = Math.floor(s / 86_400)
  return `${d} day${d === 1 ? '' : 's'} ago`
}

/** What is being deployed: a commit, or the working tree on top of it. */
export interface Head { commit: string; dirty: boolean }

export interface StatePlanInput {
  model: RepoModel
  config: PlanConfig
  head: Head
  hosts: HostState[]
  /** Paths changed from each recorded commit to what is deployed; missing/undefined: the commit is unknown here. */
  changedSince: Record<string, string[] | undefined>
  now: number
  /** The run's --limit, kept in the limit that leaves hosts out. */
  limit?: string
  /** What triggered the run ("push 1a2b3c4..5d6e7f8"). */
  event: string
}

const headLabel = (h: Head) => (h.dirty ? `${short(h.commit)} + working tree` : short(h.commit))

function hostStateLabel(h: HostState): HostPlan['state'] {
  if (h.status !== 'read') return h.status
  return Object.keys(h.records).length > 0 ? 'recorded' : 'no state'
}

/** Why a push leaves this host out, if it does: unknown state, or nothing ever deployed from this copy. */
function exclusion(h: HostState): string | undefined {
  if (h.status === 'unreachable') return `unreachable (${h.message ?? 'no answer'}): its state is unknown`
  if (h.status === 'read' && Object.keys(h.records).length === 0) return 'nothing deployed from this copy yet'
  return undefined
}

/** The hosts each part of the plan shows: records, exclusion, bootstrap. */
function hostPlans(input: Pick<StatePlanInput, 'hosts' | 'head' | 'now'>, decide: (h: HostState, p: Playbook, r: DeployRecord | undefined) => { run: boolean; reason: string }, excludeNew: boolean): HostPlan[] {
  return input.hosts.map((h) => {
    const excluded = excludeNew ? exclusion(h) : undefined
    return {
      host: h.host,
      state: hostStateLabel(h),
      ...(h.message ? { message: h.message } : {}),
      bootstrapped: Boolean(h.records.bootstrap),
      ...(excluded ? { excluded } : {}),
      playbooks: PLAYBOOKS.map((p): HostPlaybook => {
        const r = h.records[p]
        const d = excluded ? { run: false, reason: 'not deployed by this run' } : decide(h, p, r)
        return { playbook: p, ...(r ? { from: { ...r, ago: ago(r.finished, input.now) } } : {}), to: headLabel(input.head), ...d }
      }),
    }
  })
}

/** The notes every state-based plan carries: hosts never bootstrapped from this copy, hosts left out. */
function hostNotes(hosts: HostPlan[], excludedWhy: string): string[] {
  const notes: string[] = []
  const never = hosts.filter((h) => !h.bootstrapped && h.state !== 'unreachable').map((h) => h.host)
  if (never.length > 0) notes.push(`Never bootstrapped from this copy: ${never.join(', ')}. Dispatch the deploy workflow with playbooks: bootstrap first (it is safe on a server already set up).`)
  // An unreachable host is not a note: the run fails naming it (core/unreachable.ts).
  const out = hosts.filter((h) => h.excluded && h.state !== 'unreachable')
  if (out.length > 0) notes.push(`${excludedWhy}: ${out.map((h) => `${h.host} (${h.excluded})`).join('; ')}. Bootstrap a new server by dispatch (playbooks: bootstrap,base,backend,frontend); the next push catches up any host that comes back.`)
  return notes
}

/** A limit that keeps the run's own and leaves out `hosts`. */
export function limitExcluding(limit: string | undefined, hosts: string[]): string | undefined {
  if (hosts.length === 0) return limit || undefined
  return [limit || 'all', ...hosts.map((h) => `!${h}`)].join(':')
}

function addTrigger(list: Trigger[], label: string, paths: string[]): void {
  let t = list.find((x) => x.label === label)
  if (!t) {
    t = { label, paths: [] }
    list.push(t)
  }
  for (const p of paths) if (!t.paths.includes(p)) t.paths.push(p)
  t.paths.sort()
}

/** The plan of a push from the hosts' records: each playbook runs where a host lacks what triggers it. */
export function planFromState(input: StatePlanInput): Plan {
  const classify = classifier(input.model, input.config)
  const byPlaybook = new Map<Playbook, Trigger[]>(PLAYBOOKS.map((p) => [p, []]))
  const ignored: Trigger[] = []
  const allPaths = new Set<string>()
  const labelsSince = new Map<string, Map<Playbook, Trigger[]>>()

  /** Per recorded commit: which playbooks its changes trigger, with their causes (computed once). */
  const since = (commit: string): Map<Playbook, Trigger[]> | undefined => {
    const paths = input.changedSince[commit]
    if (!paths) return undefined
    let m = labelsSince.get(commit)
    if (m) return m
    m = new Map()
    for (const path of paths) {
      allPaths.add(path)
      const c = classify(path)
      if (c.playbooks.length === 0) addTrigger(ignored, c.label, [path])
      for (const p of c.playbooks) {
        if (!m.has(p)) m.set(p, [])
        addTrigger(m.get(p)!, c.label, [path])
      }
    }
    labelsSince.set(commit, m)
    return m
  }

  const decide = (h: HostState, p: Playbook, r: DeployRecord | undefined): { run: boolean; reason: string } => {
    if (p === 'bootstrap') return { run: false, reason: 'never runs from a push: run it by dispatch' }
    if (h.status === 'unreadable') return { run: true, reason: `its state cannot be read (${h.message ?? 'invalid'}): planned as if it had no record` }
    if (!r) return { run: true, reason: 'no record on this host' }
    if (r.dirty) return { run: true, reason: `${short(r.commit)} was deployed with uncommitted changes` }
    if (r.commit === input.head.commit && !input.head.dirty) return { run: false, reason: 'up to date' }
    const m = since(r.commit)
    if (!m) return { run: true, reason: `${short(r.commit)} is not in this history (force push?): what it ran is unknown` }
    const triggers = m.get(p) ?? []
    if (triggers.length === 0) return { run: false, reason: `no change since ${short(r.commit)} concerns it` }
    for (const t of triggers) addTrigger(byPlaybook.get(p)!, t.label, t.paths)
    return { run: true, reason: `${triggers.map((t) => t.label).join(', ')} changed since ${short(r.commit)}` }
  }

  const hosts = hostPlans(input, decide, true)
  // Bootstrap's causes are shown (for the note), never run.
  for (const h of input.hosts) {
    const r = h.records.bootstrap
    const m = r && !r.dirty && r.commit !== input.head.commit ? since(r.commit) : undefined
    for (const t of m?.get('bootstrap') ?? []) addTrigger(byPlaybook.get('bootstrap')!, t.label, t.paths)
  }

  const notes = [...input.model.warnings]
  const deployed = hosts.filter((h) => !h.excluded)
  const playbooks = PLAYBOOKS.map((p): PlaybookDecision => {
    const triggers = byPlaybook.get(p)!
    if (p === 'bootstrap') {
      if (triggers.length > 0) {
        notes.push(triggers.some((t) => !t.label.startsWith('shared input'))
          ? 'bootstrap changed: it never runs from a push; run it by dispatch (playbooks: bootstrap).'
          : 'shared inputs changed: if they concern SSH access (admins, keys, port), run bootstrap by dispatch.')
      }
      return { playbook: p, run: false, reason: 'never runs from a push: run it by dispatch', triggers }
    }
    const needing = deployed.filter((h) => h.playbooks.find((x) => x.playbook === p)!.run)
    if (needing.length === 0) {
      return { playbook: p, run: false, reason: deployed.length === 0 ? 'no host to deploy to' : 'every host is up to date for it', triggers }
    }
    if (!input.model.playbookRoles[p]) {
      notes.push(`${p} would run but playbooks/${p}.yml does not exist.`)
      return { playbook: p, run: false, reason: `playbooks/${p}.yml does not exist`, triggers }
    }
    const reasons = new Map<string, string[]>()
    for (const h of needing) {
      const reason = h.playbooks.find((x) => x.playbook === p)!.reason
      reasons.set(reason, [...(reasons.get(reason) ?? []), h.host])
    }
    return { playbook: p, run: true, reason: [...reasons].map(([r, hs]) => `${hs.join(', ')}: ${r}`).join('; '), triggers }
  })
  notes.push(...hostNotes(hosts, 'Not deployed by this push'))
  const excluded = hosts.filter((h) => h.excluded).map((h) => h.host)
  const run = playbooks.filter((d) => d.run).map((d) => d.playbook)
  const limit = limitExcluding(input.limit, excluded)
  return {
    mode: 'auto',
    source: `${input.event}: from each host's deploy state to ${headLabel(input.head)}`,
    run,
    playbooks,
    ignored,
    notes,
    changedPaths: allPaths.size,
    hosts,
    ...(excluded.length > 0 && run.length > 0 ? { limit } : {}),
  }
}

/** A plan of named playbooks, with what each host ran before (shown, never deciding). */
export function planExplicitWithState(model: RepoModel, names: Playbook[], source: string, hosts: HostState[], head: Head, now: number): Plan {
  const plan = planExplicit(model, names, source)
  const named = new Set(plan.run)
  const hp = hostPlans({ hosts, head, now }, (_h, p) => (named.has(p) ? { run: true, reason: 'named' } : { run: false, reason: 'not requested' }), false)
  return { ...plan, hosts: hp, notes: [...plan.notes, ...hostNotes(hp, 'Unreachable')] }
}

/** The commits whose changes a state plan needs: every recorded one that is not what is deployed. */
export function recordedCommits(hosts: HostState[], head: Head): string[] {
  const out = new Set<string>()
  for (const h of hosts) for (const r of Object.values(h.records)) if (r && (r.commit !== head.commit || head.dirty)) out.add(r.commit)
  return [...out]
}

/** The note a plan carries when it fell back to the event's changes. */
export function stateFallbackNote(reason: string, changes: ChangeSet): string {
  return `The deploy state could not be read (${reason}): planned from ${changes.description} instead, as before the state existed.`
}

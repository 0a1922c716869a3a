// The plan of a push from the hosts' deploy state: a playbook runs where a path that triggers it
// changed since the revision a host recorded for it, or where a host has no record. Pure: states
// and changed paths in, a Plan out.
import { addTrigger, bootstrapNote, BOOTSTRAP_NOT_FROM_PUSH, classifier, tidyTriggers } from './classify.ts'
import type { PlanConfig } from './config.ts'
import { ago, short } from '../format.ts'
import { PLAYBOOKS, type Playbook } from '../playbooks.ts'
import type { RepoModel } from '../repo.ts'
import { commonPart, partFor } from './parts.ts'
import type { DeployRecord, Head, HostPlan, HostPlaybook, HostState, Plan, PlaybookDecision, PlaybookPart, Trigger } from './types.ts'

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
type Decision = { run: boolean; reason: string; part?: PlaybookPart }

function hostPlans(input: Pick<StatePlanInput, 'hosts' | 'head' | 'now'>, decide: (h: HostState, p: Playbook, r: DeployRecord | undefined) => Decision, excludeNew: boolean): HostPlan[] {
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

  const decide = (h: HostState, p: Playbook, r: DeployRecord | undefined): Decision => {
    if (p === 'bootstrap') return { run: false, reason: BOOTSTRAP_NOT_FROM_PUSH }
    if (h.status === 'unreadable') return { run: true, reason: `its state cannot be read (${h.message ?? 'invalid'}): planned as if it had no record` }
    if (!r) return { run: true, reason: 'no record on this host' }
    if (r.dirty) return { run: true, reason: `${short(r.commit)} was deployed with uncommitted changes` }
    if (r.commit === input.head.commit && !input.head.dirty) return { run: false, reason: 'up to date' }
    const m = since(r.commit)
    if (!m) return { run: true, reason: `${short(r.commit)} is not in this history (force push?): what it ran is unknown` }
    const triggers = m.get(p) ?? []
    if (triggers.length === 0) return { run: false, reason: `no change since ${short(r.commit)} concerns it` }
    for (const t of triggers) addTrigger(byPlaybook.get(p)!, t.label, t.paths)
    const part = partFor(p, triggers, r.commit)
    return { run: true, reason: `${triggers.map((t) => t.label).join(', ')} changed since ${short(r.commit)}`, ...(part ? { part } : {}) }
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
    const triggers = tidyTriggers(byPlaybook.get(p)!)
    if (p === 'bootstrap') {
      if (triggers.length > 0) {
        notes.push(bootstrapNote(triggers))
      }
      return { playbook: p, run: false, reason: BOOTSTRAP_NOT_FROM_PUSH, triggers }
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
    const part = commonPart(p, needing)
    return { playbook: p, run: true, reason: [...reasons].map(([r, hs]) => `${hs.join(', ')}: ${r}`).join('; '), triggers, ...(part ? { part } : {}) }
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
    ignored: tidyTriggers(ignored),
    notes,
    changedPaths: allPaths.size,
    hosts,
    ...(excluded.length > 0 && run.length > 0 ? { limit } : {}),
  }
}

/** A plan of named playbooks, with what each host ran before (shown, never deciding). */
export function withHostRecords(plan: Plan, hosts: HostState[], head: Head, now: number): Plan {
  const named = new Set(plan.run)
  const hp = hostPlans({ hosts, head, now }, (_h, p) => (named.has(p) ? { run: true, reason: 'named' } : { run: false, reason: 'not requested' }), false)
  return { ...plan, hosts: hp, notes: [...plan.notes, ...hostNotes(hp, 'Unreachable')] }
}

// The plan's data, shared by both planners, the summary and the results: plain typed objects that
// flow forward (changes or deploy state in, a Plan out). Types only.
import type { Layout } from '../layout.ts'
import type { Playbook } from '../playbooks.ts'

export interface Trigger {
  /** Why these paths lead here: "role backend", "shared input", "app source", "override config/**"… */
  label: string
  paths: string[]
}

/** Part of a playbook, when the plan shows the rest has nothing to do: the tags it runs with and why. */
export interface PlaybookPart {
  tags: string[]
  /** What runs, in two or three words: "release only". */
  label: string
  /** One short phrase: "release only: only app code changed since abc1234". */
  why: string
}

export interface PlaybookDecision {
  playbook: Playbook
  run: boolean
  /** One sentence: why it runs or why not. */
  reason: string
  triggers: Trigger[]
  /** Runs only this part (every host it runs on needs only it); absent: the whole playbook. */
  part?: PlaybookPart
}

/** One playbook's last completion on a host. */
export interface DeployRecord {
  commit: string
  /** Deployed from a working tree with uncommitted changes (the CLI): the commit says too little. */
  dirty?: boolean
  /** ISO-8601 UTC. */
  finished: string
  /** The GitHub run's URL, or user@machine for the CLI. */
  run: string
}

/** One playbook on one host: from which revision to which, and why it runs or not. */
export interface HostPlaybook {
  playbook: Playbook
  from?: DeployRecord & { ago: string }
  to: string
  run: boolean
  reason: string
  /** This host needs only this part of the playbook. */
  part?: PlaybookPart
}

export interface HostPlan {
  host: string
  state: 'recorded' | 'no state' | 'unreachable' | 'unreadable'
  message?: string
  /** A bootstrap record from this copy exists. */
  bootstrapped: boolean
  /** Why this run leaves the host out (a push never deploys to a host this copy never deployed). */
  excluded?: string
  playbooks: HostPlaybook[]
}

export interface Plan {
  mode: 'auto' | 'explicit'
  /** What was compared: "push 1a2b3c4..5d6e7f8 (12 changed paths)", "workflow_dispatch: playbooks named". */
  source: string
  /** Set when the safe choice was taken because the changes could not be known. */
  fallback?: string
  /** The playbooks that will run, in order. */
  run: Playbook[]
  /** All four playbooks in order, each with its decision. */
  playbooks: PlaybookDecision[]
  /** Changed paths that trigger nothing, grouped by reason. */
  ignored: Trigger[]
  notes: string[]
  changedPaths: number
  /** Per host, from the deploy state: what each playbook ran last and what this run does there. */
  hosts?: HostPlan[]
  /** The --limit the run uses when the plan leaves hosts out. */
  limit?: string
  /** Which host is what (the inventory's groups), when it could be read. */
  layout?: Layout
}

/** What is being deployed: a commit, or the working tree on top of it. */
export interface Head { commit: string; dirty: boolean }

/** A host's records, per playbook (the state file's content). */
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

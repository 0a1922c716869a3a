// A server added to the inventory joins by a dispatch of bootstrap: the hosts this copy never
// bootstrapped (no record; before their bootstrap they do not answer as the deploy user yet) get
// base, backend and frontend after it, and so do the others, where only what the new server needs
// changes (the database server's firewall and pg_hba, the load balancer's upstream). backend on the
// new server builds the release the others serve (the release is the app's content): a dispatch
// whose code the others do not run yet would roll that out too, so it stops before anything runs.
// Pure: the named playbooks, the hosts' states and the state plan in; the playbooks to run out.
import { ValidationError } from '../errors.ts'
import { DEPLOY_PLAYBOOKS, inOrder, type Playbook } from '../playbooks.ts'
import { APP_SOURCE, type Classification } from './classify.ts'
import type { HostState, Plan } from './types.ts'

export class JoinError extends ValidationError {
  override name = 'JoinError'
}

/**
 * The hosts joining: bootstrap named, and hosts without a bootstrap record from this copy (not
 * answering as the deploy user yet, or answering with no record) while others answer already. When
 * none answers, it is the very first bootstrap: bootstrap alone runs, as named.
 */
export function joiningHosts(named: Playbook[], hosts: HostState[]): string[] {
  if (!named.includes('bootstrap') || !hosts.some((h) => h.status === 'read')) return []
  return hosts.filter((h) => h.status !== 'unreadable' && !h.records.bootstrap).map((h) => h.host)
}

/**
 * Of the paths changed since each recorded revision, those that make another release: the app's
 * code. The inventory change that adds the server (or a role's) makes none: backend then runs on
 * the others too and keeps the release they serve.
 */
export function releaseChanges(changedSince: Record<string, string[] | undefined>, classify: (path: string) => Classification): Record<string, string[] | undefined> {
  return Object.fromEntries(Object.entries(changedSince).map(([commit, paths]) => [commit, paths?.filter((p) => classify(p).label === APP_SOURCE)]))
}

/**
 * The playbooks a dispatch naming `named` runs when `joining` join: bootstrap, then every deploy
 * playbook. Throws a JoinError when backend is pending on the hosts already deployed (`statePlan`:
 * what a push would run now, from the release's changes: releaseChanges), since the new servers
 * would get a release the others do not serve.
 */
export function joinPlaybooks(named: Playbook[], joining: string[], statePlan: Plan): Playbook[] {
  const behind = (statePlan.hosts ?? []).filter((h) => !h.excluded && h.playbooks.find((p) => p.playbook === 'backend')?.run)
  if (behind.length > 0) {
    const why = behind[0]!.playbooks.find((p) => p.playbook === 'backend')!.reason
    throw new JoinError(`${joining.join(', ')} would join with a release that ${behind.map((h) => h.host).join(', ')} ${behind.length === 1 ? 'does' : 'do'} not serve (backend: ${why}): deploy it there first (a push, or dispatch backend), then dispatch bootstrap again`)
  }
  return inOrder([...named, ...DEPLOY_PLAYBOOKS])
}

/** The plan's note for a join, and the reason its added playbooks run. */
export function joinReason(joining: string[]): string {
  return `${joining.join(', ')} ${joining.length === 1 ? 'joins' : 'join'} (no record from this copy): after bootstrap, base, backend and frontend run everywhere, the others changing only what the new ${joining.length === 1 ? 'server needs' : 'servers need'}`
}

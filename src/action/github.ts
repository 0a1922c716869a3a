// The action's two writes to GitHub, both with the job's token and both optional: the preview's
// plan as one comment on the pull request, and the drift issue. A failure is a warning (the run's
// outcome is the servers', not the comment's). The decision who gets what is pure.
import { GITHUB_API, type GitHubTarget } from '../core/github/api.ts'

export interface PullRequestTarget {
  number: number
  /** Opened from a fork: its job's token cannot write to this repository, and the preview must not. */
  fork: boolean
}

interface PullRequestPayload {
  pull_request?: { number?: number; head?: { repo?: { full_name?: string } | null }; base?: { repo?: { full_name?: string } } }
  repository?: { full_name?: string }
}

/** The pull request a preview comments on, from the event; undefined for other events. Pure. */
export function pullRequestOf(event: { name: string; payload: unknown } | undefined): PullRequestTarget | undefined {
  if (!event || !event.name.startsWith('pull_request')) return undefined
  const p = event.payload as PullRequestPayload
  const number = p.pull_request?.number
  if (typeof number !== 'number') return undefined
  const head = p.pull_request?.head?.repo?.full_name
  const base = p.pull_request?.base?.repo?.full_name ?? p.repository?.full_name
  // A head repository GitHub no longer knows (deleted fork) counts as a fork.
  const fork = Boolean(base) && head !== base
  return { number, fork }
}

/** Where the API calls go; undefined (with why) when the job cannot make them. Pure. */
export function githubTarget(token: string, env: NodeJS.ProcessEnv): GitHubTarget | { missing: string } {
  if (!token) return { missing: 'no github-token' }
  const repo = env.GITHUB_REPOSITORY ?? ''
  if (!/^[\w.-]+\/[\w.-]+$/.test(repo)) return { missing: 'GITHUB_REPOSITORY is not set (not on GitHub\'s runner)' }
  return { api: env.GITHUB_API_URL?.trim() || GITHUB_API, repo, token }
}

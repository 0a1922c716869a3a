// GitHub's REST API, the little of it the action uses (a pull request's comments, issues), with the
// job's token. One function per request kind; the marker lookup is pure.
export const GITHUB_API = 'https://api.github.com'

export interface GitHubTarget {
  /** https://api.github.com, or GITHUB_API_URL (GitHub Enterprise, a local server in tests). */
  api: string
  /** owner/name */
  repo: string
  token: string
}

export class GitHubApiError extends Error {
  override name = 'GitHubApiError'
}

/** One request; the error names the call and GitHub's own message (never the token). */
export async function call<T>(t: GitHubTarget, method: string, path: string, body?: unknown): Promise<T> {
  const url = `${t.api.replace(/\/+$/, '')}${path}`
  const res = await fetch(url, {
    method,
    headers: {
      accept: 'application/vnd.github+json',
      authorization: `Bearer ${t.token}`,
      'x-github-api-version': '2022-11-28',
      'user-agent': 'django-ansible-deploy',
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    signal: AbortSignal.timeout(30_000),
  })
  const text = await res.text()
  if (!res.ok) {
    let message = text.slice(0, 200)
    try {
      message = (JSON.parse(text) as { message?: string }).message ?? message
    } catch {
      // not JSON: the text itself
    }
    const hint = res.status === 403 || res.status === 404 ? ' (does the job\'s token have the permission? pull-requests: write for the preview, issues: write for the drift issue)' : ''
    throw new GitHubApiError(`GitHub API ${method} ${path}: HTTP ${res.status} ${message}${hint}`)
  }
  return (text ? JSON.parse(text) : undefined) as T
}

export interface Marked { id: number; number?: number; body?: string | null; pull_request?: unknown }

/** The first item whose body carries the marker (comments and issues alike). Pure. */
export function findMarked<T extends Marked>(items: readonly T[], marker: string): T | undefined {
  return items.find((i) => typeof i.body === 'string' && i.body.includes(marker))
}

const PER_PAGE = 100
/** How many pages a lookup reads at most (10,000 items). */
const MAX_PAGES = 100

/** Pages through a list until the marked item is found or the list ends. */
export async function findMarkedIn<T extends Marked>(t: GitHubTarget, listPath: string, marker: string): Promise<T | undefined> {
  const sep = listPath.includes('?') ? '&' : '?'
  for (let page = 1; page <= MAX_PAGES; page++) {
    const items = await call<T[]>(t, 'GET', `${listPath}${sep}per_page=${PER_PAGE}&page=${page}`)
    const hit = findMarked(items, marker)
    if (hit) return hit
    if (items.length < PER_PAGE) return undefined
  }
  return undefined
}

/** Creates the pull request's marked comment, or rewrites the one an earlier run made. */
export async function upsertComment(t: GitHubTarget, pr: number, marker: string, body: string): Promise<{ id: number; action: 'created' | 'updated' }> {
  const found = await findMarkedIn(t, `/repos/${t.repo}/issues/${pr}/comments`, marker)
  if (found) {
    await call(t, 'PATCH', `/repos/${t.repo}/issues/comments/${found.id}`, { body })
    return { id: found.id, action: 'updated' }
  }
  const made = await call<Marked>(t, 'POST', `/repos/${t.repo}/issues/${pr}/comments`, { body })
  return { id: made.id, action: 'created' }
}

/**
 * The one marked issue, kept in step with a condition: opened (or rewritten) with `body` while it
 * holds, closed with a last comment once it no longer does.
 */
export async function syncIssue(t: GitHubTarget, marker: string, title: string, body: string | undefined, closing: string): Promise<{ number?: number; action: 'opened' | 'updated' | 'closed' | 'none' }> {
  const open = await findMarkedIn(t, `/repos/${t.repo}/issues?state=open`, marker)
  const issue = open && !open.pull_request ? open : undefined
  if (body !== undefined) {
    if (issue) {
      await call(t, 'PATCH', `/repos/${t.repo}/issues/${issue.number}`, { title, body })
      return { number: issue.number, action: 'updated' }
    }
    const made = await call<Marked>(t, 'POST', `/repos/${t.repo}/issues`, { title, body })
    return { number: made.number, action: 'opened' }
  }
  if (!issue) return { action: 'none' }
  await call(t, 'POST', `/repos/${t.repo}/issues/${issue.number}/comments`, { body: closing })
  await call(t, 'PATCH', `/repos/${t.repo}/issues/${issue.number}`, { state: 'closed', state_reason: 'completed' })
  return { number: issue.number, action: 'closed' }
}

// Small text forms shared by the summary, the plan and the CLI's output. Pure.

/** 4.4 s → "4 s", 125 s → "2 min 05 s". */
export function formatDuration(ms: number): string {
  const s = Math.round(ms / 1000)
  if (s < 60) return `${s} s`
  return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s`
}

/** A commit id's first seven digits; anything else (a branch name, "HEAD") as it is. */
export const short = (sha: string) => (/^[0-9a-f]{40}/.test(sha) ? sha.slice(0, 7) : sha)

/** "3 days ago", "5 min ago": how old an ISO-8601 time is at `now`. */
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

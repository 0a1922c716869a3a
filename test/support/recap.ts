// Parses the PLAY RECAP of ansible-playbook's default output (pure): the tests' cross-check of what
// the callback plugin reports.

export interface HostRecap {
  ok: number
  changed: number
  unreachable: number
  failed: number
  skipped: number
  rescued: number
  ignored: number
}

const FIELDS = ['ok', 'changed', 'unreachable', 'failed', 'skipped', 'rescued', 'ignored'] as const

/** Host lines after the last "PLAY RECAP" header; `web1 : ok=3 changed=1 ...` → recap.web1. */
export function parseRecap(output: string): Record<string, HostRecap> {
  const start = output.lastIndexOf('PLAY RECAP')
  if (start < 0) return {}
  const recap: Record<string, HostRecap> = {}
  for (const line of output.slice(start).split('\n').slice(1)) {
    const m = /^(\S+)\s+:\s+(ok=\d+.*)$/.exec(line.trim())
    if (!m) continue
    const counts = Object.fromEntries(FIELDS.map((f) => [f, 0])) as unknown as HostRecap
    for (const [, key, value] of m[2]!.matchAll(/(\w+)=(\d+)/g)) {
      if ((FIELDS as readonly string[]).includes(key!)) counts[key as keyof HostRecap] = Number(value)
    }
    recap[m[1]!] = counts
  }
  return recap
}

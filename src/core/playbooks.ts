// The four playbooks, in the only order they ever run.

export const PLAYBOOKS = ['bootstrap', 'base', 'backend', 'frontend'] as const
export type Playbook = (typeof PLAYBOOKS)[number]

/** What `all` and every fallback mean: bootstrap only ever runs when named explicitly. */
export const DEPLOY_PLAYBOOKS: readonly Playbook[] = ['base', 'backend', 'frontend']

export function isPlaybook(name: string): name is Playbook {
  return (PLAYBOOKS as readonly string[]).includes(name)
}

/** Sorts and de-duplicates into bootstrap → base → backend → frontend. */
export function inOrder(names: Iterable<Playbook>): Playbook[] {
  const set = new Set(names)
  return PLAYBOOKS.filter((p) => set.has(p))
}

/**
 * Parses a playbook selection: `auto`, `all`, or names separated by commas, spaces or newlines.
 * Throws an Error quoting the bad value.
 */
export function parsePlaybookSelection(raw: string): 'auto' | Playbook[] {
  const value = raw.trim()
  if (value === '' || value === 'auto') return 'auto'
  if (value === 'all') return [...DEPLOY_PLAYBOOKS]
  const names = value.split(/[\s,]+/).filter(Boolean)
  const bad = names.filter((n) => !isPlaybook(n))
  if (bad.length > 0) {
    throw new Error(`unknown playbook "${bad[0]}" in "${value}": expected auto, all, or a list of ${PLAYBOOKS.join(', ')}`)
  }
  return inOrder(names as Playbook[])
}

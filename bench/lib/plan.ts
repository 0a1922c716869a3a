// The action's planner (src/core), loaded when present: which playbooks a set of changed paths needs.
// Loaded dynamically so the bench still runs (and says what is missing) on a tree without it.
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { performance } from 'node:perf_hooks'

export interface Planner {
  /** Playbooks the action would run for these changed paths, in order. */
  plan(paths: string[]): string[]
  /** What a push runs on a host whose every playbook last ran from the commit before these paths
   *  changed (the deploy state's plan): the playbooks, the tags of those it runs in part, how it says so. */
  planFromRecords?(paths: string[]): { run: string[]; tags: Record<string, string[]>; label: string; source: string }
  /** The model of the repository is read once; this times the pure planning step only. */
  source: string
}

interface CoreModules {
  readRepo: (dir: string) => unknown
  planAuto: (model: unknown, changes: unknown, config: unknown) => { run: string[] }
  DEFAULT_PLAN_CONFIG: unknown
}

export async function loadPlanner(repoRoot: string): Promise<Planner | { missing: string }> {
  // src/core/plan/ since the planner has its own folder; src/core/plan.ts in older trees.
  const planFile = ['src/core/plan/from-changes.ts', 'src/core/plan.ts'].map((f) => join(repoRoot, f)).find((f) => existsSync(f))
  const configFile = ['src/core/plan/config.ts', 'src/core/plan.ts'].map((f) => join(repoRoot, f)).find((f) => existsSync(f))
  const repoFile = join(repoRoot, 'src/core/repo.ts')
  if (!planFile || !configFile || !existsSync(repoFile)) return { missing: 'src/core/plan/ and src/core/repo.ts are not in this tree' }
  const plan = await import(pathToFileURL(planFile).href) as Partial<CoreModules>
  const config = await import(pathToFileURL(configFile).href) as Partial<CoreModules>
  const repo = await import(pathToFileURL(repoFile).href) as Partial<CoreModules>
  const { planAuto } = plan
  const { DEFAULT_PLAN_CONFIG } = config
  const { readRepo } = repo
  if (typeof planAuto !== 'function' || typeof readRepo !== 'function') {
    return { missing: 'src/core exports no planAuto(model, changes, config) / readRepo(dir)' }
  }
  const model = readRepo(repoRoot)
  const fromRecords = await recordsPlanner(repoRoot, model, DEFAULT_PLAN_CONFIG)
  return {
    ...(fromRecords ? { planFromRecords: fromRecords } : {}),
    source: `${planFile.slice(repoRoot.length + 1)} planAuto`,
    plan(paths: string[]) {
      const changes = { kind: 'diff', description: 'bench', base: 'a'.repeat(40), head: 'b'.repeat(40), paths }
      return planAuto(model, changes, DEFAULT_PLAN_CONFIG).run
    },
  }
}

interface StateModules {
  planFromState: (input: unknown) => { run: string[]; playbooks: { playbook: string; part?: { why: string } }[] }
  planTags: (plan: unknown) => Record<string, string[]>
  runsText: (plan: unknown) => string
}

/** The deploy state's planner (src/core/plan/from-state.ts, parts.ts), when this tree has it. */
async function recordsPlanner(repoRoot: string, model: unknown, config: unknown): Promise<Planner['planFromRecords']> {
  const files = ['src/core/plan/from-state.ts', 'src/core/plan/parts.ts', 'src/core/summary.ts'].map((f) => join(repoRoot, f))
  if (!files.every((f) => existsSync(f))) return undefined
  const mods = await Promise.all(files.map((f) => import(pathToFileURL(f).href))) as Partial<StateModules>[]
  const { planFromState } = mods[0]!
  const { planTags } = mods[1]!
  const { runsText } = mods[2]!
  if (typeof planFromState !== 'function' || typeof planTags !== 'function' || typeof runsText !== 'function') return undefined
  const before = 'a'.repeat(40)
  const records = Object.fromEntries(['bootstrap', 'base', 'backend', 'frontend'].map((p) => [p, { commit: before, finished: new Date().toISOString(), run: 'bench' }]))
  return (paths: string[]) => {
    const plan = planFromState({
      model, config, head: { commit: 'b'.repeat(40), dirty: false }, hosts: [{ host: 'web1', status: 'read', records }],
      changedSince: { [before]: paths }, now: Date.now(), event: 'bench',
    })
    return { run: plan.run, tags: planTags(plan), label: runsText(plan), source: 'src/core/plan/from-state.ts planFromState' }
  }
}

/** A synthetic diff of `n` paths spread like a real repository's: roles, app, docs, tests, action. */
export function syntheticDiff(n: number): string[] {
  const kinds = [
    (i: number) => `app/pages/module_${i}.py`,
    (i: number) => `app/pages/templates/pages/page_${i}.html`,
    (i: number) => `roles/backend/templates/file_${i}.j2`,
    (i: number) => `roles/frontend/tasks/part_${i}.yml`,
    (i: number) => `roles/base/files/conf_${i}`,
    (i: number) => `docs/page_${i}.md`,
    (i: number) => `test/unit/case_${i}.test.ts`,
    (i: number) => `src/core/module_${i}.ts`,
    (i: number) => `app/pages/static/pages/asset_${i}.css`,
    (i: number) => `README_${i}.md`,
  ]
  return Array.from({ length: n }, (_, i) => kinds[i % kinds.length]!(i))
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  const m = Math.floor(s.length / 2)
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2
}

/** Median milliseconds of `planner.plan(paths)` over `iterations` calls (after a few warm-up calls). */
export function timePlan(planner: Planner, paths: string[], iterations: number): { medianMs: number; p90Ms: number; run: string[] } {
  let run: string[] = []
  for (let i = 0; i < 5; i++) run = planner.plan(paths)
  const times: number[] = []
  for (let i = 0; i < iterations; i++) {
    const t0 = performance.now()
    planner.plan(paths)
    times.push(performance.now() - t0)
  }
  const sorted = [...times].sort((a, b) => a - b)
  return { medianMs: median(times), p90Ms: sorted[Math.floor(sorted.length * 0.9)]!, run }
}

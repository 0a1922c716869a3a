// The plan from changed paths (`auto`), or of playbooks named explicitly. Pure: the repository
// model, the changes and the configuration in; a Plan out (every playbook with its decision and the
// paths that caused it, the paths that trigger nothing grouped by reason, notes).
import type { ChangeSet } from './changes.ts'
import { addTrigger, bootstrapNote, BOOTSTRAP_NOT_FROM_PUSH, classifier, missingPlaybook } from './classify.ts'
import type { PlanConfig } from './config.ts'
import { DEPLOY_PLAYBOOKS, PLAYBOOKS, type Playbook } from '../playbooks.ts'
import type { RepoModel } from '../repo.ts'
import type { Plan, PlaybookDecision, Trigger } from './types.ts'

/** The plan for playbooks named explicitly (`all`, a list, a dispatch). Bootstrap runs only here. */
export function planExplicit(model: RepoModel, names: Playbook[], source: string): Plan {
  const wanted = new Set(names)
  const notes: string[] = []
  const playbooks = PLAYBOOKS.map((p): PlaybookDecision => {
    if (!wanted.has(p)) return { playbook: p, run: false, reason: 'not requested', triggers: [] }
    const missing = missingPlaybook(model, p)
    if (missing) {
      notes.push(`${p} was requested but ${missing}.`)
      return { playbook: p, run: false, reason: missing, triggers: [] }
    }
    return { playbook: p, run: true, reason: 'requested', triggers: [] }
  })
  return {
    mode: 'explicit', source, run: playbooks.filter((d) => d.run).map((d) => d.playbook),
    playbooks, ignored: [], notes: [...model.warnings, ...notes], changedPaths: 0,
  }
}

/** The plan for `auto`: from the changes, or the stated safe choice when there is no usable diff. */
export function planAuto(model: RepoModel, changes: ChangeSet, config: PlanConfig): Plan {
  if (changes.kind !== 'diff') {
    const why = changes.kind === 'none'
      ? `${changes.description} has no changed paths to plan from`
      : `${changes.description}: ${changes.reason}`
    const plan = planExplicit(model, [...DEPLOY_PLAYBOOKS], changes.description)
    return {
      ...plan,
      mode: 'auto',
      fallback: `${why}; running every deploy playbook (${DEPLOY_PLAYBOOKS.join(', ')}) to be safe.`,
      playbooks: plan.playbooks.map((d) => ({ ...d, reason: d.run ? 'safe fallback: the changes are unknown' : d.playbook === 'bootstrap' ? 'never runs automatically: run it by dispatch when SSH access must change' : d.reason })),
    }
  }
  const classify = classifier(model, config)
  const byPlaybook = new Map<Playbook, Trigger[]>(PLAYBOOKS.map((p) => [p, []]))
  const ignored: Trigger[] = []
  const paths = [...new Set(changes.paths)].sort()
  for (const path of paths) {
    const c = classify(path)
    if (c.playbooks.length === 0) addTrigger(ignored, c.label, [path])
    for (const p of c.playbooks) addTrigger(byPlaybook.get(p)!, c.label, [path])
  }
  const notes = [...model.warnings, ...(changes.notes ?? [])]
  const playbooks = PLAYBOOKS.map((p): PlaybookDecision => {
    const triggers = byPlaybook.get(p)!
    if (triggers.length === 0) return { playbook: p, run: false, reason: 'no change concerns it', triggers }
    if (p === 'bootstrap') {
      notes.push(bootstrapNote(triggers))
      return { playbook: p, run: false, reason: BOOTSTRAP_NOT_FROM_PUSH, triggers }
    }
    const missing = missingPlaybook(model, p)
    if (missing) {
      notes.push(`${p} would run but ${missing}.`)
      return { playbook: p, run: false, reason: missing, triggers }
    }
    return { playbook: p, run: true, reason: `${triggers.map((t) => t.label).join(', ')} changed`, triggers }
  })
  return {
    mode: 'auto',
    source: changes.description,
    run: playbooks.filter((d) => d.run).map((d) => d.playbook),
    playbooks,
    ignored,
    notes,
    changedPaths: paths.length,
  }
}

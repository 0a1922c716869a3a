// inputs → plan request: the event preflight read, the override file, and the deploy state of the
// targeted hosts (read through the same settings as the runs). A pull-request preview plans from
// its own changes only. Pure: core/plan/make.ts does the planning.
import type { PlanRequest } from '../core/plan/make.ts'
import type { PreflightResult } from '../core/preflight.ts'
import type { AnsibleRunSettings } from '../core/run.ts'
import type { Settings } from './inputs.ts'

export function planRequest(settings: Settings, root: string, checked: Pick<PreflightResult, 'planConfig' | 'event'>, run: AnsibleRunSettings, log?: (line: string) => void): PlanRequest {
  const event = checked.event ?? { name: '', payload: {} }
  const preview = event.name.startsWith('pull_request')
  return {
    root,
    config: checked.planConfig,
    selection: settings.playbooks,
    namedSource: `${event.name || 'this run'}: ${Array.isArray(settings.playbooks) ? settings.playbooks.join(', ') : ''} named in the playbooks input`,
    event: event.name || 'this run',
    changes: { kind: 'event', event },
    readLayoutWith: run,
    readStateWith: preview ? undefined : run,
    limit: settings.limit || undefined,
    judgeState: settings.drift,
    log,
  }
}

// inputs → plan: the event's changes, and the deploy state of the targeted hosts (read through the
// same Ansible settings as the runs). A pull-request preview plans from its own changes only.
import * as core from '@actions/core'
import { changesForEvent } from '../core/changes.ts'
import { makePlan, type Planned } from '../core/planning.ts'
import { readLayout } from '../core/layout-read.ts'
import { readEventPayload } from '../core/preflight.ts'
import type { AnsibleRunSettings } from '../core/run.ts'
import { readDeployState } from '../core/state-read.ts'
import type { Settings } from './inputs.ts'

export async function planRun(settings: Settings, root: string, run: AnsibleRunSettings, env: NodeJS.ProcessEnv = process.env): Promise<Planned> {
  const eventName = env.GITHUB_EVENT_NAME ?? ''
  const payload = readEventPayload(env)
  const preview = eventName.startsWith('pull_request')
  return makePlan({
    root,
    inventory: settings.inventory,
    selection: settings.playbooks,
    namedSource: `${eventName || 'this run'}: ${Array.isArray(settings.playbooks) ? settings.playbooks.join(', ') : ''} named in the playbooks input`,
    event: eventName || 'this run',
    changes: (git) => changesForEvent(git, { name: eventName, payload }),
    readLayout: () => readLayout(run),
    readState: preview ? undefined : () => readDeployState(run),
    limit: settings.limit || undefined,
    log: (line) => core.info(line),
  })
}

// inputs → plan: the repository model, the override file, the event's changed paths.
import * as core from '@actions/core'
import { changesForEvent, gitIn } from '../core/changes.ts'
import { readEventPayload } from '../core/preflight.ts'
import { planAuto, planExplicit, underPrefix, type Plan } from '../core/plan.ts'
import { readPlanConfig, readRepo } from '../core/repo.ts'
import type { Settings } from './inputs.ts'

export async function makePlan(settings: Settings, root: string, env: NodeJS.ProcessEnv = process.env): Promise<Plan> {
  const model = readRepo(root)
  const eventName = env.GITHUB_EVENT_NAME ?? ''
  if (settings.playbooks !== 'auto') {
    return planExplicit(model, settings.playbooks, `${eventName || 'this run'}: ${settings.playbooks.join(', ')} named in the playbooks input`)
  }
  const config = readPlanConfig(root, settings.inventory)
  const payload = readEventPayload(env)
  const git = gitIn(root, (line) => core.info(line))
  const prefix = (await git.run(['rev-parse', '--show-prefix'])).stdout.trim()
  const found = await changesForEvent(git, { name: eventName, payload })
  const { changes, outside } = underPrefix(found, prefix)
  const plan = planAuto(model, changes, config)
  if (outside.length > 0) plan.ignored.push({ label: 'outside the working directory', paths: outside })
  return plan
}

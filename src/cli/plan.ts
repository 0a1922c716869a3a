// `django-deploy plan`: which playbooks a range of commits, the working tree, or the servers'
// deploy state (--state) needs, and why. Also the CLI's one way to plan (deploy and status).
import { existsSync } from 'node:fs'
import { resolve } from 'node:path'
import { gitIn } from '../core/plan/changes.ts'
import { readPlanConfig, type PlanConfig } from '../core/plan/config.ts'
import { makePlan, type Planned } from '../core/plan/make.ts'
import type { Playbook } from '../core/playbooks.ts'
import type { AnsibleRunSettings } from '../core/run.ts'
import { planText } from '../core/summary.ts'
import { parse } from './args.ts'
import { ANSIBLE_OPTIONS, ANSIBLE_USAGE, checkServerOptions, withConnection } from './server-options.ts'
import { UsageError, type Command } from './command.ts'

const usage = `Usage: django-deploy plan [--from REF [--to REF] | --state] [options] [--json]

Prints which playbooks (bootstrap, base, backend, frontend) the changes need, and why: the
paths behind each one, those that trigger nothing, and notes (bootstrap runs only when named).
Runs nothing.

Options:
  --from REF       compare REF with --to (default: the working tree against HEAD)
  --to REF         the newer end of the range (default: HEAD)
  --state          plan the working tree against what each server recorded (reads the servers'
                   deploy state through Ansible, as deploy does; needs the vault key)
${ANSIBLE_USAGE}
  --dir DIR        the repository (default: the current directory)
  --json           print the plan as JSON (the action's "plan" output)
  -h, --help       this help
`

const options = {
  from: { type: 'string' },
  to: { type: 'string' },
  state: { type: 'boolean' },
  ...ANSIBLE_OPTIONS,
  dir: { type: 'string' },
  json: { type: 'boolean' },
} as const

export interface CliPlanRequest {
  config: PlanConfig
  /** Named playbooks, or auto. */
  selection: 'auto' | Playbook[]
  /** A range (--from/--to); without one, the working tree against HEAD (or the state). */
  from?: string
  to?: string
  /** Reads the servers' deploy state through these (connected) settings. */
  readStateWith?: AnsibleRunSettings
  /** Without state or range: what the plan falls back to ("working tree", or a deploy's every playbook). */
  withoutState: 'working tree' | 'every playbook'
  event: string
  limit?: string
}

/** The CLI's plan of the repository at `dir` (its checks done by the caller); a range git cannot resolve is bad input. */
export async function planHere(dir: string, req: CliPlanRequest): Promise<Planned> {
  const planned = await makePlan({
    root: dir,
    config: req.config,
    selection: req.selection,
    namedSource: `named on the command line: ${Array.isArray(req.selection) ? req.selection.join(', ') : ''}`,
    event: req.event,
    changes: req.from
      ? { kind: 'range', from: req.from, to: req.to }
      : req.withoutState === 'working tree' ? { kind: 'working tree' } : { kind: 'none', description: 'a deploy without --from' },
    readLayoutWith: req.readStateWith,
    readStateWith: req.readStateWith,
    workingTree: true,
    limit: req.limit,
  })
  if (req.from && planned.changes?.kind === 'unresolved') throw new UsageError(planned.changes.reason)
  return planned
}

export const command: Command = {
  name: 'plan',
  summary: 'Which playbooks a range of commits, the working tree or the servers\' state needs, and why',
  usage,
  async run(argv) {
    const { values: o } = parse(argv, options)
    const dir = resolve(o.dir ?? '.')
    if (o.to && !o.from) throw new UsageError('--to needs --from')
    if (o.state && o.from) throw new UsageError('give --from or --state, not both')
    if (!o.state && !existsSync(resolve(dir, 'playbooks'))) throw new UsageError(`${dir} has no playbooks/ directory (run from the repository, or pass --dir)`)
    // --state checks everything a deploy does (the vault key opens the vaults…); otherwise the override file only.
    const checked = o.state ? checkServerOptions(dir, o) : undefined
    const top = await gitIn(dir).run(['rev-parse', '--show-prefix'])
    if (top.code !== 0) throw new UsageError(`${dir} is not inside a git repository`)
    const req: CliPlanRequest = {
      config: checked?.planConfig ?? readPlanConfig(dir, o.inventory ?? 'inventories/production'),
      selection: 'auto', from: o.from, to: o.to, withoutState: 'working tree', event: 'django-deploy plan', limit: o.limit,
    }
    const { plan } = checked
      ? await withConnection(checked, o, (run) => planHere(dir, { ...req, readStateWith: run }))
      : await planHere(dir, req)
    process.stdout.write(o.json ? JSON.stringify(plan, null, 2) + '\n' : planText(plan))
    return 0
  },
}

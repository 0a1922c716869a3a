// `django-deploy plan`: which playbooks a range of commits, the working tree, or the servers'
// deploy state (--state) needs, and why.
import { existsSync } from 'node:fs'
import { resolve } from 'node:path'
import { changesBetween, changesInWorkingTree, gitIn } from '../core/changes.ts'
import { PLAN_CONFIG_FILE } from '../core/plan-config.ts'
import { makePlan, type Planned } from '../core/planning.ts'
import { readDeployState } from '../core/state-read.ts'
import { planText } from '../core/summary.ts'
import { parse } from './args.ts'
import { ANSIBLE_OPTIONS, ANSIBLE_USAGE, ansibleSettings, withSsh, type AnsibleOptions } from './ansible-settings.ts'
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

export interface PlanOptions extends AnsibleOptions { from?: string; to?: string; state?: boolean }

/** The plan for a range, the working tree, or the deploy state (--state) of the repository at `dir`. */
export async function planFor(dir: string, opts: PlanOptions): Promise<Planned> {
  if (!existsSync(resolve(dir, 'playbooks'))) throw new UsageError(`${dir} has no playbooks/ directory (run from the repository, or pass --dir)`)
  if (opts.to && !opts.from) throw new UsageError('--to needs --from')
  if (opts.state && opts.from) throw new UsageError('give --from or --state, not both')
  const top = await gitIn(dir).run(['rev-parse', '--show-prefix'])
  if (top.code !== 0) throw new UsageError(`${dir} is not inside a git repository`)
  const run = opts.state ? ansibleSettings(dir, opts) : undefined
  return makePlan({
    root: dir,
    inventory: opts.inventory ?? 'inventories/production',
    selection: 'auto',
    namedSource: '',
    event: 'django-deploy plan',
    changes: async (git) => {
      const found = opts.from ? await changesBetween(git, opts.from, opts.to) : await changesInWorkingTree(git)
      if (found.kind === 'unresolved' && opts.from) throw new UsageError(found.reason)
      return found
    },
    readState: run ? () => withSsh(run, opts, () => readDeployState(run)) : undefined,
    workingTree: true,
    limit: opts.limit,
  }).catch((e: Error) => {
    // A malformed override file is bad input (its message starts with file:line:column).
    throw e.message.startsWith(PLAN_CONFIG_FILE) ? new UsageError(e.message) : e
  })
}

export const command: Command = {
  name: 'plan',
  summary: 'Which playbooks a range of commits, the working tree or the servers\' state needs, and why',
  usage,
  async run(argv) {
    const { values } = parse(argv, options)
    const dir = resolve(values.dir ?? '.')
    const { plan } = await planFor(dir, values)
    process.stdout.write(values.json ? JSON.stringify(plan, null, 2) + '\n' : planText(plan))
    return 0
  },
}

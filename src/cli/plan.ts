// `django-deploy plan`: which playbooks a range of commits (or the working tree) needs, and why.
import { existsSync } from 'node:fs'
import { resolve } from 'node:path'
import { changesBetween, changesInWorkingTree, gitIn } from '../core/changes.ts'
import { planAuto, underPrefix, type Plan } from '../core/plan.ts'
import { readPlanConfig, readRepo } from '../core/repo.ts'
import { planText } from '../core/summary.ts'
import { parse } from './args.ts'
import { UsageError, type Command } from './command.ts'

const usage = `Usage: django-deploy plan [--from REF [--to REF]] [--inventory DIR] [--dir DIR] [--json]

Prints which playbooks (bootstrap, base, backend, frontend) the changes need, and why: the
paths behind each one, those that trigger nothing, and notes (bootstrap runs only when named).
Runs nothing.

Options:
  --from REF       compare REF with --to (default: the working tree against HEAD)
  --to REF         the newer end of the range (default: HEAD)
  --inventory DIR  the inventory deploys use; changes to other inventories trigger nothing
                   (default: inventories/production)
  --dir DIR        the repository (default: the current directory)
  --json           print the plan as JSON (the action's "plan" output)
  -h, --help       this help
`

const options = {
  from: { type: 'string' },
  to: { type: 'string' },
  inventory: { type: 'string' },
  dir: { type: 'string' },
  json: { type: 'boolean' },
} as const

/** The plan for a range (or the working tree) of the repository at `dir`. */
export async function planFor(dir: string, opts: { from?: string; to?: string; inventory?: string }): Promise<Plan> {
  if (!existsSync(resolve(dir, 'playbooks'))) throw new UsageError(`${dir} has no playbooks/ directory (run from the repository, or pass --dir)`)
  if (opts.to && !opts.from) throw new UsageError('--to needs --from')
  const git = gitIn(dir)
  const top = await git.run(['rev-parse', '--show-prefix'])
  if (top.code !== 0) throw new UsageError(`${dir} is not inside a git repository`)
  const found = opts.from ? await changesBetween(git, opts.from, opts.to) : await changesInWorkingTree(git)
  if (found.kind === 'unresolved' && opts.from) throw new UsageError(found.reason)
  const { changes, outside } = underPrefix(found, top.stdout.trim())
  let config
  try {
    config = readPlanConfig(dir, opts.inventory ?? 'inventories/production')
  } catch (e) {
    throw new UsageError((e as Error).message)
  }
  const plan = planAuto(readRepo(dir), changes, config)
  if (outside.length > 0) plan.ignored.push({ label: 'outside the working directory', paths: outside })
  return plan
}

export const command: Command = {
  name: 'plan',
  summary: 'Which playbooks a range of commits (or the working tree) needs, and why',
  usage,
  async run(argv) {
    const { values } = parse(argv, options)
    const dir = resolve(values.dir ?? '.')
    const plan = await planFor(dir, values)
    process.stdout.write(values.json ? JSON.stringify(plan, null, 2) + '\n' : planText(plan))
    return 0
  },
}

// `django-deploy deploy`: runs named playbooks (or the plan of a range) from this machine, in the
// same order as the action, one progress line per playbook, then the same summary.
import { createWriteStream } from 'node:fs'
import { join, resolve } from 'node:path'
import { formatDuration } from '../core/format.ts'
import type { PlanConfig } from '../core/plan/config.ts'
import { parsePlaybookSelection, type Playbook } from '../core/playbooks.ts'
import { resultJson } from '../core/results.ts'
import { runPlaybooks, type AnsibleRunSettings } from '../core/run.ts'
import { planText, resultText } from '../core/summary.ts'
import { statusWithUnreached, unreachedHosts } from '../core/unreachable.ts'
import { parse } from './args.ts'
import { UsageError, type Command } from './command.ts'
import { planHere } from './plan.ts'
import { ANSIBLE_OPTIONS, ANSIBLE_USAGE, checkServerOptions, cliRunName, withConnection } from './server-options.ts'

const usage = `Usage: django-deploy deploy [PLAYBOOK...|all] [--from REF [--to REF]] [options]

Runs playbooks against an inventory, always in the order bootstrap → base → backend → frontend,
stopping at the first failure. Name them (bootstrap runs only when named), or give --from to
run the plan of a range of commits; with neither, runs what each server lacks according to its
deploy state (base, backend and frontend when the state cannot be read). Each server records
what completed on it (commit, time, user@machine); check mode records nothing.

Options:
  --from REF         run what the changes from REF to --to (default HEAD) need
  --to REF           the newer end of the range (default: HEAD)
  --check            check mode: report what would change, change nothing
  --diff             show differences
  --tags TAGS        only tasks with these tags (comma-separated)
  --extra-vars VARS  extra variables (JSON, YAML, key=value or @file; YAML is passed as JSON)
${ANSIBLE_USAGE}
  --verbose          stream Ansible's output (default: a log file, its path printed)
  --json             print the result as JSON after the summary
  --dir DIR          the repository (default: the current directory)
  -h, --help         this help
`

const options = {
  ...ANSIBLE_OPTIONS,
  from: { type: 'string' },
  to: { type: 'string' },
  check: { type: 'boolean' },
  diff: { type: 'boolean' },
  tags: { type: 'string' },
  'extra-vars': { type: 'string' },
  verbose: { type: 'boolean' },
  json: { type: 'boolean' },
  dir: { type: 'string' },
} as const

export const command: Command = {
  name: 'deploy',
  summary: 'Run playbooks (named, or the plan of a range) against an inventory, in order',
  usage,
  async run(argv) {
    const { values, positionals } = parse(argv, options, true)
    const dir = resolve(values.dir ?? '.')
    const checked = checkServerOptions(dir, values)
    if (positionals.length > 0 && values.from) throw new UsageError('name playbooks or give --from, not both')
    if (values.to && !values.from) throw new UsageError('--to needs --from')

    let selection: 'auto' | Playbook[]
    try {
      selection = positionals.length > 0 ? parsePlaybookSelection(positionals.join(',')) : 'auto'
    } catch (e) {
      throw new UsageError((e as Error).message)
    }

    // The run's directory stays: it holds Ansible's log, whose path is printed.
    return withConnection(checked, values, (run, c) =>
      planAndRun({ dir, run, config: checked.planConfig, runDir: c.dir, selection, from: values.from, to: values.to, verbose: values.verbose ?? false, json: values.json ?? false }), true)
  },
}

interface DeployRun {
  dir: string
  run: AnsibleRunSettings
  config: PlanConfig
  runDir: string
  selection: 'auto' | Playbook[]
  from?: string
  to?: string
  verbose: boolean
  json: boolean
}

/** Plans (from --from, the names, or the servers' state), then runs the plan; the exit code. */
async function planAndRun({ dir, run, config, runDir, selection, ...values }: DeployRun): Promise<number> {
  // A range plans from git alone; otherwise from what each server recorded.
  const { plan, head, state, tags } = await planHere(dir, {
    config, selection, from: values.from, to: values.to, readStateWith: values.from ? undefined : run,
    withoutState: 'every playbook', event: 'django-deploy deploy', limit: run.limit,
  })
  if (state) process.stdout.write(`Deploy state read in ${formatDuration(state.durationMs)}\n`)
  process.stdout.write(planText(plan))
  if (plan.run.length === 0) {
    const unreached = unreachedHosts(plan, { playbooks: [] })
    for (const u of unreached) process.stderr.write(`${u.message}\n`)
    if (unreached.length > 0) return 1
    process.stdout.write('Nothing to deploy.\n')
    return 0
  }

  const logFile = join(runDir, 'ansible.log')
  const log = values.verbose ? undefined : createWriteStream(logFile, { mode: 0o600 })
  if (log) process.stdout.write(`Ansible's output: ${logFile}\n`)
  const result = await runPlaybooks(plan.run, {
    ...run,
    limit: plan.limit ?? run.limit,
    planTags: tags,
    record: { commit: head.commit, dirty: head.dirty, run: cliRunName() },
  }, {
    onStart: (p, i, n) => process.stdout.write(`[${i + 1}/${n}] ${p} …${values.verbose ? '\n' : ' '}`),
    onEnd: (r) => process.stdout.write(`${values.verbose ? `${r.playbook}: ` : ''}${r.status === 'success' ? 'ok' : 'FAILED'} (${formatDuration(r.durationMs)})\n`),
    output: (b) => (log ? log.write(b) : process.stdout.write(b)),
  })
  if (log) await new Promise<void>((done) => log.end(done))
  const unreached = unreachedHosts(plan, result)
  result.status = statusWithUnreached(result, unreached)
  process.stdout.write('\n' + resultText(result))
  for (const u of unreached) process.stderr.write(`${u.message}\n`)
  if (values.json) process.stdout.write(JSON.stringify(resultJson(result, plan), null, 2) + '\n')
  return result.status === 'failure' ? 1 : 0
}

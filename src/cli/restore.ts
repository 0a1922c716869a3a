// `django-deploy restore [BACKUP]`: runs playbooks/restore.yml from this machine (latest or a named
// off-site backup, the site in maintenance meanwhile), with the same checks and summary as deploy.
import { createWriteStream, existsSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { formatDuration } from '../core/format.ts'
import { runPlaybook, type AnsibleRunSettings } from '../core/run.ts'
import { parse } from './args.ts'
import { UsageError, type Command } from './command.ts'
import { ANSIBLE_OPTIONS, ANSIBLE_USAGE, checkServerOptions, withConnection } from './server-options.ts'

const usage = `Usage: django-deploy restore [BACKUP] [options]

Restores an off-site backup (the database, and media when they were backed up) onto the servers:
the latest one, or BACKUP (a name such as 20261201T031700Z.tar.age). The site answers a 503
maintenance page while it runs. A database holding data newer than the backup is left alone
unless --force is given. Deploy the backend first on a new server.

Options:
  --force            restore even over data written after the backup
${ANSIBLE_USAGE}
                     (with --limit, one server at a time when they share a database)
  --verbose          stream Ansible's output (default: a log file, its path printed)
  --dir DIR          the repository (default: the current directory)
  -h, --help         this help
`

const options = {
  ...ANSIBLE_OPTIONS,
  force: { type: 'boolean' },
  verbose: { type: 'boolean' },
  dir: { type: 'string' },
} as const

const BACKUP_NAME = /^(latest|[A-Za-z0-9._/-]*\d{8}T\d{6}Z\.tar\.age)$/

/** The restore's extra variables (pure): which backup, and whether newer data may be overwritten. */
export function restoreVars(backup: string | undefined, force: boolean): Record<string, unknown> {
  const name = backup ?? 'latest'
  if (!BACKUP_NAME.test(name)) {
    throw new UsageError(`backup "${name}": expected latest or a backup's name such as 20261201T031700Z.tar.age`)
  }
  return { backend_restore_backup: name, backend_restore_force: force }
}

export const command: Command = {
  name: 'restore',
  summary: 'Restore the latest (or a named) off-site backup onto the servers, the site in maintenance',
  usage,
  async run(argv) {
    const { values, positionals } = parse(argv, options, true)
    if (positionals.length > 1) throw new UsageError(`one backup at most, not ${positionals.length} (${positionals.join(' ')})`)
    const extraVars = restoreVars(positionals[0], values.force ?? false)
    const dir = resolve(values.dir ?? '.')
    // The repository, inventory and vault key checked as for deploy, with the same validation pass.
    const checked = checkServerOptions(dir, values)
    if (!existsSync(join(dir, 'playbooks/restore.yml'))) throw new UsageError(`${dir} has no playbooks/restore.yml (run from the repository, or pass --dir)`)

    process.stdout.write(`Restoring ${extraVars.backend_restore_backup} backup${values.limit ? ` on ${values.limit}` : ''}${values.force ? ' (--force: newer data is overwritten)' : ''}\n`)
    // The run's directory stays: it holds Ansible's log, whose path is printed.
    return withConnection(checked, values, (run, c) => restoreOn(run, c.dir, extraVars, values.verbose ?? false), true)
  },
}

async function restoreOn(run: AnsibleRunSettings, runDir: string, extraVars: Record<string, unknown>, verbose: boolean): Promise<number> {
  const logFile = join(runDir, 'ansible.log')
  const log = verbose ? undefined : createWriteStream(logFile, { mode: 0o600 })
  if (log) process.stdout.write(`Ansible's output: ${logFile}\n`)
  // Not one of the deploy playbooks, but run the same way (playbooks/<name>.yml, results plugin).
  const result = await runPlaybook('restore', { ...run, extraVars: JSON.stringify(extraVars) }, (b) => (log ? log.write(b) : process.stdout.write(b)))
  if (log) await new Promise<void>((done) => log.end(done))
  const ok = result.status === 'success'
  process.stdout.write(`restore: ${ok ? 'ok' : 'FAILED'} (${formatDuration(result.durationMs)})\n`)
  if (!ok && result.failures.length > 0) {
    for (const f of result.failures) process.stdout.write(`  ${f.host}: ${f.task}: ${f.message}\n`)
  }
  return ok ? 0 : 1
}

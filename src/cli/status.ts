// `django-deploy status`: what each server runs, per playbook (revision, age, run), its last backup,
// its processes (web, workers) and scheduled jobs, what HEAD (or the working tree) would deploy and,
// when that is a new release, its pending migrations with their class. Reads through Ansible;
// changes nothing.
import { resolve } from 'node:path'
import { ago, short } from '../core/format.ts'
import { hostRole } from '../core/layout.ts'
import { BACKUP_FILE } from '../core/plan/state-file.ts'
import { slurpFromHosts } from '../core/plan/state-read.ts'
import type { Plan, StateRead } from '../core/plan/types.ts'
import { PLAYBOOKS } from '../core/playbooks.ts'
import type { MigrationReport } from '../core/results.ts'
import { runPlaybook, type AnsibleRunSettings } from '../core/run.ts'
import { planText } from '../core/summary.ts'
import { parse } from './args.ts'
import type { Command } from './command.ts'
import { planHere } from './plan.ts'
import { processesLines, readProcesses, type HostProcesses } from './processes.ts'
import { ANSIBLE_OPTIONS, ANSIBLE_USAGE, checkServerOptions, withConnection } from './server-options.ts'

const usage = `Usage: django-deploy status [options] [--json]

For each server of the inventory: which revision each playbook last deployed, how long ago and
from which run, the last backup when there is one, the project's processes (gunicorn's blue and
green, the workers, as supervisord reports them) and scheduled jobs (each timer's calendar, next and
last run), and what HEAD (or the working tree, when it has uncommitted changes) would deploy now.
When that runs backend, the new code's pending migrations on each server, with their class
(additive, or breaking: the deploy would put up the maintenance page or refuse), from the backend
playbook's deploy tasks in check mode, as a pull request's preview lists them. Reads the servers
through Ansible (as deploy connects; the processes as root, with become); changes nothing.

Options:
${ANSIBLE_USAGE}
  --dir DIR          the repository (default: the current directory)
  --json             print it as JSON
  -h, --help         this help
`

const options = { ...ANSIBLE_OPTIONS, dir: { type: 'string' }, json: { type: 'boolean' } } as const

/** The backup record (written by the backup role): shown as found, never interpreted beyond its fields. */
export interface BackupRecord { last_success?: string | null; last_failure?: string | null; object?: string; bytes?: number; sha256?: string }

export interface Status {
  head: { commit: string; dirty: boolean }
  state: StateRead
  backups: Record<string, BackupRecord>
  processes: Record<string, HostProcesses>
  plan: Plan
  /** Per host, the pending migrations of the code backend would deploy (when the plan runs backend). */
  migrations?: Record<string, MigrationReport>
  /** Why they could not be read, when they could not. */
  migrationsError?: string
}

function mb(bytes: number | undefined): string {
  return typeof bytes === 'number' ? `${(bytes / 1_048_576).toFixed(1)} MiB` : '? bytes'
}

/** The terminal view of a status. Pure. */
export function statusText(s: Status, now: number): string {
  const out: string[] = []
  if (!s.state.ok) out.push(`Deploy state not read: ${s.state.reason}`)
  else if (s.state.hosts.length === 0) out.push('No host matches the inventory (and --limit).')
  for (const h of s.state.ok ? s.state.hosts : []) {
    const role = hostRole(s.plan.layout, h.host)
    out.push(`${h.host}${role ? ` (${role})` : ''}: ${h.status === 'read' ? (Object.keys(h.records).length > 0 ? 'deploy state read' : 'no deploy state from this copy') : `${h.status}: ${h.message ?? ''}`}`)
    for (const p of PLAYBOOKS) {
      const r = h.records[p]
      out.push(r
        ? `  ${p.padEnd(9)} ${short(r.commit)}${r.dirty ? '+' : ' '} ${ago(r.finished, now).padEnd(14)} ${r.run}`
        : `  ${p.padEnd(9)} no record`)
    }
    const b = s.backups[h.host]
    if (b) {
      out.push(`  ${'backup'.padEnd(9)} ${b.last_success ? `last success ${ago(b.last_success, now)} (${b.last_success}), ${mb(b.bytes)}, ${b.object ?? ''}` : 'never succeeded'}${b.last_failure ? `; last failure ${ago(b.last_failure, now)} (${b.last_failure})` : ''}`)
    }
    if (h.status === 'read') out.push(...processesLines(s.processes[h.host]))
  }
  if (s.migrationsError) out.push('', `Pending migrations not read: ${s.migrationsError}`)
  for (const [host, report] of Object.entries(s.migrations ?? {}).sort(([a], [b]) => a.localeCompare(b))) {
    out.push('', `${host}: pending migrations of the code to deploy: ${report.class}`)
    for (const m of report.migrations) {
      for (const o of m.operations) out.push(`  ${m.migration}: ${o.class === 'breaking' ? 'BREAKING' : 'additive'}: ${o.operation} (${o.reason})`)
    }
  }
  out.push('', `${s.head.dirty ? `The working tree (on ${short(s.head.commit)}, with uncommitted changes)` : `HEAD ${short(s.head.commit)}`} would deploy:`, planText(s.plan))
  return out.join('\n')
}

/** The pending migrations where the plan runs backend: its deploy tasks in check mode (roles/backend/tasks/migrations_preview.yml). */
async function readMigrations(run: AnsibleRunSettings, plan: Plan): Promise<Pick<Status, 'migrations' | 'migrationsError'>> {
  if (!plan.run.includes('backend')) return {}
  const r = await runPlaybook('backend', { ...run, check: true, diff: false, tags: ['backend_deploy'], limit: plan.limit ?? run.limit }, () => {})
  const failed = [...r.failures.map((f) => `${f.host}: ${f.task}: ${f.message.split('\n')[0]}`), ...(r.error ? [r.error] : [])]
  return { migrations: r.migrations ?? {}, ...(failed.length > 0 ? { migrationsError: failed.join('; ') } : {}) }
}

/** Each host's backup record, as the backup role wrote it ({} when unreadable). */
async function readBackups(run: AnsibleRunSettings): Promise<Record<string, BackupRecord>> {
  const backups: Record<string, BackupRecord> = {}
  const b = await slurpFromHosts(run, BACKUP_FILE)
  if (!b.ok) return backups
  for (const r of b.results) {
    if (r.status !== 'found') continue
    try {
      backups[r.host] = JSON.parse(r.content) as BackupRecord
    } catch {
      backups[r.host] = {}
    }
  }
  return backups
}

export const command: Command = {
  name: 'status',
  summary: 'What each server runs (per playbook: revision, age, run; processes and timers) and what HEAD would deploy',
  usage,
  async run(argv) {
    const { values } = parse(argv, options)
    const dir = resolve(values.dir ?? '.')
    const checked = checkServerOptions(dir, values)
    const status = await withConnection(checked, values, async (run): Promise<Status> => {
      const { plan, head, state } = await planHere(dir, {
        config: checked.planConfig, selection: 'auto', readStateWith: run, withoutState: 'every playbook', event: 'django-deploy status', limit: run.limit,
      })
      const [backups, processes] = await Promise.all([readBackups(run), readProcesses(run)])
      return { head, state: state!, backups, processes, plan, ...await readMigrations(run, plan) }
    })
    process.stdout.write(values.json ? JSON.stringify(status, null, 2) + '\n' : statusText(status, Date.now()))
    return 0
  },
}

// The pure checks of the operations commands (manage, logs, maintenance): every bad input is one
// UsageError (exit 2) before anything connects.
import { UsageError } from './command.ts'

/** The processes `logs --process` names (roles/backend/files/django-deploy-logs.py reads them). */
export const LOG_PROCESSES = ['web', 'worker', 'nginx', 'deploy'] as const
export type LogProcess = (typeof LOG_PROCESSES)[number]

/** manage.py commands that talk with a person: they get a terminal when this one has one. */
export const INTERACTIVE_COMMANDS = new Set(['shell', 'dbshell', 'createsuperuser', 'changepassword', 'shell_plus'])

export function checkProcesses(names: string[] | undefined): LogProcess[] {
  const out: LogProcess[] = []
  for (const n of (names ?? []).flatMap((v) => v.split(','))) {
    if (!(LOG_PROCESSES as readonly string[]).includes(n)) {
      throw new UsageError(`--process "${n}": unknown process (one of ${LOG_PROCESSES.join(', ')}; repeat --process for several)`)
    }
    if (!out.includes(n as LogProcess)) out.push(n as LogProcess)
  }
  return out
}

const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 }

/**
 * --since as the log reader takes it: `SECONDS` ago for a duration (30s, 5m, 1h, 2d: counted on the
 * server's clock), `@EPOCH` for a date (2026-12-06T21:00:00Z, read on this machine).
 */
export function parseSince(value: string, now = Date.now()): string {
  const d = /^(\d+)([smhd])$/.exec(value)
  if (d) {
    const seconds = Number(d[1]) * UNIT_SECONDS[d[2]!]!
    if (seconds <= 0) throw new UsageError(`--since "${value}": give a duration above 0 (30s, 5m, 1h, 2d)`)
    return String(seconds)
  }
  const t = /^\d{4}-\d\d-\d\d([T ]\d\d:\d\d(:\d\d)?)?(Z|[+-]\d\d:?\d\d)?$/.test(value) ? Date.parse(value.replace(' ', 'T')) : NaN
  if (Number.isNaN(t)) throw new UsageError(`--since "${value}": expected a duration (30s, 5m, 1h, 2d) or a date (2026-12-06T21:00:00Z)`)
  if (t > now) throw new UsageError(`--since "${value}" is in the future`)
  return `@${Math.floor(t / 1000)}`
}

export function checkMaintenance(positionals: string[]): 'on' | 'off' {
  if (positionals.length !== 1 || (positionals[0] !== 'on' && positionals[0] !== 'off')) {
    throw new UsageError(`expected on or off${positionals.length ? `, not "${positionals.join(' ')}"` : ''} (django-deploy maintenance on|off)`)
  }
  return positionals[0]
}

/** manage.py's arguments (after `--`), and whether they want a terminal. */
export function checkManage(positionals: string[]): { args: string[]; interactive: boolean } {
  if (positionals.length === 0) throw new UsageError('no manage.py command: django-deploy manage [--host H] -- COMMAND [ARGS…] (e.g. -- check --deploy)')
  const [cmd] = positionals as [string]
  if (cmd.startsWith('-')) throw new UsageError(`"${cmd}" is not a manage.py command: put manage.py's arguments after -- (django-deploy manage -- check --deploy)`)
  const interactive = INTERACTIVE_COMMANDS.has(cmd) && !positionals.some((a) => a === '--noinput' || a === '--no-input' || a === '-c' || a.startsWith('--command'))
  return { args: positionals, interactive }
}

/** A --host value: a name as inventories spell them (no pattern, no list). */
export function checkHostNames(hosts: string[] | undefined): string[] {
  const out = hosts ?? []
  for (const h of out) {
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(h)) throw new UsageError(`--host "${h}": expected one inventory host name (repeat --host for several)`)
  }
  return out
}

/**
 * The hosts an operation runs on: those named (each must be in the inventory), or every host of
 * the inventory; `one` (manage) wants exactly one.
 */
export function pickHosts(inventory: string[], named: string[], one: boolean): string[] {
  if (inventory.length === 0) throw new UsageError('no host in the inventory\'s webservers group (or none matches --limit)')
  for (const h of named) {
    if (!inventory.includes(h)) throw new UsageError(`--host "${h}" is not in the inventory's webservers (hosts: ${inventory.join(', ')})`)
  }
  const hosts = named.length > 0 ? [...new Set(named)] : inventory
  if (one && hosts.length !== 1) {
    throw new UsageError(named.length > 1 ? `one --host at a time, not ${hosts.length}` : `which host? the inventory has ${hosts.length} (${hosts.join(', ')}): name one with --host`)
  }
  return hosts
}

// `django-deploy logs`: gunicorn, the workers, nginx and the deploy script of one or several
// servers, as one stream ordered by time (each line: time, host, process). The server reads its
// files (roles/backend/files/django-deploy-logs.py, run by <project>-ops, journaled).
import { parse } from './args.ts'
import { UsageError, type Command } from './command.ts'
import { checkHostNames, checkProcesses, LOG_PROCESSES, parseSince } from './ops-args.ts'
import { onHosts, OPS_OPTIONS, OPS_USAGE } from './ops-run.ts'
import { opsCommand, sshArgv, sshLines } from './remote.ts'

const usage = `Usage: django-deploy logs [--since 1h] [--follow] [--process NAME]… [--host HOST]… [options]

The servers' logs merged by time, one line each: time (UTC), host, process, the line. Processes:
web (gunicorn), worker (backend_workers), nginx (the server's access and error logs), deploy (the
deploy script's switches, restarts and maintenance page). A line without a time of its own gets
the previous line's. The server's journal records each read (tag django-deploy-ops).

Options:
  --since WHEN       a duration (30s, 5m, 1h, 2d; default 1h) or a date (2026-12-06T21:00:00Z)
  --follow, -f       keep printing new lines (Ctrl-C stops)
  --process NAME     only ${LOG_PROCESSES.join(', ')} (repeat for several)
  --host HOST        only this server (repeat for several; default: every server of the inventory)
${OPS_USAGE}
`

const options = {
  ...OPS_OPTIONS,
  since: { type: 'string' },
  follow: { type: 'boolean', short: 'f' },
  process: { type: 'string', multiple: true },
} as const

export interface LogLine { time: number; host: string; process: string; text: string }

/** A line of the server's reader (EPOCH<TAB>PROCESS<TAB>TEXT), or undefined. Pure. */
export function parseLogLine(host: string, line: string): LogLine | undefined {
  const m = /^(\d+(?:\.\d+)?)\t([a-z]+)\t(.*)$/.exec(line)
  return m ? { time: Number(m[1]) * 1000, host, process: m[2]!, text: m[3]! } : undefined
}

/** Lines of several hosts in time order (stable: a host's own order kept for equal times). Pure. */
export function mergeByTime(lines: LogLine[]): LogLine[] {
  return lines.map((l, i) => [l, i] as const).sort(([a, i], [b, j]) => a.time - b.time || i - j).map(([l]) => l)
}

export function formatLogLine(l: LogLine, hostWidth: number): string {
  return `${new Date(l.time).toISOString()} ${l.host.padEnd(hostWidth)} ${l.process.padEnd(6)} ${l.text}`
}

export const command: Command = {
  name: 'logs',
  summary: 'The servers\' logs (gunicorn, workers, nginx, deploys) merged by time; --follow',
  usage,
  async run(argv) {
    const { values, positionals } = parse(argv, options, true)
    if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}" (see django-deploy logs --help)`)
    const since = parseSince(values.since ?? '1h')
    const processes = checkProcesses(values.process)
    const named = checkHostNames(values.host)
    const follow = values.follow ?? false
    const words = ['logs', '--since', since, ...(follow ? ['--follow'] : []), ...processes.flatMap((p) => ['--process', p])]
    return onHosts(values, named, false, async (targets, by) => {
      const width = Math.max(...targets.map((t) => t.host.length))
      const collected: LogLine[] = []
      const results = await Promise.all(targets.map(async (t) => {
        const r = await sshLines(sshArgv(t, opsCommand(t, by, words), false), {}, (line) => {
          const l = parseLogLine(t.host, line)
          if (!l) return
          if (follow) process.stdout.write(formatLogLine(l, width) + '\n')
          else collected.push(l)
        })
        return { host: t.host, ...r }
      }))
      for (const l of mergeByTime(collected)) process.stdout.write(formatLogLine(l, width) + '\n')
      const failed = results.filter((r) => r.code !== 0)
      for (const f of failed) process.stderr.write(`${f.host}: logs not read (exit ${f.code}): ${f.stderr.trim().split('\n').pop() ?? ''}\n`)
      return failed.length ? 1 : 0
    })
  },
}

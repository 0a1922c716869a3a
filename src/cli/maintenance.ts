// `django-deploy maintenance on|off`: the maintenance page (a 503 with Retry-After, static files
// still served) on every server or those named, the same flag the breaking migrations raise
// (bin/deploy maintenance), journaled by <project>-ops.
import { parse } from './args.ts'
import type { Command } from './command.ts'
import { checkHostNames, checkMaintenance } from './ops-args.ts'
import { onHosts, OPS_OPTIONS, OPS_USAGE } from './ops-run.ts'
import { opsCommand, sshArgv, sshLines } from './remote.ts'

const usage = `Usage: django-deploy maintenance on|off [--host HOST]… [options]

on: the site answers its maintenance page (503 with Retry-After; static and media files are still
served) until off, which prints how long it was up. The page a deploy with breaking migrations shows,
from the same flag: a deploy lifts it at its end. The server's journal records who turned it on or
off, and from where (tag django-deploy-ops).

Options:
  --host HOST        only this server (repeat for several; default: every server of the inventory)
${OPS_USAGE}
`

export const command: Command = {
  name: 'maintenance',
  summary: 'Put the site behind its maintenance page (503), or lift it',
  usage,
  async run(argv) {
    const { values, positionals } = parse(argv, OPS_OPTIONS, true)
    const state = checkMaintenance(positionals)
    const named = checkHostNames(values.host)
    return onHosts(values, named, false, async (targets, by) => {
      let failed = 0
      for (const t of targets) {
        const lines: string[] = []
        const r = await sshLines(sshArgv(t, opsCommand(t, by, ['maintenance', state]), false), {}, (l) => lines.push(l))
        if (r.code === 0) process.stdout.write(`${t.host}: ${lines.join(' ').trim()}\n`)
        else {
          failed++
          process.stderr.write(`${t.host}: FAILED (exit ${r.code}): ${r.stderr.trim().split('\n').pop() ?? ''}\n`)
        }
      }
      return failed ? 1 : 0
    })
  },
}

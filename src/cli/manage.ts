// `django-deploy manage [--host H] -- COMMAND [ARGS…]`: manage.py of the live release on one server,
// through <project>-ctl (as the project's user, with its settings), journaled by <project>-ops.
// A terminal for the commands that talk with a person; the exit code is manage.py's.
import { parse } from './args.ts'
import type { Command } from './command.ts'
import { checkHostNames, checkManage } from './ops-args.ts'
import { onHosts, OPS_OPTIONS, OPS_USAGE } from './ops-run.ts'
import { opsCommand, sshArgv, sshInteractive } from './remote.ts'

const usage = `Usage: django-deploy manage [--host HOST] [options] -- COMMAND [ARGS…]

Runs manage.py COMMAND of the live release on one server (its <project>-ctl: the project's user,
venv and settings), logged in as deploy does. shell, dbshell, createsuperuser and changepassword
get a terminal when this one is one. The exit code is the command's (255: ssh could not connect).
The server's journal records who ran it, from where, and the command (tag django-deploy-ops).

  django-deploy manage -- check --deploy
  django-deploy manage --host web2 -- shell

Options:
  --host HOST        the server (required when the inventory has several)
${OPS_USAGE}
`

export const command: Command = {
  name: 'manage',
  summary: 'Run a manage.py command of the live release on a server (a terminal for shell, dbshell…)',
  usage,
  async run(argv) {
    const { values, positionals } = parse(argv, OPS_OPTIONS, true)
    const { args, interactive } = checkManage(positionals)
    const named = checkHostNames(values.host)
    const tty = interactive && process.stdin.isTTY === true && process.stdout.isTTY === true
    return onHosts(values, named, true, ([t], by) => sshInteractive(sshArgv(t!, opsCommand(t!, by, ['manage', ...args]), tty), {}))
  },
}

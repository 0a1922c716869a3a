// The CLI's entry point: the list of subcommands. Each module exports `command: Command`.
import type { Command } from './command.ts'
import { dispatch } from './dispatch.ts'
import { command as plan } from './plan.ts'
import { command as deploy } from './deploy.ts'
import { command as status } from './status.ts'
import { command as init } from './init.ts'
import { command as demo } from './demo.ts'
import { command as restore } from './restore.ts'
import { command as manage } from './manage.ts'
import { command as logs } from './logs.ts'
import { command as maintenance } from './maintenance.ts'

export const commands: Command[] = [
  init,
  plan,
  deploy,
  status,
  restore,
  manage,
  logs,
  maintenance,
  demo,
]

process.exitCode = await dispatch(process.argv.slice(2), commands)

// The shape of a CLI subcommand: `django-deploy <name> [args]`. index.ts lists them.
import { ValidationError } from '../core/errors.ts'

export interface Command {
  name: string
  /** One line for the command list. */
  summary: string
  /** Full `--help` text. */
  usage: string
  /** Runs the command; resolves to the exit code. */
  run(argv: string[]): Promise<number>
}

/** Bad input: printed as one line (`django-deploy <cmd>: <message>`), exit code 2, nothing done. */
export class UsageError extends ValidationError {
  override name = 'UsageError'
}

// `django-deploy <command> [args]`: finds the command, answers --help, turns an error into one
// line: exit code 2 for bad input (a ValidationError, UsageError included), 1 for anything else.
import { ValidationError } from '../core/errors.ts'
import type { Command } from './command.ts'

export const BIN = 'django-deploy'

export interface Io {
  out(text: string): void
  err(text: string): void
}

export const stdio: Io = {
  out: (t) => process.stdout.write(t),
  err: (t) => process.stderr.write(t),
}

export function commandList(commands: Command[]): string {
  const width = Math.max(...commands.map((c) => c.name.length))
  return [
    `Usage: ${BIN} <command> [options]`,
    '',
    'Commands:',
    ...commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    `Run "${BIN} <command> --help" for a command's options.`,
    '',
  ].join('\n')
}

export async function dispatch(argv: string[], commands: Command[], io: Io = stdio): Promise<number> {
  const [name, ...rest] = argv
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    const target = name === 'help' && rest[0] ? commands.find((c) => c.name === rest[0]) : undefined
    io.out(target ? target.usage.replace(/\n?$/, '\n') : commandList(commands))
    return name ? 0 : 2
  }
  const command = commands.find((c) => c.name === name)
  if (!command) {
    io.err(`${BIN}: unknown command "${name}" (commands: ${commands.map((c) => c.name).join(', ')})\n`)
    return 2
  }
  // Options after `--` are the remote command's (manage -- migrate --help).
  const own = rest.includes('--') ? rest.slice(0, rest.indexOf('--')) : rest
  if (own.includes('--help') || own.includes('-h')) {
    io.out(command.usage.replace(/\n?$/, '\n'))
    return 0
  }
  try {
    return await command.run(rest)
  } catch (e) {
    const msg = (e as Error).message.split('\n')[0]
    io.err(`${BIN} ${name}: ${msg}\n`)
    return e instanceof ValidationError ? 2 : 1
  }
}

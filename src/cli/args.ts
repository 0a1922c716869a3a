// Option parsing for the subcommands: node's parseArgs, its errors turned into UsageErrors.
import { parseArgs, type ParseArgsConfig } from 'node:util'
import { UsageError } from './command.ts'

export function parse<T extends NonNullable<ParseArgsConfig['options']>>(argv: string[], options: T, allowPositionals = false) {
  try {
    return parseArgs({ args: argv, options, allowPositionals, strict: true })
  } catch (e) {
    throw new UsageError((e as Error).message.replace(/\. To specify a positional argument.*$/s, '').split('\n')[0]!)
  }
}

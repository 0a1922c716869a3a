// Questions on the terminal for init's vault values.
import { createInterface } from 'node:readline'
import { Writable } from 'node:stream'
import { UsageError } from './command.ts'

/**
 * Prompts on the terminal, one readline for the whole run (lines typed ahead are kept); what is
 * typed for a hidden answer is not echoed.
 */
export function terminalAsker(): { ask(question: string, hidden: boolean): Promise<string>; close(): void } {
  let muted = false
  const output = new Writable({
    write(chunk, _enc, cb) {
      if (!muted) process.stdout.write(chunk)
      cb()
    },
  })
  const rl = createInterface({ input: process.stdin, output, terminal: true })
  const lines = rl[Symbol.asyncIterator]()
  let interrupted = false
  rl.on('SIGINT', () => {
    interrupted = true
    rl.close()
  })
  return {
    async ask(question, hidden) {
      rl.setPrompt(question)
      rl.prompt()
      muted = hidden
      try {
        const line = await lines.next()
        if (line.done) throw new UsageError(interrupted ? 'interrupted: nothing written' : 'input ended: nothing written')
        return (line.value as string).trim()
      } finally {
        muted = false
        if (hidden || interrupted) process.stdout.write('\n')
      }
    },
    close: () => rl.close(),
  }
}


// `django-deploy demo`: a throwaway server on this machine, the example app deployed on it by the
// four playbooks, and the URL to open. The options here; the run (the test server harness,
// src/lab) in demo-run.ts, loaded by this command only.
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { parse as parseOptions } from './args.ts'
import { UsageError, type Command } from './command.ts'
import type { DemoOptions } from './demo-run.ts'

const usage = `Usage: django-deploy demo [--exit] [--keep-on-failure] [--suite SUITE]

Boots a throwaway Debian server on this machine (systemd-nspawn in its own network namespace;
needs root and what scripts/setup.sh installs), deploys the example Django app to it with the
bootstrap, base, backend and frontend playbooks (plain HTTP, no TLS), checks that the site answers,
then prints its URL and keeps the server up until Ctrl-C, which tears it down.

Options:
  --exit             tear the server down as soon as the check passed (CI, tests)
  --keep-on-failure  when a playbook fails, keep the server up (Ctrl-C tears it down) to look around
  --suite SUITE      Debian release of the server (default: bookworm)
  -h, --help         this help

The server is reachable from this machine only; from elsewhere, tunnel:
  ssh -L 8080:ADDRESS:80 root@THIS-MACHINE, then open http://localhost:8080/`

export function parseDemoArgs(argv: string[]): DemoOptions {
  const { values } = parseOptions(argv, {
    exit: { type: 'boolean' },
    'keep-on-failure': { type: 'boolean' },
    suite: { type: 'string' },
  })
  if (values.suite !== undefined && !/^[a-z][a-z0-9-]*$/.test(values.suite)) {
    throw new UsageError(`--suite "${values.suite}": expected a Debian release name such as bookworm`)
  }
  if (values.exit && values['keep-on-failure']) throw new UsageError('--exit and --keep-on-failure contradict each other: pick one')
  return { exit: values.exit ?? false, keepOnFailure: values['keep-on-failure'] ?? false, suite: values.suite }
}

export const command: Command = {
  name: 'demo',
  summary: 'Deploy the example app to a throwaway local server and print its URL',
  usage,
  async run(argv) {
    const opts = parseDemoArgs(argv)
    try {
      // The lab (systemd-nspawn, /proc, root) loads here only: every other command runs wherever Node runs.
      const { runDemo } = await import('./demo-run.ts')
      return await runDemo(opts, findRepoRoot())
    } catch (e) {
      if (e instanceof UsageError) throw e
      console.error(`django-deploy demo: ${(e as Error).message.replace(/^lab: /, '')}`)
      return 1
    }
  },
}

/** The repository: the current directory, or above it, holding ansible.cfg and playbooks/. */
function findRepoRoot(): string {
  let dir = process.cwd()
  for (;;) {
    if (existsSync(join(dir, 'ansible.cfg')) && existsSync(join(dir, 'playbooks'))) return dir
    const up = join(dir, '..')
    if (up === dir) throw new Error('run it from the repository (no ansible.cfg and playbooks/ here or above)')
    dir = up
  }
}

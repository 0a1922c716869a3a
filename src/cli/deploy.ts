// `django-deploy deploy`: runs named playbooks (or the plan of a range) from this machine, in the
// same order as the action, one progress line per playbook, then the same summary.
import { createWriteStream, existsSync, mkdtempSync, statSync } from 'node:fs'
import { relative } from 'node:path'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { planExplicit, type Plan } from '../core/plan.ts'
import { preflight, PreflightError, VAULT_KEY_SECRET } from '../core/preflight.ts'
import { readKeyFile, VaultError } from '../core/vault.ts'
import { DEPLOY_PLAYBOOKS, parsePlaybookSelection, type Playbook } from '../core/playbooks.ts'
import { readRepo } from '../core/repo.ts'
import { resultJson } from '../core/results.ts'
import { runPlaybooks } from '../core/run.ts'
import { formatDuration, planText, resultText } from '../core/summary.ts'
import { parse } from './args.ts'
import { UsageError, type Command } from './command.ts'
import { planFor } from './plan.ts'

const usage = `Usage: django-deploy deploy [PLAYBOOK...|all] [--from REF [--to REF]] [options]

Runs playbooks against an inventory, always in the order bootstrap → base → backend → frontend,
stopping at the first failure. Name them (bootstrap runs only when named), or give --from to
run the plan of a range of commits; with neither, runs base, backend and frontend.

Options:
  --inventory DIR    inventory directory (default: inventories/production)
  --vault-key FILE   the vault password file (default: vault.key)
  --from REF         run what the changes from REF to --to (default HEAD) need
  --to REF           the newer end of the range (default: HEAD)
  --check            check mode: report what would change, change nothing
  --diff             show differences
  --limit PATTERN    only hosts matching PATTERN
  --tags TAGS        only tasks with these tags (comma-separated)
  --extra-vars VARS  extra variables (JSON, YAML, key=value or @file; YAML is passed as JSON)
  --ansible-playbook PATH   the ansible-playbook to run (default: the one on PATH)
  --verbose          stream Ansible's output (default: a log file, its path printed)
  --json             print the result as JSON after the summary
  --dir DIR          the repository (default: the current directory)
  -h, --help         this help
`

const options = {
  inventory: { type: 'string' },
  'vault-key': { type: 'string' },
  from: { type: 'string' },
  to: { type: 'string' },
  check: { type: 'boolean' },
  diff: { type: 'boolean' },
  limit: { type: 'string' },
  tags: { type: 'string' },
  'extra-vars': { type: 'string' },
  'ansible-playbook': { type: 'string' },
  verbose: { type: 'boolean' },
  json: { type: 'boolean' },
  dir: { type: 'string' },
} as const

export const command: Command = {
  name: 'deploy',
  summary: 'Run playbooks (named, or the plan of a range) against an inventory, in order',
  usage,
  async run(argv) {
    const { values, positionals } = parse(argv, options, true)
    const dir = resolve(values.dir ?? '.')
    if (!existsSync(join(dir, 'playbooks'))) throw new UsageError(`${dir} has no playbooks/ directory (run from the repository, or pass --dir)`)
    const inventory = values.inventory ?? 'inventories/production'
    if (!existsSync(resolve(dir, inventory))) throw new UsageError(`inventory "${inventory}" does not exist`)
    const vaultKey = resolve(dir, values['vault-key'] ?? 'vault.key')
    if (!existsSync(vaultKey) || !statSync(vaultKey).isFile()) {
      throw new UsageError(`vault key file "${values['vault-key'] ?? 'vault.key'}" does not exist (create it with django-deploy init, or pass --vault-key FILE)`)
    }
    if (positionals.length > 0 && values.from) throw new UsageError('name playbooks or give --from, not both')
    if (values.to && !values.from) throw new UsageError('--to needs --from')
    let key: string
    try {
      key = readKeyFile(vaultKey)
    } catch (e) {
      throw new UsageError(`vault key file "${relative(dir, vaultKey)}": ${(e as VaultError).message.replace(`${vaultKey} `, '')}`)
    }
    // The one validation pass (shared with the action): nothing is planned or run before it passes.
    let extraVars: string | undefined
    try {
      extraVars = preflight({
        root: dir,
        inventory,
        vaultKey: key,
        vaultKeyFix: `pass --vault-key FILE with the key that opens it (the value stored as secrets.${VAULT_KEY_SECRET})`,
        extraVars: values['extra-vars'] ?? '',
        extraVarsWhere: '--extra-vars',
      }).extraVars
    } catch (e) {
      if (e instanceof PreflightError) throw new UsageError(e.message)
      throw e
    }

    let plan: Plan
    if (values.from) {
      plan = await planFor(dir, { from: values.from, to: values.to, inventory })
    } else {
      let names: Playbook[]
      try {
        const sel = parsePlaybookSelection(positionals.join(','))
        names = sel === 'auto' ? [...DEPLOY_PLAYBOOKS] : sel
      } catch (e) {
        throw new UsageError((e as Error).message)
      }
      plan = planExplicit(readRepo(dir), names, positionals.length > 0 ? `named on the command line: ${names.join(', ')}` : `no playbook named: ${names.join(', ')}`)
    }
    process.stdout.write(planText(plan))
    if (plan.run.length === 0) {
      process.stdout.write('Nothing to deploy.\n')
      return 0
    }

    const logFile = join(mkdtempSync(join(tmpdir(), 'django-deploy-')), 'ansible.log')
    const log = values.verbose ? undefined : createWriteStream(logFile, { mode: 0o600 })
    if (log) process.stdout.write(`Ansible's output: ${logFile}\n`)
    const result = await runPlaybooks(plan.run, {
      cwd: dir,
      ansiblePlaybook: values['ansible-playbook'] ?? 'ansible-playbook',
      inventory,
      check: values.check ?? false,
      diff: values.diff ?? false,
      limit: values.limit,
      tags: (values.tags ?? '').split(',').map((t) => t.trim()).filter(Boolean),
      extraVars,
      env: { ANSIBLE_VAULT_PASSWORD_FILE: vaultKey },
    }, {
      onStart: (p, i, n) => process.stdout.write(`[${i + 1}/${n}] ${p} …${values.verbose ? '\n' : ' '}`),
      onEnd: (r) => process.stdout.write(`${values.verbose ? `${r.playbook}: ` : ''}${r.status === 'success' ? 'ok' : 'FAILED'} (${formatDuration(r.durationMs)})\n`),
      output: (b) => (log ? log.write(b) : process.stdout.write(b)),
    })
    if (log) await new Promise<void>((done) => log.end(done))
    process.stdout.write('\n' + resultText(result))
    if (values.json) process.stdout.write(JSON.stringify(resultJson(result), null, 2) + '\n')
    return result.status === 'failure' ? 1 : 0
  },
}

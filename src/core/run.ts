// Runs the planned playbooks with ansible-playbook, in order, stopping at the first failure (in
// check mode, going on).
// Output goes live to the caller's sink; results come from the callback plugin's JSON lines.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, isAbsolute, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseResults, type PlaybookResult, type RunResult } from './results.ts'
import { childEnv, run } from './exec.ts'
import type { Playbook } from './playbooks.ts'
import { stateVars, type RunIdentity } from './plan/state-file.ts'

export const RESULTS_ENV = 'DJANGO_DEPLOY_RESULTS'
export const PLUGIN_FILE = 'django_deploy_results.py'

export interface AnsibleRunSettings {
  /** Where ansible-playbook runs: the repository (its ansible.cfg, playbooks/). */
  cwd: string
  /** The ansible-playbook executable. */
  ansiblePlaybook: string
  /** Runs ansible-playbook through another command (the lab's chroot controllers). */
  wrap?: (cmd: string, args: string[]) => { cmd: string; args: string[] }
  /** Where the callback plugin's results file goes (default RUNNER_TEMP or the temporary directory). */
  resultsDir?: string
  inventory: string
  check?: boolean
  diff?: boolean
  limit?: string
  tags?: string[]
  /** The plan's tags per playbook (a part of it: plan/parts.ts), used when `tags` is empty; the hosts
   *  record such a run as complete (roles/deploy_state), unlike one restricted by `tags`. */
  planTags?: Partial<Record<Playbook, string[]>>
  /** Files passed as `--extra-vars @file` before extraVars (the SSH options, core/ssh.ts). */
  extraVarsFiles?: string[]
  /** Passed as one `--extra-vars` argument, JSON, key=value or @file (core/extra-vars.ts makes YAML JSON). */
  extraVars?: string
  /** Added to the environment (vault password file, SSH options…). */
  env: Record<string, string>
  /** What the hosts record when a playbook completes (roles/deploy_state); never sent in check mode. */
  record?: RunIdentity
  /** The fact cache the playbooks of one run share (runPlaybooks makes one per run); by default
   *  each playbook has its own, in its private directory. */
  factCacheDir?: string
}

export interface RunHooks {
  /** Called before each playbook; may wrap the run (a log group). */
  around?<T>(playbook: Playbook, index: number, total: number, run: () => Promise<T>): Promise<T>
  onStart?(playbook: Playbook, index: number, total: number): void
  onEnd?(result: PlaybookResult, index: number, total: number): void
  /** Receives ansible-playbook's output, live. */
  output(chunk: Buffer): void
}

/** A playbook name means playbooks/<name>.yml; a path (with a / or .yml) is taken as it is. */
export function playbookFile(playbook: string): string {
  return playbook.endsWith('.yml') || playbook.includes('/') ? playbook : join('playbooks', `${playbook}.yml`)
}

/** The arguments of one run: an array, never a joined string. */
export function playbookArgs(playbook: string, s: AnsibleRunSettings): string[] {
  const args = [playbookFile(playbook), '-i', s.inventory]
  if (s.check) args.push('--check')
  if (s.diff) args.push('--diff')
  if (s.limit) args.push('--limit', s.limit)
  if (s.tags?.length) args.push('--tags', s.tags.join(','))
  for (const f of s.extraVarsFiles ?? []) args.push('--extra-vars', `@${f}`)
  const planned = s.tags?.length ? undefined : s.planTags?.[playbook as Playbook]
  if (planned?.length) args.push('--tags', planned.join(','))
  if (s.record && !s.check) args.push('--extra-vars', JSON.stringify(stateVars(s.record, planned)))
  if (s.extraVars) args.push('--extra-vars', s.extraVars)
  return args
}

/** Reads `callback_plugins` from an ansible.cfg's [defaults] section (pure). */
export function cfgCallbackPlugins(cfgText: string): string | undefined {
  return cfgDefault(cfgText, 'callback_plugins')
}

/** Reads a key of an ansible.cfg's [defaults] section (pure). */
export function cfgDefault(cfgText: string, key: string): string | undefined {
  let section = ''
  for (const raw of cfgText.split('\n')) {
    const line = raw.trim()
    if (!line || line.startsWith('#') || line.startsWith(';')) continue
    const sec = /^\[(.+)\]$/.exec(line)
    if (sec) {
      section = sec[1]!.trim()
      continue
    }
    const kv = /^([\w.]+)\s*[=:]\s*(.*)$/.exec(line)
    if (section === 'defaults' && kv && kv[1] === key) return kv[2]!.trim()
  }
  return undefined
}

const DEFAULT_CALLBACK_PATH = '~/.ansible/plugins/callback:/usr/share/ansible/plugins/callback'

/**
 * ANSIBLE_CALLBACK_PLUGINS with our plugin's directory first, keeping what the environment or the
 * repository's ansible.cfg configured (an environment variable would otherwise hide it).
 */
export function callbackPluginPath(pluginDir: string, env: Record<string, string | undefined>, cfg?: { dir: string; text: string }): string {
  let rest = env.ANSIBLE_CALLBACK_PLUGINS
  if (!rest && cfg) {
    const v = cfgCallbackPlugins(cfg.text)
    if (v) rest = v.split(':').map((p) => (p.startsWith('~') || isAbsolute(p) ? p : resolve(cfg.dir, p))).join(':')
  }
  return [pluginDir, rest ?? DEFAULT_CALLBACK_PATH].join(':')
}

/** The directory holding the callback plugin: dist/ansible beside the bundle, src/ansible from source. */
export function pluginDir(): string {
  const here = dirname(fileURLToPath(import.meta.url))
  for (const d of [join(here, 'ansible'), join(here, '..', 'ansible')]) {
    if (existsSync(join(d, PLUGIN_FILE))) return d
  }
  throw new Error(`the Ansible callback plugin ${PLUGIN_FILE} is missing beside ${here}`)
}

/**
 * The fact cache of a run: a jsonfile cache in a private directory, so that facts bootstrap gathered
 * are not gathered again by base and backend (their setup tasks run only when the facts they use are
 * missing). Nothing when the environment or ansible.cfg configures a cache of its own. Pure.
 */
export function factCacheEnv(dir: string, env: Record<string, string | undefined>, cfgText = ''): Record<string, string> {
  if (env.ANSIBLE_CACHE_PLUGIN || cfgDefault(cfgText, 'fact_caching')) return {}
  return { ANSIBLE_CACHE_PLUGIN: 'jsonfile', ANSIBLE_CACHE_PLUGIN_CONNECTION: dir }
}

/** The environment of a run: ours on top of the caller's, with the results file, the plugin and the fact cache. */
export function runEnv(s: AnsibleRunSettings, resultsFile: string, base: NodeJS.ProcessEnv = process.env, factCacheDir = join(dirname(resultsFile), 'facts')): Record<string, string> {
  const env = childEnv(s.env, base)
  const cfgFile = env.ANSIBLE_CONFIG ? resolve(s.cwd, env.ANSIBLE_CONFIG) : join(s.cwd, 'ansible.cfg')
  const cfg = existsSync(cfgFile) ? { dir: dirname(cfgFile), text: readFileSync(cfgFile, 'utf8') } : undefined
  env.ANSIBLE_CALLBACK_PLUGINS = callbackPluginPath(pluginDir(), { ...env, ANSIBLE_CALLBACK_PLUGINS: s.env.ANSIBLE_CALLBACK_PLUGINS ?? base.ANSIBLE_CALLBACK_PLUGINS }, cfg)
  Object.assign(env, factCacheEnv(factCacheDir, env, cfg?.text))
  env[RESULTS_ENV] = resultsFile
  env.PYTHONUNBUFFERED = '1'
  env.ANSIBLE_RETRY_FILES_ENABLED = 'false'
  return env
}

/**
 * Runs one playbook (a name from playbooks/ or a path from `cwd`); never throws for a failed run
 * (the result says so). The action, the CLI, the lab, the tests and the bench all run through here.
 */
export async function runPlaybook<P extends string = Playbook>(playbook: P, s: AnsibleRunSettings, output: (b: Buffer) => void): Promise<PlaybookResult<P>> {
  const dir = mkdtempSync(join(s.resultsDir || s.env.RUNNER_TEMP || process.env.RUNNER_TEMP || tmpdir(), 'django-deploy-results-'))
  const resultsFile = join(dir, 'results.jsonl')
  const started = Date.now()
  const command = s.wrap ? s.wrap(s.ansiblePlaybook, playbookArgs(playbook, s)) : { cmd: s.ansiblePlaybook, args: playbookArgs(playbook, s) }
  try {
    const code = await run(command.cmd, command.args, { cwd: s.cwd, env: runEnv(s, resultsFile, process.env, s.factCacheDir ?? join(dir, 'facts')), onOutput: output })
      .then((r) => r.code, (e: Error) => {
        output(Buffer.from(`${s.ansiblePlaybook}: ${e.message}\n`))
        return 127
      })
    const jsonl = existsSync(resultsFile) ? readFileSync(resultsFile, 'utf8') : ''
    return parseResults(playbook, jsonl, code, Date.now() - started, s.cwd)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

/**
 * Runs the playbooks in the given order (the plan's), stopping at the first failure; in check mode
 * every playbook runs (nothing changes, so a failing preview must not hide the next ones').
 */
export async function runPlaybooks(playbooks: Playbook[], s: AnsibleRunSettings, hooks: RunHooks): Promise<RunResult> {
  const results: PlaybookResult[] = []
  const total = playbooks.length
  // One fact cache for the run's playbooks (facts are gathered once per run, never reused by another run).
  const facts = s.factCacheDir ? undefined : mkdtempSync(join(s.resultsDir || s.env.RUNNER_TEMP || process.env.RUNNER_TEMP || tmpdir(), 'django-deploy-facts-'))
  const settings = { ...s, factCacheDir: s.factCacheDir ?? facts }
  try {
    for (const [i, p] of playbooks.entries()) {
      hooks.onStart?.(p, i, total)
      const go = () => runPlaybook(p, settings, hooks.output)
      const r = hooks.around ? await hooks.around(p, i, total, go) : await go()
      results.push(r)
      hooks.onEnd?.(r, i, total)
      if (r.status === 'failure' && !s.check) {
        return { status: 'failure', playbooks: results, notRun: playbooks.slice(i + 1), check: !!s.check }
      }
    }
  } finally {
    if (facts) rmSync(facts, { recursive: true, force: true })
  }
  const failed = results.some((r) => r.status === 'failure')
  return { status: total === 0 ? 'skipped' : failed ? 'failure' : 'success', playbooks: results, notRun: [], check: !!s.check }
}

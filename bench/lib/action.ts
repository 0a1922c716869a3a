// The action's overhead: dist/index.js run as the runner runs it (INPUT_* variables, GITHUB_* files),
// with ansible-version `system`, against a trivial plan: one playbook with one task on localhost.
// An `ansible-playbook` shim first on PATH records when the first playbook starts.
import { spawn } from 'node:child_process'
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { run } from '../../src/lab/exec.ts'

export interface ActionOverhead {
  /** Seconds from spawning `node dist/index.js` to the first ansible-playbook run (not --version). */
  toFirstPlaybook: number
  /** Each ansible-playbook call: seconds after the start, and its arguments. */
  calls: { at: number; args: string }[]
  /** Seconds of the whole action step. */
  total: number
  /** Seconds of the same playbook run by hand (`ansible-playbook -i … playbooks/base.yml`). */
  byHand: number
  exitCode: number
  outputs: Record<string, string>
  note: string
}

const PLAYBOOK = `---
- name: Trivial plan for the benchmark
  hosts: webservers
  gather_facts: false
  tasks:
    - name: The host answers
      ansible.builtin.ping:
`

function which(cmd: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(':')) {
    const p = join(dir, cmd)
    if (dir && existsSync(p)) return p
  }
  return undefined
}

/** Parses the GITHUB_OUTPUT file (name=value lines and name<<DELIM heredocs). */
export function parseOutputs(text: string): Record<string, string> {
  const out: Record<string, string> = {}
  const lines = text.split('\n')
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!
    const h = /^([^=<]+)<<(.+)$/.exec(line)
    if (h) {
      const body: string[] = []
      for (i++; i < lines.length && lines[i] !== h[2]; i++) body.push(lines[i]!)
      out[h[1]!] = body.join('\n')
    } else {
      const m = /^([^=]+)=(.*)$/.exec(line)
      if (m) out[m[1]!] = m[2]!
    }
  }
  return out
}

export async function actionOverhead(repoRoot: string, scratch: string): Promise<ActionOverhead | { missing: string }> {
  const entry = join(repoRoot, 'dist/index.js')
  if (!existsSync(entry)) return { missing: 'dist/index.js is not in this tree (the action is not built/merged)' }
  const real = which('ansible-playbook')
  if (!real) return { missing: 'ansible-playbook is not on PATH' }

  const dir = join(scratch, 'action')
  rmSync(dir, { recursive: true, force: true })
  const ws = join(dir, 'workspace')
  const shim = join(dir, 'shim')
  const gh = join(dir, 'github')
  const temp = join(dir, 'runner-temp')
  for (const d of [ws, shim, gh, temp, join(ws, 'playbooks'), join(ws, 'inventory/group_vars/all')]) mkdirSync(d, { recursive: true })

  // A workspace with one trivial playbook and an inventory of this machine (local connection).
  writeFileSync(join(ws, 'playbooks/base.yml'), PLAYBOOK)
  writeFileSync(join(ws, 'inventory/hosts.yml'), `---\nwebservers:\n  hosts:\n    bench-local:\n      ansible_connection: local\n      ansible_python_interpreter: /usr/bin/python3\n`)
  writeFileSync(join(ws, 'ansible.cfg'), '[defaults]\nretry_files_enabled = False\ninterpreter_python = auto_silent\n')
  await run('git', ['init', '-q', ws])
  await run('git', ['-C', ws, '-c', 'user.name=bench', '-c', 'user.email=bench@example.invalid', 'add', '-A'])
  await run('git', ['-C', ws, '-c', 'user.name=bench', '-c', 'user.email=bench@example.invalid', 'commit', '-qm', 'bench'])
  const sha = (await run('git', ['-C', ws, 'rev-parse', 'HEAD'])).stdout.trim()

  // The shim: records the time of each ansible-playbook call, then runs the real one.
  const stamps = join(dir, 'ansible-playbook.calls')
  writeFileSync(join(shim, 'ansible-playbook'), `#!/bin/sh\necho "$(date +%s.%N) $*" >> '${stamps}'\nexec '${real}' "$@"\n`)
  chmodSync(join(shim, 'ansible-playbook'), 0o755)

  const keyFile = join(dir, 'id_ed25519')
  await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'bench', '-f', keyFile])
  const event = join(gh, 'event.json')
  writeFileSync(event, JSON.stringify({ inputs: { playbooks: 'base' }, ref: 'refs/heads/main', repository: { full_name: 'bench/bench', default_branch: 'main' } }))
  const files = { GITHUB_OUTPUT: 'output', GITHUB_STEP_SUMMARY: 'summary.md', GITHUB_STATE: 'state', GITHUB_ENV: 'env', GITHUB_PATH: 'path' }
  for (const f of Object.values(files)) writeFileSync(join(gh, f), '')

  const env: NodeJS.ProcessEnv = {
    PATH: `${shim}:${process.env.PATH}`,
    HOME: process.env.HOME,
    LANG: process.env.LANG ?? 'C.UTF-8',
    GITHUB_ACTIONS: 'true',
    CI: 'true',
    GITHUB_WORKSPACE: ws,
    GITHUB_EVENT_NAME: 'workflow_dispatch',
    GITHUB_EVENT_PATH: event,
    GITHUB_REPOSITORY: 'bench/bench',
    GITHUB_SHA: sha,
    GITHUB_REF: 'refs/heads/main',
    GITHUB_RUN_ID: '1',
    GITHUB_JOB: 'deploy',
    GITHUB_ACTION: 'deploy',
    RUNNER_OS: 'Linux',
    RUNNER_ARCH: 'X64',
    RUNNER_TEMP: temp,
    RUNNER_TOOL_CACHE: join(dir, 'toolcache'),
    'INPUT_PLAYBOOKS': 'base',
    'INPUT_INVENTORY': 'inventory',
    'INPUT_VAULT-KEY': 'bench-vault-key-not-secret',
    'INPUT_SSH-PRIVATE-KEY': readFileSync(keyFile, 'utf8'),
    'INPUT_KNOWN-HOSTS': `bench.invalid ${readFileSync(`${keyFile}.pub`, 'utf8').split(' ').slice(0, 2).join(' ')}`,
    'INPUT_ACCEPT-NEW-HOST-KEYS': 'false',
    'INPUT_ANSIBLE-VERSION': 'system',
    'INPUT_CHECK': 'false',
    'INPUT_DIFF': 'false',
    'INPUT_LIMIT': '',
    'INPUT_TAGS': '',
    'INPUT_EXTRA-VARS': '',
    'INPUT_WORKING-DIRECTORY': '.',
  }
  for (const [k, f] of Object.entries(files)) env[k] = join(gh, f)

  const runStep = (state: boolean) => new Promise<{ code: number; output: string; startedAt: number; seconds: number }>((resolve, reject) => {
    const startedAt = Date.now() / 1000
    const t0 = performance.now()
    const stepEnv = { ...env }
    if (state) {
      // The runner hands the post step what main saved with saveState, as STATE_* variables.
      for (const [k, v] of Object.entries(parseOutputs(readFileSync(join(gh, 'state'), 'utf8')))) stepEnv[`STATE_${k}`] = v
    }
    const child = spawn(process.execPath, [entry], { cwd: ws, env: stepEnv, stdio: ['ignore', 'pipe', 'pipe'] })
    const chunks: Buffer[] = []
    child.stdout.on('data', (b: Buffer) => chunks.push(b))
    child.stderr.on('data', (b: Buffer) => chunks.push(b))
    child.on('error', reject)
    child.on('close', (code) => resolve({ code: code ?? 1, output: Buffer.concat(chunks).toString('utf8'), startedAt, seconds: (performance.now() - t0) / 1000 }))
  })

  const main = await runStep(false)
  const post = await runStep(true)
  const calls = existsSync(stamps) ? readFileSync(stamps, 'utf8').trim().split('\n').filter(Boolean) : []
  const playbookCalls = calls.filter((l) => !/ --version\b/.test(l))
  writeFileSync(join(dir, 'main.log'), main.output)
  writeFileSync(join(dir, 'post.log'), post.output)
  if (main.code !== 0 || playbookCalls.length === 0) {
    const tail = main.output.trim().split('\n').slice(-8).join(' | ')
    throw new Error(`the action exited ${main.code} with ${playbookCalls.length} playbook run(s): ${tail}`)
  }
  const first = Number(playbookCalls[0]!.split(' ')[0])
  const timeline = calls.map((l) => ({
    at: Math.round((Number(l.split(' ')[0]) - main.startedAt) * 100) / 100,
    args: l.replace(/^\S+ /, '').replace(/--vault-password-file \S+/, '--vault-password-file …'),
  }))

  const t0 = performance.now()
  const byHand = await run(real, ['-i', 'inventory', 'playbooks/base.yml'], { cwd: ws, env: { ...process.env, ANSIBLE_CONFIG: join(ws, 'ansible.cfg') } })
  const byHandSeconds = (performance.now() - t0) / 1000
  if (byHand.code !== 0) throw new Error(`ansible-playbook by hand exited ${byHand.code}: ${byHand.stdout.slice(-300)}`)

  return {
    toFirstPlaybook: first - main.startedAt,
    total: main.seconds,
    byHand: byHandSeconds,
    exitCode: main.code,
    outputs: parseOutputs(readFileSync(join(gh, 'output'), 'utf8')),
    calls: timeline,
    note: `node dist/index.js as the runner runs it (workflow_dispatch, playbooks: base, ansible-version: system), ` +
      `a one-task playbook on a local connection; post step ${post.seconds.toFixed(2)} s (exit ${post.code}). ` +
      `ansible-playbook calls: ${timeline.map((c) => `+${c.at.toFixed(2)} s ${c.args.split(' ')[0]}`).join(', ')}.`,
  }
}

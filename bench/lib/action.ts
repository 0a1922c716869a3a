// The action's overhead: dist/index.js run as the runner runs it (INPUT_* variables, GITHUB_* files),
// with ansible-version `system`, against a trivial plan: one playbook with one task on localhost.
// An `ansible-playbook` shim first on PATH records when the first playbook starts.
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { run } from '../../src/core/exec.ts'
import { runActionSteps } from '../../test/support/runner.ts'

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
  for (const d of [ws, shim, gh, join(ws, 'playbooks'), join(ws, 'inventory/group_vars/all')]) mkdirSync(d, { recursive: true })

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
  const { main, post } = await runActionSteps({
    entry,
    workspace: ws,
    runnerDir: gh,
    event: { name: 'workflow_dispatch', payload: { inputs: { playbooks: 'base' }, ref: 'refs/heads/main', repository: { full_name: 'bench/bench', default_branch: 'main' } } },
    inputs: {
      playbooks: 'base',
      inventory: 'inventory',
      'vault-key': 'bench-vault-key-not-secret',
      'ssh-private-key': readFileSync(keyFile, 'utf8'),
      'known-hosts': `bench.invalid ${readFileSync(`${keyFile}.pub`, 'utf8').split(' ').slice(0, 2).join(' ')}`,
      'accept-new-host-keys': 'false',
      'ansible-version': 'system',
      check: 'false',
      diff: 'false',
      limit: '',
      tags: '',
      'extra-vars': '',
      'working-directory': '.',
    },
    env: {
      PATH: `${shim}:${process.env.PATH}`,
      LANG: process.env.LANG ?? 'C.UTF-8',
      CI: 'true',
      GITHUB_REPOSITORY: 'bench/bench',
      GITHUB_SHA: sha,
      GITHUB_REF: 'refs/heads/main',
      GITHUB_RUN_ID: '1',
      GITHUB_JOB: 'deploy',
      GITHUB_ACTION: 'deploy',
      RUNNER_OS: 'Linux',
      RUNNER_ARCH: 'X64',
      RUNNER_TOOL_CACHE: join(dir, 'toolcache'),
    },
  })
  const calls = existsSync(stamps) ? readFileSync(stamps, 'utf8').trim().split('\n').filter(Boolean) : []
  const playbookCalls = calls.filter((l) => !/ --version\b/.test(l))
  writeFileSync(join(dir, 'main.log'), main.stdout)
  writeFileSync(join(dir, 'post.log'), post.stdout)
  if (main.code !== 0 || playbookCalls.length === 0) {
    const tail = main.stdout.trim().split('\n').slice(-8).join(' | ')
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
    outputs: main.outputs,
    calls: timeline,
    note: `node dist/index.js as the runner runs it (workflow_dispatch, playbooks: base, ansible-version: system), ` +
      `a one-task playbook on a local connection; post step ${post.seconds.toFixed(2)} s (exit ${post.code}). ` +
      `ansible-playbook calls: ${timeline.map((c) => `+${c.at.toFixed(2)} s ${c.args.split(' ')[0]}`).join(', ')}.`,
  }
}

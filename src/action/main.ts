// The main step, one straight line: inputs → plan → secrets → Ansible → runs → results → summary.
import * as core from '@actions/core'
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs'
import { hostname, tmpdir, userInfo } from 'node:os'
import { join, relative, resolve } from 'node:path'
import { resultJson, type RunResult } from '../core/results.ts'
import { runPlaybooks, type AnsibleRunSettings } from '../core/run.ts'
import { inventoriesSettingCommonArgs, INVENTORY_SSH_ARGS_VAR } from '../core/ssh.ts'
import { runName } from '../core/state.ts'
import { cell, formatDuration, planText, summaryMarkdown } from '../core/summary.ts'
import type { Plan } from '../core/plan.ts'
import { writeCredentials, type Credentials } from './credentials.ts'
import { readSettings, type Settings } from './inputs.ts'
import { installAnsible, type InstalledAnsible } from './install.ts'
import { planRun } from './plan-step.ts'
import { markMainRan, saveControlDir, saveSecretsDir } from './state.ts'

/** Checks what the settings name on disk; one line on the first problem. */
function checkPaths(settings: Settings, root: string): void {
  if (!existsSync(root) || !statSync(root).isDirectory()) {
    throw new Error(`input "working-directory": "${settings.workingDirectory}" is not a directory of the repository (did actions/checkout run?)`)
  }
  if (!existsSync(join(root, settings.inventory))) {
    throw new Error(`input "inventory": "${settings.inventory}" does not exist in ${settings.workingDirectory} (expected a directory such as inventories/production)`)
  }
  if (!settings.vaultKey) {
    const vault = encryptedFiles(join(root, settings.inventory))[0]
    if (vault) throw new Error(`input "vault-key" is empty but ${relative(root, vault)} is encrypted (pass the vault key secret: vault-key: \${{ secrets.VAULT_KEY }})`)
  }
}

/** Files of the inventory encrypted with ansible-vault (a small directory: read each file's head). */
function encryptedFiles(dir: string): string[] {
  if (!statSync(dir).isDirectory()) return []
  const out: string[] = []
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name)
    if (e.isDirectory()) out.push(...encryptedFiles(p))
    else if (e.isFile() && /\.ya?ml$|^[^.]+$/.test(e.name) && readFileSync(p, 'utf8').slice(0, 14) === '$ANSIBLE_VAULT') out.push(p)
  }
  return out
}

async function writeSummary(markdown: string): Promise<void> {
  if (!process.env.GITHUB_STEP_SUMMARY) return
  try {
    await core.summary.addRaw(markdown, true).write()
  } catch (e) {
    core.warning(`Job summary not written: ${(e as Error).message}`)
  }
}

function setOutputs(plan: Plan, result: RunResult): void {
  core.setOutput('plan', JSON.stringify(plan))
  core.setOutput('playbooks', result.playbooks.map((p) => p.playbook).join(','))
  core.setOutput('result', JSON.stringify(resultJson(result, plan)))
  core.setOutput('status', result.status)
}

/** One annotation per failed task, at its file and line (relative to the workspace). */
function annotate(result: RunResult, workingDirectory: string): void {
  for (const p of result.playbooks) {
    for (const f of p.failures) {
      const file = f.file && !f.file.startsWith('/') ? (workingDirectory === '.' ? f.file : join(workingDirectory, f.file)) : undefined
      core.error(`${f.task} — ${f.status} on ${f.host}: ${f.message}`, {
        title: `${p.playbook}: ${f.task}`,
        ...(file ? { file, startLine: f.line } : {}),
      })
    }
    if (p.error) core.error(`${p.playbook}: ${p.error}`, { title: `${p.playbook} did not run to its end` })
  }
}

export async function main(): Promise<void> {
  markMainRan()
  const settings = readSettings((name) => core.getInput(name))
  const workspace = process.env.GITHUB_WORKSPACE || process.cwd()
  const root = resolve(workspace, settings.workingDirectory)
  checkPaths(settings, root)
  const started = Date.now()

  let creds: Credentials
  let ansible: InstalledAnsible
  try {
    creds = writeCredentials(settings, process.env.RUNNER_TEMP || tmpdir(), saveSecretsDir, saveControlDir)
    core.info(`Secrets written to ${creds.dir} (${creds.files.join(', ') || 'none'}), mode 0600`)
    for (const f of inventoriesSettingCommonArgs(join(root, settings.inventory))) {
      core.warning(`${relative(root, f)} sets ansible_ssh_common_args, which the action's SSH options replace (known_hosts, key): put your own options in ${INVENTORY_SSH_ARGS_VAR} instead, they are appended`)
    }
    ansible = await core.group('Ansible', () => installAnsible(settings.ansible))
  } catch (e) {
    // Nothing ran: the summary says why it stopped.
    await writeSummary(`## Deploy ❌ failed\n\n> [!CAUTION]\n> Stopped before planning: ${cell((e as Error).message)}\n`)
    throw e
  }

  // One settings object for the state read and the runs: both connect to the hosts the same way.
  const run: AnsibleRunSettings = {
    cwd: root,
    ansiblePlaybook: ansible.ansiblePlaybook,
    inventory: settings.inventory,
    check: settings.check,
    diff: settings.diff,
    limit: settings.limit || undefined,
    tags: settings.tags,
    extraVarsFiles: creds.extraVarsFiles,
    extraVars: settings.extraVars || undefined,
    env: { ...creds.env, ANSIBLE_FORCE_COLOR: '1', RUNNER_TEMP: creds.dir },
  }
  const { plan, head } = await core.group('Plan', async () => {
    const p = await planRun(settings, root, run)
    if (p.stateMs !== undefined) core.info(`Deploy state read in ${formatDuration(p.stateMs)} (${p.stateMs} ms)`)
    core.info(planText(p.plan))
    return p
  })
  core.setOutput('plan', JSON.stringify(plan))
  if (plan.fallback) core.warning(plan.fallback)
  for (const n of plan.notes) core.notice(n)
  for (const h of plan.hosts ?? []) if (h.state === 'unreachable') core.warning(`${h.host}: deploy state not read: ${h.message ?? 'unreachable'}`)

  if (plan.run.length === 0) {
    const result: RunResult = { status: 'skipped', playbooks: [], notRun: [], check: settings.check }
    setOutputs(plan, result)
    await writeSummary(summaryMarkdown(plan, result, { inventory: settings.inventory }))
    core.info('Nothing to deploy.')
    return
  }
  core.info(`Ready to run ${plan.run.join(' → ')} after ${formatDuration(Date.now() - started)}`)

  const result = await runPlaybooks(plan.run, {
    ...run,
    limit: plan.limit ?? run.limit,
    record: { commit: head.commit, dirty: head.dirty, run: runName(process.env, `${userInfo().username}@${hostname()}`) },
  }, {
    around: async (p, i, n, go) => {
      core.startGroup(`${p} (${i + 1}/${n}): ansible-playbook playbooks/${p}.yml${settings.check ? ' --check' : ''}`)
      try {
        return await go()
      } finally {
        core.endGroup()
      }
    },
    onEnd: (r) => core.info(`${r.status === 'success' ? '✅' : '❌'} ${r.playbook}: ${r.status} in ${formatDuration(r.durationMs)}`),
    output: (b) => process.stdout.write(b),
  })

  annotate(result, settings.workingDirectory)
  setOutputs(plan, result)
  await writeSummary(summaryMarkdown(plan, result, { inventory: settings.inventory }))
  if (result.status === 'failure') {
    const failed = result.playbooks.find((p) => p.status === 'failure')!
    const f = failed.failures[0]
    core.setFailed(f
      ? `${failed.playbook} failed: "${f.task}" on ${f.host}${f.file ? ` (${f.file}:${f.line ?? ''})` : ''}: ${f.message.split('\n')[0]}`
      : `${failed.playbook} failed: ${failed.error ?? `ansible-playbook exited with code ${failed.exitCode}`}`)
  }
}

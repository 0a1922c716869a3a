// The main step, one straight line: inputs → validation → plan → secrets → Ansible → runs → results → summary.
import * as core from '@actions/core'
import { existsSync, statSync } from 'node:fs'
import { hostname, tmpdir, userInfo } from 'node:os'
import { join, relative, resolve } from 'node:path'
import { connectedRun, type Connection } from '../core/connection.ts'
import { formatDuration } from '../core/format.ts'
import { makePlan } from '../core/plan/make.ts'
import { runName } from '../core/plan/state-file.ts'
import type { Plan } from '../core/plan/types.ts'
import { preflight, VAULT_KEY_SECRET } from '../core/preflight.ts'
import { resultJson, type RunResult } from '../core/results.ts'
import { runPlaybooks, type AnsibleRunSettings } from '../core/run.ts'
import { inventoriesSettingCommonArgs, INVENTORY_SSH_ARGS_VAR } from '../core/ssh.ts'
import { cell, planText, runsText, summaryMarkdown } from '../core/summary.ts'
import { scrub, secretPieces } from '../core/secrets.ts'
import { statusWithUnreached, unreachedHosts } from '../core/unreachable.ts'
import { postWebhook, webhookPayload, type DeployEnd } from '../core/webhook.ts'
import { driftMarkdown, driftText, hasDrift } from '../core/drift.ts'
import { syncIssue, upsertComment, type GitHubTarget } from '../core/github/api.ts'
import { commentBody, commentMarker } from '../core/github/pr-comment.ts'
import { writeCredentials } from './credentials.ts'
import { checkDrift } from './drift.ts'
import { githubTarget, pullRequestOf } from './github.ts'
import { readSettings, type Settings } from './inputs.ts'
import { installAnsible, type InstalledAnsible } from './install.ts'
import { planRequest } from './plan-request.ts'
import { markMainRan, saveControlDir, saveSecretsDir } from './post-state.ts'

/** Checks what the settings name on disk; one line on the first problem. */
function checkPaths(settings: Settings, root: string): void {
  if (!existsSync(root) || !statSync(root).isDirectory()) {
    throw new Error(`input "working-directory": "${settings.workingDirectory}" is not a directory of the repository (did actions/checkout run?)`)
  }
  if (!existsSync(join(root, settings.inventory))) {
    throw new Error(`input "inventory": "${settings.inventory}" does not exist in ${settings.workingDirectory} (expected a directory such as inventories/production)`)
  }
}

/** The secrets of this run (vault values, keys), longest first: masked in the log, scrubbed from summary and outputs. */
let secrets: string[] = []

function registerSecrets(values: string[]): void {
  const pieces = secretPieces(values)
  for (const p of pieces) core.setSecret(p)
  secrets = secretPieces([...secrets, ...pieces])
}

const clean = (text: string): string => scrub(text, secrets)

/** Child processes (git, pip, ansible-playbook…) must not inherit the inputs: INPUT_VAULT-KEY and the like. */
function dropInputsFromEnvironment(): void {
  for (const k of Object.keys(process.env)) if (k.startsWith('INPUT_')) delete process.env[k]
}

async function writeSummary(markdown: string): Promise<void> {
  if (!process.env.GITHUB_STEP_SUMMARY) return
  try {
    await core.summary.addRaw(clean(markdown), true).write()
  } catch (e) {
    core.warning(`Job summary not written: ${(e as Error).message}`)
  }
}

function setOutputs(plan: Plan, result: RunResult): void {
  core.setOutput('plan', clean(JSON.stringify(plan)))
  core.setOutput('playbooks', result.playbooks.map((p) => p.playbook).join(','))
  core.setOutput('result', clean(JSON.stringify(resultJson(result, plan))))
  core.setOutput('status', result.status)
}

/**
 * Exactly one annotation per failure: each failed task (its own message, at its file and line,
 * relative to the workspace), or the playbook's error when no task said why.
 */
function annotate(result: RunResult, workingDirectory: string): void {
  for (const p of result.playbooks) {
    for (const f of p.failures) {
      const file = f.file && !f.file.startsWith('/') ? (workingDirectory === '.' ? f.file : join(workingDirectory, f.file)) : undefined
      core.error(clean(`${p.playbook} failed: "${f.task}" ${f.status} on ${f.host}: ${f.message}`), {
        title: `${p.playbook}: ${f.task}`,
        ...(file ? { file, startLine: f.line } : {}),
      })
    }
    if (p.status === 'failure' && p.failures.length === 0) {
      core.error(clean(`${p.playbook} failed: ${p.error ?? `ansible-playbook exited with code ${p.exitCode}`}`), { title: `${p.playbook} did not run to its end` })
    }
  }
}

/** The workflow run's page, when GitHub runs it. */
function runUrl(): string | undefined {
  const { GITHUB_SERVER_URL: server, GITHUB_REPOSITORY: repo, GITHUB_RUN_ID: id } = process.env
  return server && repo && id ? `${server}/${repo}/actions/runs/${id}` : undefined
}

/** The webhook's message, scrubbed of every secret of the run; a failed delivery is a warning. */
async function notify(url: string, end: DeployEnd): Promise<void> {
  const r = await postWebhook(url, clean(JSON.stringify(webhookPayload(end))))
  if (r.ok) core.info(`Webhook: delivered (HTTP ${r.status})`)
  else core.warning(`Webhook not delivered: ${clean(r.reason)}`)
}

/** Nothing ran: the summary says why it stopped, and the error (one line) fails the step. */
async function stopped(e: unknown, when: string): Promise<never> {
  await writeSummary(`## Deploy ❌ failed\n\n> [!CAUTION]\n> Stopped ${when}: ${cell((e as Error).message)}\n`)
  throw new Error(clean((e as Error).message), { cause: e })
}

/** One ::error:: per host the plan left out as unreachable, after the others ran; the run fails. */
function reportUnreached(plan: Plan, result: RunResult): void {
  const unreached = unreachedHosts(plan, result)
  for (const u of unreached) core.error(clean(u.message), { title: `${u.host} unreachable: not deployed` })
  result.status = statusWithUnreached(result, unreached)
}

/** The API calls' target, or a line saying why there is none. */
function apiTarget(settings: Settings): GitHubTarget | string {
  const t = githubTarget(settings.githubToken, process.env)
  return 'missing' in t ? t.missing : t
}

/** A pull request's preview: its plan as the pull request's one comment. Returns the summary's line. */
async function commentOnPullRequest(settings: Settings, event: { name: string; payload: unknown } | undefined, plan: Plan, result: RunResult, head: string): Promise<string | undefined> {
  const pr = pullRequestOf(event)
  if (!pr || !settings.check) return undefined
  if (pr.fork) return `Pull request #${pr.number} comes from a fork: no comment is written on it (a fork's run must not write to this repository).`
  const target = apiTarget(settings)
  if (typeof target === 'string') return `No comment on pull request #${pr.number}: ${target}.`
  const body = clean(commentBody(plan, result, { inventory: settings.inventory, head, url: runUrl() }))
  try {
    const c = await upsertComment(target, pr.number, commentMarker(settings.inventory), body)
    core.info(`Pull request #${pr.number}: the plan's comment ${c.action} (id ${c.id})`)
    return `The plan is on pull request #${pr.number} (its comment ${c.action}).`
  } catch (e) {
    core.warning(clean(`The plan's comment on pull request #${pr.number} was not written: ${(e as Error).message}`))
    return `The plan's comment on pull request #${pr.number} was not written (see the warning).`
  }
}

const DRIFT_MARKER = (inventory: string) => `<!-- django-deploy drift: ${inventory.replace(/-->/g, '')} -->`

/** The drift check after the run, and its issue; returns the summary's section. */
async function driftSection(settings: Settings, upToDate: Plan | undefined, run: AnsibleRunSettings, ran: RunResult): Promise<string> {
  if (ran.status === 'failure') return '### Drift\n\nNot checked: the run failed.\n'
  const d = await checkDrift(upToDate, run, {
    around: async (p, i, n, go) => {
      core.startGroup(`Drift check: ${p} (${i + 1}/${n}): ansible-playbook playbooks/${p}.yml --check --diff`)
      try {
        return await go()
      } finally {
        core.endGroup()
      }
    },
    output: (b) => process.stdout.write(b),
  })
  core.info(clean(driftText(d.report)))
  const failed = d.result.playbooks.filter((p) => p.status === 'failure').map((p) => p.playbook)
  if (failed.length > 0) core.warning(`Drift check: ${failed.join(', ')} failed in check mode: its drift is unknown (see the log)`)
  const body = driftMarkdown(d.report, { inventory: settings.inventory })
  const out = ['### Drift', '', body]
  if (failed.length > 0) out.push(`Check mode failed for ${failed.join(', ')}: no drift known there.`, '')
  if (settings.driftIssue && failed.length === 0) {
    const target = apiTarget(settings)
    if (typeof target === 'string') out.push(`Drift issue not kept: ${target}.`, '')
    else {
      try {
        const marker = DRIFT_MARKER(settings.inventory)
        const url = runUrl()
        const issueBody = clean([marker, body, url ? `Found by [this run](${url}).` : ''].join('\n'))
        const i = await syncIssue(target, marker, `Drift on the servers of ${settings.inventory}`, hasDrift(d.report) ? issueBody : undefined,
          clean(`The drift is gone: ${d.report.checked.join(', ')} in check mode would change nothing${url ? ` ([this run](${url}))` : ''}.`))
        if (i.action !== 'none') {
          core.info(`Drift issue #${i.number}: ${i.action}`)
          out.push(`The drift issue #${i.number} was ${i.action}.`, '')
        }
      } catch (e) {
        core.warning(clean(`The drift issue was not kept: ${(e as Error).message}`))
        out.push('The drift issue was not kept (see the warning).', '')
      }
    }
  }
  return out.join('\n')
}

export async function main(): Promise<void> {
  markMainRan()
  secrets = []
  const settings = readSettings((name) => core.getInput(name))
  dropInputsFromEnvironment()
  registerSecrets([settings.vaultKey, settings.sshPrivateKey, settings.webhookUrl, settings.githubToken].filter(Boolean))
  const workspace = process.env.GITHUB_WORKSPACE || process.cwd()
  const root = resolve(workspace, settings.workingDirectory)
  checkPaths(settings, root)
  // The one validation pass: nothing is planned, written or run before it passes.
  const checked = preflight({
    root,
    inventory: settings.inventory,
    vaultKey: settings.vaultKey,
    vaultKeyFix: `pass the key that opens the vault (the content of vault.key) as vault-key: \${{ secrets.${VAULT_KEY_SECRET} }}`,
    extraVars: settings.extraVars,
    extraVarsWhere: 'input "extra-vars"',
    ssh: { privateKey: settings.sshPrivateKey, knownHosts: settings.knownHosts, keyWhere: 'input "ssh-private-key"', knownHostsWhere: 'input "known-hosts"' },
    eventEnv: process.env,
  })
  registerSecrets(checked.secrets)
  if (checked.vaultFiles.length > 0) core.info(`The vault key opens ${checked.vaultFiles.join(', ')}`)
  const started = Date.now()

  let creds: Connection
  let ansible: InstalledAnsible
  try {
    creds = writeCredentials(settings, process.env.RUNNER_TEMP || tmpdir(), saveSecretsDir, saveControlDir)
    core.info(`Secrets written to ${creds.dir} (${creds.files.join(', ') || 'none'}), mode 0600`)
    for (const f of inventoriesSettingCommonArgs(join(root, settings.inventory))) {
      core.warning(`${relative(root, f)} sets ansible_ssh_common_args, which the action's SSH options replace (known_hosts, key): put your own options in ${INVENTORY_SSH_ARGS_VAR} instead, they are appended`)
    }
    ansible = await core.group('Ansible', () => installAnsible(settings.ansible))
  } catch (e) {
    return stopped(e, 'before planning')
  }

  // One settings object for the state read and the runs: both connect to the hosts the same way.
  const run: AnsibleRunSettings = connectedRun({
    cwd: root,
    ansiblePlaybook: ansible.ansiblePlaybook,
    inventory: settings.inventory,
    check: settings.check,
    diff: settings.diff,
    limit: settings.limit || undefined,
    tags: settings.tags,
    extraVars: checked.extraVars,
    env: { ANSIBLE_FORCE_COLOR: '1' },
  }, creds)
  const { plan, head, upToDate, tags } = await core.group('Plan', async () => {
    const p = await makePlan(planRequest(settings, root, checked, run, (line) => core.info(line)))
    if (p.state) core.info(`Deploy state read in ${formatDuration(p.state.durationMs)} (${p.state.durationMs} ms)`)
    core.info(planText(p.plan))
    return p
  }).catch((e: unknown) => stopped(e, 'while planning (nothing ran)'))
  core.setOutput('plan', clean(JSON.stringify(plan)))
  if (plan.fallback) core.warning(plan.fallback)
  for (const n of plan.notes) core.notice(n)
  // A host left out as unreachable fails the run at its end (reportUnreached); one named by the
  // run fails in its playbook.
  for (const h of plan.hosts ?? []) if (h.state === 'unreachable' && !h.excluded) core.warning(`${h.host}: deploy state not read: ${h.message ?? 'unreachable'}`)

  // What follows the run: the pull request's comment, the drift check.
  const after = async (result: RunResult): Promise<string> => {
    const lines: string[] = []
    const comment = await commentOnPullRequest(settings, checked.event, plan, result, head.commit)
    if (comment) lines.push(`> [!NOTE]\n> ${cell(comment)}\n`)
    if (settings.drift) lines.push(await driftSection(settings, upToDate, run, result))
    return lines.length > 0 ? `\n${lines.join('\n')}` : ''
  }

  if (plan.run.length === 0) {
    const result: RunResult = { status: 'skipped', playbooks: [], notRun: [], check: settings.check }
    reportUnreached(plan, result)
    setOutputs(plan, result)
    await writeSummary(summaryMarkdown(plan, result, { inventory: settings.inventory }) + await after(result))
    if (result.status === 'failure') process.exitCode = core.ExitCode.Failure
    else core.info('Nothing to deploy.')
    return
  }
  core.info(`Ready to run ${runsText(plan)} after ${formatDuration(Date.now() - started)}`)

  const result = await runPlaybooks(plan.run, {
    ...run,
    limit: plan.limit ?? run.limit,
    planTags: tags,
    record: { commit: head.commit, dirty: head.dirty, run: runName(process.env, `${userInfo().username}@${hostname()}`) },
  }, {
    around: async (p, i, n, go) => {
      core.startGroup(`${p} (${i + 1}/${n}): ansible-playbook playbooks/${p}.yml${settings.check ? ' --check' : ''}${!settings.tags.length && tags[p] ? ` --tags ${tags[p]!.join(',')}` : ''}`)
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
  reportUnreached(plan, result)
  setOutputs(plan, result)
  await writeSummary(summaryMarkdown(plan, result, { inventory: settings.inventory }) + await after(result))
  if (settings.webhookUrl && !settings.check) {
    await notify(settings.webhookUrl, { plan, result, to: head.commit, durationMs: Date.now() - started, run: runName(process.env, `${userInfo().username}@${hostname()}`), url: runUrl() })
  }
  // annotate() wrote the one ::error:: of each failure; setFailed would add a second.
  if (result.status === 'failure') process.exitCode = core.ExitCode.Failure
}

// A word when a deploy ends: one JSON message to a chat's incoming webhook. `text` is what Slack,
// Mattermost and Matrix (hookshot) hooks show; `deploy` carries the same facts for other receivers.
// The caller scrubs secrets from the message before it leaves (core/secrets.ts).
import { request as httpRequest } from 'node:http'
import { request as httpsRequest } from 'node:https'
import type { Plan } from './plan/types.ts'
import type { RunResult } from './results.ts'
import { formatDuration } from './format.ts'
import { maintenanceLine } from './summary.ts'

/** How the previous release is put back (playbooks/rollback.yml), as the README gives it. */
export const ROLLBACK_COMMAND = 'ansible-playbook --vault-password-file vault.key playbooks/rollback.yml'
export const WEBHOOK_TIMEOUT_MS = 10_000

export interface DeployEnd {
  plan: Plan
  result: RunResult
  /** The commit deployed. */
  to: string
  durationMs: number
  /** Who ran it: "alice@laptop", "github:owner/repo#123". */
  run: string
  /** A link to the run, when there is one (the workflow run's page). */
  url?: string
}

export interface WebhookPayload {
  text: string
  deploy: {
    outcome: RunResult['status']
    playbooks: Array<{ name: string; status: string; durationMs: number }>
    hosts: string[]
    from: string[]
    to: string
    durationMs: number
    run: string
    url?: string
    firstFailure?: { playbook: string; host: string; task: string; message: string }
    rollback?: string
  }
}

const short = (commit: string) => commit.slice(0, 7)

/** The message for a finished deploy. Pure. */
export function webhookPayload(d: DeployEnd): WebhookPayload {
  const hosts = [...new Set(d.result.playbooks.flatMap((p) => Object.keys(p.hosts)))].sort()
  const from = [...new Set((d.plan.hosts ?? []).flatMap((h) => h.playbooks.filter((hp) => hp.run).map((hp) => hp.from ? short(hp.from.commit) : 'nothing')))].sort()
  const failed = d.result.playbooks.find((p) => p.failures.length > 0 || p.status === 'failure')
  const f = failed?.failures[0]
  const firstFailure = failed
    ? { playbook: failed.playbook, host: f?.host ?? '', task: f?.task ?? '', message: (f?.message ?? failed.error ?? `exit code ${failed.exitCode}`).split('\n')[0]!.slice(0, 300) }
    : undefined
  // The rollback puts the previous application release back: offered when backend ran.
  const rollback = d.result.playbooks.some((p) => p.playbook === 'backend') ? ROLLBACK_COMMAND : undefined
  const outcome = d.result.status === 'success' ? 'succeeded' : d.result.status === 'failure' ? 'FAILED' : 'had nothing to deploy'
  const lines = [
    `Deploy ${outcome}: ${d.result.playbooks.map((p) => `${p.playbook} (${formatDuration(p.durationMs)})`).join(', ') || 'no playbook'}` +
      ` on ${hosts.join(', ') || 'no host'}, ${from.join(', ') || 'nothing'} → ${short(d.to)} in ${formatDuration(d.durationMs)} by ${d.run}.`,
    ...(d.result.check ? [] : [maintenanceLine(d.result)].filter((l): l is string => l !== undefined)),
    ...(firstFailure ? [`First failure: ${firstFailure.playbook} on ${firstFailure.host}: "${firstFailure.task}": ${firstFailure.message}`] : []),
    ...(rollback && d.result.status === 'failure' ? [`Roll back with: ${rollback}`] : []),
    ...(d.url ? [d.url] : []),
  ]
  return {
    text: lines.join('\n'),
    deploy: {
      outcome: d.result.status,
      playbooks: d.result.playbooks.map((p) => ({ name: p.playbook, status: p.status, durationMs: p.durationMs })),
      hosts,
      from,
      to: d.to,
      durationMs: d.durationMs,
      run: d.run,
      ...(d.url ? { url: d.url } : {}),
      ...(firstFailure ? { firstFailure } : {}),
      ...(rollback ? { rollback } : {}),
    },
  }
}

/** Checks a webhook URL without echoing it (it is a secret: its path is the hook's key). */
export function checkWebhookUrl(raw: string, where: string): string {
  const v = raw.trim()
  let u: URL
  try {
    u = new URL(v)
  } catch {
    throw new Error(`${where} is not a URL (expected the chat's incoming webhook URL, https://…, from a secret)`)
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') throw new Error(`${where}: the URL's scheme is ${u.protocol.replace(':', '')}, expected https (or http)`)
  return v
}

/** POSTs the message (a JSON body) once; never throws: the deploy's outcome does not depend on it. */
export function postWebhook(url: string, body: string, timeoutMs = WEBHOOK_TIMEOUT_MS): Promise<{ ok: true; status: number } | { ok: false; reason: string }> {
  return new Promise((done) => {
    const u = new URL(url)
    const request = u.protocol === 'https:' ? httpsRequest : httpRequest
    const req = request(u, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) },
      timeout: timeoutMs,
    }, (res) => {
      res.resume()
      res.on('end', () => {
        const status = res.statusCode ?? 0
        done(status >= 200 && status < 300 ? { ok: true, status } : { ok: false, reason: `the hook answered HTTP ${status}` })
      })
    })
    // Errors name the host only: the URL's path is the hook's secret.
    req.on('timeout', () => req.destroy(new Error(`no answer from ${u.host} in ${Math.round(timeoutMs / 1000)} s`)))
    req.on('error', (e) => done({ ok: false, reason: e.message.split(u.pathname).join('/…') }))
    req.end(body)
  })
}

// The message a chat's webhook gets when a deploy ends (core/webhook.ts): its facts, and one POST of
// JSON to a local HTTP server standing in for Slack, Mattermost or a Matrix hook.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Plan } from '../../src/core/plan/types.ts'
import type { PlaybookResult, RunResult } from '../../src/core/results.ts'
import { scrub, secretPieces } from '../../src/core/secrets.ts'
import { postWebhook, ROLLBACK_COMMAND, webhookPayload, type DeployEnd } from '../../src/core/webhook.ts'

const FROM = 'a1b2c3d4e5f60718293a4b5c6d7e8f9012345678'
const TO = 'f0e1d2c3b4a5968778695a4b3c2d1e0f12345678'
const SECRET = 'db-password-Xy7'

const playbook = (name: 'backend' | 'frontend', over: Partial<PlaybookResult> = {}): PlaybookResult => ({
  playbook: name, status: 'success', exitCode: 0, durationMs: 83_000,
  hosts: { web1: { ok: 10, changed: 2, failed: 0, unreachable: 0, skipped: 0, rescued: 0, ignored: 0 }, web2: { ok: 10, changed: 2, failed: 0, unreachable: 0, skipped: 0, rescued: 0, ignored: 0 } },
  changed: [], failures: [], tasks: [], ...over,
})

const plan = {
  mode: 'auto', source: 'push', run: ['backend', 'frontend'], playbooks: [], ignored: [], notes: [], changedPaths: 3,
  hosts: ['web1', 'web2'].map((host) => ({
    host, state: 'recorded', bootstrapped: true,
    playbooks: [{ playbook: 'backend', run: true, reason: 'app changed', to: TO, from: { commit: FROM, dirty: false, finished: '2026-12-01T10:00:00Z', run: 'ci', ago: '5 days' } }],
  })),
} as unknown as Plan

function end(result: RunResult): DeployEnd {
  return { plan, result, to: TO, durationMs: 201_000, run: 'github:example/site#42', url: 'https://github.com/example/site/actions/runs/42' }
}

test('webhook: a successful deploy says what ran where, from which revision to which, and how long it took', () => {
  const p = webhookPayload(end({ status: 'success', playbooks: [playbook('backend'), playbook('frontend')], notRun: [], check: false }))
  assert.equal(p.text.split('\n')[0], 'Deploy succeeded: backend (1 min 23 s), frontend (1 min 23 s) on web1, web2, a1b2c3d → f0e1d2c in 3 min 21 s by github:example/site#42.')
  assert.deepEqual(p.deploy.hosts, ['web1', 'web2'])
  assert.deepEqual(p.deploy.from, ['a1b2c3d'])
  assert.equal(p.deploy.to, TO)
  assert.equal(p.deploy.firstFailure, undefined)
  assert.equal(p.deploy.rollback, ROLLBACK_COMMAND)
  assert.doesNotMatch(p.text, /Roll back with/)
  assert.match(p.text, /\nTime in maintenance: 0 s \(zero downtime\)/)
})

test('webhook: a failed deploy gives the first failure and the rollback command', () => {
  const failed = playbook('backend', {
    status: 'failure', exitCode: 2,
    failures: [{ play: 'backend', host: 'web2', task: 'The database is migrated by the release', status: 'failed', message: 'django.db.utils.ProgrammingError: column "extra" does not exist\nmore' }],
  })
  const p = webhookPayload(end({ status: 'failure', playbooks: [failed], notRun: ['frontend'], check: false }))
  assert.match(p.text, /^Deploy FAILED: backend/)
  assert.match(p.text, /\nFirst failure: backend on web2: "The database is migrated by the release": django\.db\.utils\.ProgrammingError: column "extra" does not exist\n/)
  assert.match(p.text, new RegExp(`\nRoll back with: ${ROLLBACK_COMMAND}\n`))
  assert.deepEqual(p.deploy.firstFailure, { playbook: 'backend', host: 'web2', task: 'The database is migrated by the release', message: 'django.db.utils.ProgrammingError: column "extra" does not exist' })
})

test('webhook: one POST of JSON to the hook, with no secret in it', async () => {
  const received: Array<{ method?: string; url?: string; type?: string; body: string }> = []
  const server = createServer((req, res) => {
    let body = ''
    req.on('data', (b: Buffer) => { body += b.toString('utf8') })
    req.on('end', () => {
      received.push({ method: req.method, url: req.url, type: req.headers['content-type'], body })
      res.end('ok')
    })
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  try {
    const { port } = server.address() as AddressInfo
    const failed = playbook('backend', { status: 'failure', failures: [{ play: 'backend', host: 'web1', task: 'Login', status: 'failed', message: `password ${SECRET} refused` }] })
    const body = scrub(JSON.stringify(webhookPayload(end({ status: 'failure', playbooks: [failed], notRun: [], check: false }))), secretPieces([SECRET]))
    const r = await postWebhook(`http://127.0.0.1:${port}/hooks/T0/B1/s3cr3t`, body)
    assert.deepEqual(r, { ok: true, status: 200 })
    assert.equal(received.length, 1)
    assert.equal(received[0]!.method, 'POST')
    assert.equal(received[0]!.url, '/hooks/T0/B1/s3cr3t')
    assert.equal(received[0]!.type, 'application/json')
    const json = JSON.parse(received[0]!.body) as { text: string; deploy: { outcome: string } }
    assert.equal(json.deploy.outcome, 'failure')
    assert.match(json.text, /password \*\*\* refused/)
    assert.ok(!received[0]!.body.includes(SECRET))
  } finally {
    server.close()
  }
})

test('webhook: a hook that refuses or does not answer is reported without its URL', async () => {
  const server = createServer((_req, res) => { res.statusCode = 404; res.end() })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const { port } = server.address() as AddressInfo
  try {
    assert.deepEqual(await postWebhook(`http://127.0.0.1:${port}/hooks/secretpath`, '{}'), { ok: false, reason: 'the hook answered HTTP 404' })
  } finally {
    server.close()
  }
  const r = await postWebhook(`http://127.0.0.1:${port}/hooks/secretpath`, '{}')
  assert.equal(r.ok, false)
  assert.ok(!r.ok && !r.reason.includes('secretpath'), !r.ok ? r.reason : '')
})

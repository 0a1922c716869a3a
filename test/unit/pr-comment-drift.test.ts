// The preview's comment and the drift check, their pure parts: the comment's content (playbooks,
// hosts, why, diffs; a hidden diff stays hidden), the marker lookup, who gets a comment (never a
// fork), drift against the deploy state; then the API calls against the fake GitHub API: one comment
// created then updated, the drift issue opened, updated, closed.
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { findDrift, driftMarkdown, hasDrift } from '../../src/core/drift.ts'
import { findMarked, syncIssue, upsertComment, type GitHubTarget } from '../../src/core/github/api.ts'
import { commentBody, commentMarker, MAX_COMMENT } from '../../src/core/github/pr-comment.ts'
import { DEFAULT_PLAN_CONFIG } from '../../src/core/plan/config.ts'
import { planFromState } from '../../src/core/plan/from-state.ts'
import { planAuto } from '../../src/core/plan/from-changes.ts'
import type { HostState, Records } from '../../src/core/plan/types.ts'
import { parseRepo } from '../../src/core/repo.ts'
import type { PlaybookResult, RunResult, TaskChange } from '../../src/core/results.ts'
import { scrub } from '../../src/core/secrets.ts'
import { githubTarget, pullRequestOf } from '../../src/action/github.ts'
import { FakeGitHub } from '../support/fake-github.ts'

const model = parseRepo({
  playbooks: Object.fromEntries(['bootstrap', 'base', 'backend', 'frontend'].map((p) => [p, `- hosts: webservers\n  roles: [${p}]\n`])),
  roles: { bootstrap: { tasks: [] }, base: { tasks: [] }, backend: { tasks: [] }, frontend: { tasks: [] } },
})
const stats = { ok: 3, changed: 1, failed: 0, unreachable: 0, skipped: 0, rescued: 0, ignored: 0 }
const ran = (playbook: PlaybookResult['playbook'], changed: TaskChange[], hosts = ['web1']): PlaybookResult => ({
  playbook, status: 'success', exitCode: 0, durationMs: 1, hosts: Object.fromEntries(hosts.map((h) => [h, stats])), changed, failures: [], tasks: [],
})
const template: TaskChange = {
  play: 'p', task: 'frontend : The site is served as configured', host: 'web1', file: 'roles/frontend/tasks/site.yml', line: 12,
  diff: '--- before: /etc/nginx/sites-available/site.conf\n+++ after: site.conf.j2\n@@ -1 +1,2 @@\n server {\n+# <cache> reviewed',
}
const hidden: TaskChange = { play: 'p', task: 'backend : The settings are written', host: 'web1', file: 'roles/backend/tasks/release.yml', line: 40 }

describe('the preview\'s comment', () => {
  const plan = planAuto(model, { kind: 'diff', description: 'pull request 7', base: 'a'.repeat(40), head: 'c'.repeat(40), paths: ['roles/frontend/templates/site.conf.j2', 'roles/backend/tasks/main.yml'] }, DEFAULT_PLAN_CONFIG)
  const result: RunResult = { status: 'success', check: true, notRun: [], playbooks: [ran('backend', [hidden], ['web1', 'web2']), ran('frontend', [template])] }
  const body = commentBody(plan, result, { inventory: 'inventories/production', head: 'c'.repeat(40), url: 'https://github.example/o/r/actions/runs/1' })

  test('starts with the marker of its inventory, lists the playbooks with their hosts and why', () => {
    assert.ok(body.startsWith(commentMarker('inventories/production')))
    assert.match(body, /Merging this pull request runs \*\*backend → frontend\*\*/)
    assert.match(body, /\| backend \| ✅ yes \| web1, web2 \| .*roles\/backend\/tasks\/main\.yml/)
    assert.match(body, /\| frontend \| ✅ yes \| web1 \| .*site\.conf\.j2/)
    assert.match(body, /\| base \| ⏭️ no \| +\| no change/)
    assert.doesNotMatch(body, /\| bootstrap \|/)
  })

  test('each changed task with its diff, escaped; a task that showed no diff says so', () => {
    assert.match(body, /frontend on web1: frontend : The site is served as configured <code>roles\/frontend\/tasks\/site\.yml:12<\/code>/)
    assert.match(body, /<pre>--- before: \/etc\/nginx[^]*\+# &lt;cache&gt; reviewed<\/pre>/)
    assert.match(body, /- backend on web1: backend : The settings are written <code>roles\/backend\/tasks\/release\.yml:40<\/code> \(no diff/)
    assert.match(body, /At ccccccc, \[the run\]\(https:\/\/github\.example/)
  })

  test('a vault value in a diff is scrubbed as the summary is', () => {
    const secret: TaskChange = { ...template, diff: '+password = s3cret-vault-value-42' }
    const b = scrub(commentBody(plan, { ...result, playbooks: [ran('frontend', [secret])] }, { inventory: 'i', head: 'h' }), ['s3cret-vault-value-42'])
    assert.ok(!b.includes('s3cret-vault-value-42'))
    assert.match(b, /\+password = \*\*\*/)
  })

  test('too long for GitHub: the diffs are left out, the tasks stay', () => {
    const big = Array.from({ length: 40 }, (_, i) => ({ ...template, line: i, diff: 'x'.repeat(3000) }))
    const b = commentBody(plan, { ...result, playbooks: [ran('frontend', big)] }, { inventory: 'i', head: 'h' })
    assert.ok(b.length <= MAX_COMMENT)
    assert.match(b, /too long for a comment/)
    assert.match(b, /site\.yml:39/)
  })

  test('the marker finds the comment among others', () => {
    const m = commentMarker('inventories/production')
    const items = [{ id: 1, body: 'LGTM' }, { id: 2, body: null }, { id: 3, body: `${commentMarker('inventories/staging')}\n…` }, { id: 4, body: `${m}\n…` }]
    assert.equal(findMarked(items, m)?.id, 4)
    assert.equal(findMarked(items.slice(0, 3), m), undefined)
  })

  test('a pull request from the repository gets a comment, one from a fork is marked as a fork; other events none', () => {
    const pr = (head: string | null) => ({ name: 'pull_request', payload: { pull_request: { number: 7, head: { repo: head === null ? null : { full_name: head } }, base: { repo: { full_name: 'o/site' } } } } })
    assert.deepEqual(pullRequestOf(pr('o/site')), { number: 7, fork: false })
    assert.deepEqual(pullRequestOf(pr('mallory/site')), { number: 7, fork: true })
    assert.deepEqual(pullRequestOf(pr(null)), { number: 7, fork: true })
    assert.equal(pullRequestOf({ name: 'push', payload: {} }), undefined)
    assert.deepEqual(githubTarget('', { GITHUB_REPOSITORY: 'o/site' }), { missing: 'no github-token' })
    assert.deepEqual(githubTarget('t', { GITHUB_REPOSITORY: 'o/site' }), { api: 'https://api.github.com', repo: 'o/site', token: 't' })
  })
})

describe('drift', () => {
  const H = 'e'.repeat(40)
  const A = 'a'.repeat(40)
  const rec = (commit: string) => ({ commit, finished: '2026-11-30T12:00:00Z', run: 'r' })
  const all = (commit: string): Records => ({ bootstrap: rec(commit), base: rec(commit), backend: rec(commit), frontend: rec(commit) })
  const read = (host: string, records: Records): HostState => ({ host, status: 'read', records })
  // web1 is up to date; web2 was deployed at A, and the app changed since: backend is pending there;
  // web3 was never deployed from this copy.
  const plan = planFromState({
    model, config: DEFAULT_PLAN_CONFIG, head: { commit: H, dirty: false },
    hosts: [read('web1', all(H)), read('web2', all(A)), read('web3', {})],
    changedSince: { [A]: ['app/pages/views.py'] }, now: Date.parse('2026-12-01T12:00:00Z'), event: 'schedule',
  })
  const on = (host: string, t: TaskChange = template) => ({ ...t, host })

  test('a change where the playbook is up to date is drift; where a deploy is pending it is not; unknown hosts are not judged', () => {
    const result: RunResult = { status: 'success', check: true, notRun: [], playbooks: [
      ran('base', []), ran('backend', [on('web2', hidden), on('web1', hidden)]), ran('frontend', [on('web1'), on('web2'), on('web3')]),
    ] }
    const r = findDrift(result, plan)
    assert.deepEqual(Object.keys(r.drift).sort(), ['web1', 'web2'])
    assert.deepEqual(r.drift.web1!.map((t) => `${t.playbook}: ${t.task}`), ['backend: backend : The settings are written', 'frontend: frontend : The site is served as configured'])
    assert.deepEqual(r.drift.web2!.map((t) => t.playbook), ['frontend'])
    assert.deepEqual(r.pending, { web2: ['backend'] })
    assert.deepEqual(r.unknown, ['web3'])
    const md = driftMarkdown(r, { inventory: 'inventories/production' })
    assert.match(md, /3 tasks would change on 2 hosts that nobody deployed to since/)
    assert.match(md, /#### web1[^]*frontend: frontend : The site is served as configured <code>roles\/frontend\/tasks\/site\.yml:12<\/code>[^]*<pre>[^]*\+# &lt;cache&gt; reviewed/)
    assert.match(md, /Not drift \(a deploy is pending there\): web2 \(backend\)/)
    assert.match(md, /Not judged \(deploy state unknown\): web3/)
  })

  test('a handler that would run (nginx reload) is not drift: the task that notified it is', () => {
    const reload = { ...on('web1'), task: 'frontend : Nginx reloads its configuration', file: 'roles/frontend/handlers/main.yml', line: 13, handler: true as const }
    const r = findDrift({ status: 'success', check: true, notRun: [], playbooks: [ran('frontend', [on('web1'), reload])] }, plan)
    assert.deepEqual(r.drift.web1!.map((t) => t.task), ['frontend : The site is served as configured'])
    assert.match(driftMarkdown(r, { inventory: 'inv' }), /^1 task would change on 1 host/)
  })

  test('nothing would change: no drift', () => {
    const r = findDrift({ status: 'success', check: true, notRun: [], playbooks: [ran('base', []), ran('frontend', [])] }, plan)
    assert.equal(hasDrift(r), false)
    assert.match(driftMarkdown(r, { inventory: 'inv' }), /^No drift: base, frontend in check mode would change nothing/)
  })
})

describe('GitHub API calls (the fake GitHub API)', () => {
  const gh = new FakeGitHub('o/site', 'tok-123')
  let t: GitHubTarget
  before(async () => {
    await gh.start()
    t = { api: gh.url, repo: 'o/site', token: 'tok-123' }
  })
  after(() => gh.stop())

  test('the first preview creates the comment, the next push updates the same one (found on the second page)', async () => {
    for (let i = 0; i < 120; i++) gh.comments.push({ id: i + 1, issue: 7, body: `comment ${i}`, user: { login: 'u' } })
    const m = commentMarker('inventories/production')
    const first = await upsertComment(t, 7, m, `${m}\none`)
    assert.equal(first.action, 'created')
    const second = await upsertComment(t, 7, m, `${m}\ntwo`)
    assert.deepEqual(second, { id: first.id, action: 'updated' })
    assert.deepEqual(gh.commentsOn(7).filter((c) => c.body.includes(m)).map((c) => c.body), [`${m}\ntwo`])
  })

  test('the drift issue: opened, updated, closed with a last comment; nothing when there is none', async () => {
    const m = '<!-- drift -->'
    assert.deepEqual(await syncIssue(t, m, 'Drift', `${m}\nA`, 'gone'), { number: 1, action: 'opened' })
    assert.deepEqual(await syncIssue(t, m, 'Drift', `${m}\nB`, 'gone'), { number: 1, action: 'updated' })
    assert.equal(gh.issues[0]!.body, `${m}\nB`)
    assert.deepEqual(await syncIssue(t, m, 'Drift', undefined, 'gone'), { number: 1, action: 'closed' })
    assert.equal(gh.issues[0]!.state, 'closed')
    assert.deepEqual(gh.commentsOn(1).map((c) => c.body), ['gone'])
    assert.deepEqual(await syncIssue(t, m, 'Drift', undefined, 'gone'), { action: 'none' })
  })

  test('a refused token: one line naming the call and the permission, never the token', async () => {
    await assert.rejects(upsertComment({ ...t, token: 'wrong' }, 7, 'x', 'y'), (e: Error) => /HTTP 401 Bad credentials/.test(e.message) && !e.message.includes('wrong'))
  })
})

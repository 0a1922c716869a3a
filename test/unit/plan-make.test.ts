// The entry of planning (core/plan/make.ts) on a real git repository, with a stand-in `ansible`
// answering the state read: state readable (plan from what each host lacks), unreadable (the
// changes, said so), named playbooks (records shown), no state asked (a preview).
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { DEFAULT_PLAN_CONFIG } from '../../src/core/plan/config.ts'
import { makePlan, type PlanRequest } from '../../src/core/plan/make.ts'
import type { AnsibleRunSettings } from '../../src/core/run.ts'

let dir: string
let repo: string
let first: string
let second: string
let slurp: string
let stateRun: AnsibleRunSettings

const git = (...a: string[]) => execFileSync('git', a, { cwd: repo, encoding: 'utf8', env: { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@t', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@t' } }).trim()

function write(files: Record<string, string>): void {
  for (const [p, c] of Object.entries(files)) {
    mkdirSync(dirname(join(repo, p)), { recursive: true })
    writeFileSync(join(repo, p), c)
  }
}

/** What the stand-in `ansible` prints: one host's state file, as slurp answers with --one-line. */
function answer(records: Record<string, string>): void {
  const at = (commit: string) => ({ commit, finished: '2026-12-01T00:00:00Z', run: 'u@m' })
  const state = { version: 1, playbooks: Object.fromEntries(Object.entries(records).map(([p, c]) => [p, at(c)])) }
  writeFileSync(slurp, `web1 | SUCCESS => {"changed": false, "content": "${Buffer.from(JSON.stringify(state)).toString('base64')}"}\n`)
}

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'plan-make-'))
  repo = join(dir, 'repo')
  mkdirSync(repo)
  write(Object.fromEntries(['bootstrap', 'base', 'backend', 'frontend'].flatMap((p) => [
    [`playbooks/${p}.yml`, `- hosts: webservers\n  roles: [${p}]\n`],
    [`roles/${p}/tasks/main.yml`, '[]\n'],
  ])))
  git('init', '-q', '-b', 'main')
  git('add', '-A')
  git('commit', '-qm', 'one')
  first = git('rev-parse', 'HEAD')
  write({ 'roles/backend/tasks/main.yml': '- ansible.builtin.debug: {}\n', 'app/VERSION': '2\n' })
  git('add', '-A')
  git('commit', '-qm', 'two')
  second = git('rev-parse', 'HEAD')
  const bin = join(dir, 'bin')
  mkdirSync(bin)
  slurp = join(dir, 'slurp.out')
  // `ansible` beside the ansible-playbook the runs use (state-read.ts's adhocBinary).
  writeFileSync(join(bin, 'ansible'), '#!/bin/sh\n[ -s "$FAKE_SLURP" ] || { echo "ERROR! no inventory" >&2; exit 1; }\ncat "$FAKE_SLURP"\n')
  chmodSync(join(bin, 'ansible'), 0o755)
  stateRun = { cwd: repo, ansiblePlaybook: join(bin, 'ansible-playbook'), inventory: 'inventories/production', env: { FAKE_SLURP: slurp } }
})
after(() => rmSync(dir, { recursive: true, force: true }))

const request = (r: Partial<PlanRequest>): PlanRequest => ({
  root: repo, config: DEFAULT_PLAN_CONFIG, selection: 'auto', namedSource: 'named', event: 'push',
  changes: { kind: 'range', from: first }, ...r,
})

describe('makePlan', () => {
  test('the state read: each playbook runs where the host lacks what triggers it', async () => {
    answer({ bootstrap: first, base: first, backend: first, frontend: first })
    const p = await makePlan(request({ readStateWith: stateRun }))
    assert.deepEqual(p.plan.run, ['backend'])
    assert.deepEqual(p.head, { commit: second, dirty: false })
    assert.equal(p.state?.ok, true)
    assert.equal(p.changes, undefined, 'the changes are not asked for when the state answers')
    assert.match(p.plan.source, /^push: from each host's deploy state to /)
  })

  test('an unreadable state: the changes, with the reason in the fallback', async () => {
    writeFileSync(slurp, '')
    const p = await makePlan(request({ readStateWith: stateRun }))
    assert.equal(p.state?.ok, false)
    assert.deepEqual(p.plan.run, ['backend'])
    assert.match(p.plan.fallback!, /^The deploy state could not be read \(.*no inventory\): planned from /)
    assert.equal(p.changes?.kind, 'diff')
  })

  test('named playbooks run as named; the records are shown beside them', async () => {
    answer({ base: first })
    const p = await makePlan(request({ selection: ['base', 'frontend'], readStateWith: stateRun }))
    assert.deepEqual(p.plan.run, ['base', 'frontend'])
    assert.equal(p.plan.hosts?.[0]?.playbooks[1]?.from?.commit, first)
  })

  test('named playbooks judged for drift: the same state read says which playbooks each host is up to date with', async () => {
    answer({ bootstrap: first, base: first, backend: first, frontend: first })
    const p = await makePlan(request({ selection: ['base'], readStateWith: stateRun, judgeState: true, event: 'schedule' }))
    assert.deepEqual(p.plan.run, ['base'])
    const web1 = p.upToDate?.hosts?.[0]
    assert.deepEqual(web1?.playbooks.map((hp) => `${hp.playbook} ${hp.run}`), ['bootstrap false', 'base false', 'backend true', 'frontend false'])
    assert.equal((await makePlan(request({ selection: ['base'], readStateWith: stateRun }))).upToDate, undefined)
  })

  test('bootstrap named while a server has no record yet (added to the inventory): it joins, base, backend and frontend follow', async () => {
    answer({ bootstrap: second, base: second, backend: second, frontend: second })
    writeFileSync(slurp, `${readFileSync(slurp, 'utf8')}web2 | UNREACHABLE!: Failed to connect to the host via ssh: Connection refused\n`)
    const p = await makePlan(request({ selection: ['bootstrap'], readStateWith: stateRun }))
    assert.deepEqual(p.plan.run, ['bootstrap', 'base', 'backend', 'frontend'])
    assert.equal(p.plan.playbooks[2]!.reason, 'web2 joins (no record from this copy): after bootstrap, base, backend and frontend run everywhere, the others changing only what the new server needs')
    assert.ok(p.plan.notes.some((n) => n.startsWith('web2 joins')))
    // web1 runs an older release than the app's code: the new server would not get the release it serves.
    answer({ bootstrap: first, base: first, backend: first, frontend: first })
    writeFileSync(slurp, `${readFileSync(slurp, 'utf8')}web2 | UNREACHABLE!: Failed to connect to the host via ssh: Connection refused\n`)
    await assert.rejects(makePlan(request({ selection: ['bootstrap'], readStateWith: stateRun })), /^JoinError: web2 would join with a release that web1 does not serve/)
  })

  test('no state asked (a preview): the changes alone, none read', async () => {
    const p = await makePlan(request({ changes: { kind: 'none', description: 'schedule' } }))
    assert.equal(p.state, undefined)
    assert.deepEqual(p.plan.run, ['base', 'backend', 'frontend'])
    assert.match(p.plan.fallback!, /schedule has no changed paths/)
  })
})

// Backend's release alone: derived from what changed on each host since backend last ran there,
// never trusted from an input. Pure: states and changed paths in, a plan (and the runner's
// arguments) out.
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { DEFAULT_PLAN_CONFIG } from '../../src/core/plan/config.ts'
import { planAuto, planExplicit } from '../../src/core/plan/from-changes.ts'
import { planFromState, withHostRecords, type StatePlanInput } from '../../src/core/plan/from-state.ts'
import { planTags, RELEASE_TAGS } from '../../src/core/plan/parts.ts'
import type { HostState, Records } from '../../src/core/plan/types.ts'
import { parseRepo } from '../../src/core/repo.ts'
import { playbookArgs } from '../../src/core/run.ts'
import { planMarkdown, planText, runsText } from '../../src/core/summary.ts'

const post = (p: string) => `  post_tasks:\n    - ansible.builtin.include_role:\n        name: deploy_state\n      vars: { deploy_state_playbook: ${p} }\n`
const model = parseRepo({
  playbooks: Object.fromEntries(['bootstrap', 'base', 'backend', 'frontend'].map((p) => [p, `- hosts: webservers\n  roles: [${p}]\n${post(p)}`])),
  roles: { bootstrap: { tasks: [] }, base: { tasks: [] }, backend: { tasks: [] }, frontend: { tasks: [] }, deploy_state: { tasks: [] } },
})
const sha = (c: string) => c.repeat(40)
const [A, B, H, GONE] = ['a', 'b', 'e', 'f'].map(sha) as [string, string, string, string]
const NOW = Date.parse('2026-12-01T12:00:00Z')
const at = (commit: string, extra: { dirty?: boolean } = {}) => ({ commit, finished: '2026-11-30T12:00:00Z', run: 'r', ...extra })
const upToDateBut = (backend: Records['backend']): Records => ({ bootstrap: at(H), base: at(H), backend, frontend: at(H) })
const host = (name: string, records: Records): HostState => ({ host: name, status: 'read', records })

function plan(hosts: HostState[], changedSince: StatePlanInput['changedSince'], extra: Partial<StatePlanInput> = {}) {
  return planFromState({ model, config: DEFAULT_PLAN_CONFIG, head: { commit: H, dirty: false }, hosts, changedSince, now: NOW, event: 'push', ...extra })
}
const backend = (p: ReturnType<typeof plan>) => p.playbooks.find((d) => d.playbook === 'backend')!

describe('backend runs its release only when only the app changed since it last ran', () => {
  const whole: { name: string; hosts: HostState[]; since: StatePlanInput['changedSince'] }[] = [
    { name: 'the backend role changed', hosts: [host('web1', upToDateBut(at(A)))], since: { [A]: ['app/pages/views.py', 'roles/backend/files/deploy.sh'] } },
    { name: 'the backend playbook changed', hosts: [host('web1', upToDateBut(at(A)))], since: { [A]: ['app/VERSION', 'playbooks/backend.yml'] } },
    { name: 'the inventory changed', hosts: [host('web1', upToDateBut(at(A)))], since: { [A]: ['app/VERSION', 'inventories/production/group_vars/all/vars.yml'] } },
    { name: 'the vault changed', hosts: [host('web1', upToDateBut(at(A)))], since: { [A]: ['app/VERSION', 'inventories/production/group_vars/all/vault.yml'] } },
    { name: 'ansible.cfg changed', hosts: [host('web1', upToDateBut(at(A)))], since: { [A]: ['app/VERSION', 'ansible.cfg'] } },
    { name: 'the roles\' requirements changed', hosts: [host('web1', upToDateBut(at(A)))], since: { [A]: ['app/VERSION', 'requirements.yml'] } },
    { name: 'a role backend depends on changed', hosts: [host('web1', upToDateBut(at(A)))], since: { [A]: ['app/VERSION', 'roles/deploy_state/tasks/main.yml'] } },
    { name: 'the recorded revision is unknown here (force push)', hosts: [host('web1', upToDateBut(at(GONE)))], since: { [GONE]: undefined } },
    { name: 'the recorded revision had uncommitted changes', hosts: [host('web1', upToDateBut(at(A, { dirty: true })))], since: { [A]: ['app/VERSION'] } },
    { name: 'no backend record on the host', hosts: [host('web1', { bootstrap: at(H), base: at(H), frontend: at(H) })], since: {} },
    { name: 'the state could not be parsed', hosts: [{ host: 'web1', status: 'unreadable', records: upToDateBut(at(A)), message: 'bad JSON' }], since: { [A]: ['app/VERSION'] } },
    {
      name: 'one host needs the whole role: every host runs it (a run\'s tags are the same for all)',
      hosts: [host('web1', upToDateBut(at(A))), host('web2', upToDateBut(at(B)))],
      since: { [A]: ['app/VERSION'], [B]: ['app/VERSION', 'roles/backend/tasks/system.yml'] },
    },
  ]
  for (const c of whole) {
    test(`the whole role when ${c.name}`, () => {
      const p = plan(c.hosts, c.since)
      assert.equal(backend(p).run, true)
      assert.equal(backend(p).part, undefined)
      assert.deepEqual(planTags(p), {})
      assert.equal(runsText(p).split(' → ').find((x) => x.startsWith('backend')), 'backend')
    })
  }

  test('only app code (and paths that trigger nothing) since the recorded revision: the release alone, said once', () => {
    const p = plan([host('web1', upToDateBut(at(A)))], { [A]: ['app/pages/views.py', 'app/VERSION', 'README.md', 'test/unit/x.test.ts'] })
    assert.deepEqual(p.run, ['backend'])
    assert.deepEqual(backend(p).part, { tags: RELEASE_TAGS, label: 'release only', why: 'release only: only app code changed since aaaaaaa' })
    assert.deepEqual(planTags(p), { backend: ['backend_deploy'] })
    assert.equal(runsText(p), 'backend (release only: only app code changed since aaaaaaa)')
    assert.match(planText(p), /run {2}backend {3}release only: only app code changed since aaaaaaa; web1: app source changed since aaaaaaa/)
    assert.match(planMarkdown(p), /Runs, in order: \*\*backend \(release only: only app code changed since aaaaaaa\)\*\*/)
    assert.match(planMarkdown(p), /\| backend \| ✅ release only \|/)
  })

  test('hosts at different revisions, each with only app changes since: the release alone, each revision named', () => {
    const p = plan([host('web1', upToDateBut(at(A))), host('web2', upToDateBut(at(B)))], { [A]: ['app/VERSION', 'app/pages/views.py'], [B]: ['app/VERSION'] })
    assert.equal(backend(p).part?.why, 'release only: only app code changed since aaaaaaa, bbbbbbb')
  })

  test('a host up to date for backend does not keep the others from the release only', () => {
    const p = plan([host('web1', upToDateBut(at(A))), host('web2', upToDateBut(at(H)))], { [A]: ['app/VERSION'] })
    assert.deepEqual(planTags(p), { backend: RELEASE_TAGS })
  })

  test('the part is never taken from the changes alone, a dispatch or named playbooks', () => {
    const auto = planAuto(model, { kind: 'diff', description: 'push', base: A, head: H, paths: ['app/VERSION'] }, DEFAULT_PLAN_CONFIG)
    assert.deepEqual(auto.run, ['backend'])
    assert.deepEqual(planTags(auto), {})
    const named = withHostRecords(planExplicit(model, ['backend'], 'dispatch'), [host('web1', upToDateBut(at(A)))], { commit: H, dirty: false }, NOW)
    assert.deepEqual(planTags(named), {})
  })

  test('the runner passes the part\'s tags and asks the hosts to record the run with exactly them; the run\'s own tags win and record nothing', () => {
    const base = { cwd: '.', ansiblePlaybook: 'ansible-playbook', inventory: 'inv', env: {}, record: { commit: H, dirty: false, run: 'r' } }
    const args = playbookArgs('backend', { ...base, planTags: { backend: RELEASE_TAGS } })
    assert.deepEqual(args.slice(args.indexOf('--tags'), args.indexOf('--tags') + 2), ['--tags', 'backend_deploy'])
    assert.deepEqual(JSON.parse(args[args.length - 1]!), { deploy_state_commit: H, deploy_state_dirty: false, deploy_state_run: 'r', deploy_state_tags: ['backend_deploy'] })
    const frontend = playbookArgs('frontend', { ...base, planTags: { backend: RELEASE_TAGS } })
    assert.equal(frontend.includes('--tags'), false)
    const own = playbookArgs('backend', { ...base, tags: ['backend_settings'], planTags: { backend: RELEASE_TAGS } })
    assert.deepEqual(own.filter((a) => a === '--tags').length, 1)
    assert.equal(own[own.indexOf('--tags') + 1], 'backend_settings')
    assert.equal('deploy_state_tags' in JSON.parse(own[own.length - 1]!), false)
  })
})

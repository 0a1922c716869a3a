// A server added to the inventory joins by a dispatch of bootstrap (core/plan/join.ts): which hosts
// join, the playbooks that then run, and the refusal when the others do not serve the code yet.
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { classifier } from '../../src/core/plan/classify.ts'
import { DEFAULT_PLAN_CONFIG } from '../../src/core/plan/config.ts'
import { planFromState } from '../../src/core/plan/from-state.ts'
import { JoinError, joiningHosts, joinPlaybooks, releaseChanges } from '../../src/core/plan/join.ts'
import type { HostState, Records } from '../../src/core/plan/types.ts'
import { parseRepo } from '../../src/core/repo.ts'

const model = parseRepo({
  playbooks: Object.fromEntries(['bootstrap', 'base', 'backend', 'frontend'].map((p) => [p, `- hosts: webservers\n  roles: [${p}]\n`])),
  roles: { bootstrap: { tasks: [] }, base: { tasks: [] }, backend: { tasks: [] }, frontend: { tasks: [] } },
})
const [A, H] = ['a', 'e'].map((c) => c.repeat(40)) as [string, string]
const at = (commit: string) => ({ commit, finished: '2026-12-01T00:00:00Z', run: 'u@m' })
const all = (commit: string): Records => ({ bootstrap: at(commit), base: at(commit), backend: at(commit), frontend: at(commit) })
const read = (host: string, records: Records): HostState => ({ host, status: 'read', records })
const unreachable = (host: string): HostState => ({ host, status: 'unreachable', records: {}, message: 'Connection refused' })
const statePlan = (hosts: HostState[], changedSince: Record<string, string[] | undefined> = {}) =>
  planFromState({ model, config: DEFAULT_PLAN_CONFIG, head: { commit: H, dirty: false }, hosts, changedSince, now: Date.parse('2026-12-02T00:00:00Z'), event: 'workflow_dispatch' })

describe('a server joining by a dispatch of bootstrap', () => {
  const cluster = [read('app1', all(A)), read('app2', all(A)), unreachable('app3'), read('app4', {})]

  test('the hosts with no bootstrap record join (not answering as the deploy user yet, or answering with no record), when others answer', () => {
    assert.deepEqual(joiningHosts(['bootstrap'], cluster), ['app3', 'app4'])
    assert.deepEqual(joiningHosts(['bootstrap', 'base'], cluster), ['app3', 'app4'])
  })

  test('no join without bootstrap named, when no host answers yet (the first bootstrap), or when every host is bootstrapped', () => {
    assert.deepEqual(joiningHosts(['base', 'backend', 'frontend'], cluster), [])
    assert.deepEqual(joiningHosts(['bootstrap'], [unreachable('web1'), unreachable('web2')]), [])
    assert.deepEqual(joiningHosts(['bootstrap'], [read('app1', all(A)), read('app2', all(A))]), [])
  })

  test('bootstrap then every deploy playbook, when the others run the code to deploy', () => {
    const hosts = [read('app1', all(A)), unreachable('app3')]
    assert.deepEqual(joinPlaybooks(['bootstrap'], ['app3'], statePlan(hosts, { [A]: ['README.md'] })), ['bootstrap', 'base', 'backend', 'frontend'])
    // Other playbooks pending on the others run as a push would run them: the config is the repository's.
    assert.deepEqual(joinPlaybooks(['bootstrap'], ['app3'], statePlan(hosts, { [A]: ['roles/frontend/tasks/main.yml'] })), ['bootstrap', 'base', 'backend', 'frontend'])
  })

  test('refused before anything runs when backend is pending on the others: the new server would get a release they do not serve', () => {
    const hosts = [read('app1', all(A)), read('app2', all(A)), unreachable('app3')]
    assert.throws(() => joinPlaybooks(['bootstrap'], ['app3'], statePlan(hosts, { [A]: ['app/pages/views.py'] })), (e: Error) => {
      assert.ok(e instanceof JoinError)
      assert.match(e.message, /^app3 would join with a release that app1, app2 do not serve \(backend: .*changed since aaaaaaa\): deploy it there first \(a push, or dispatch backend\), then dispatch bootstrap again$/)
      return true
    })
  })

  test('the inventory change that adds the server makes no other release: joined; app code changed beside it: refused', () => {
    const hosts = [read('app1', all(A)), read('app2', all(A)), unreachable('app3')]
    const release = (paths: string[]) => statePlan(hosts, releaseChanges({ [A]: paths }, classifier(model, DEFAULT_PLAN_CONFIG)))
    assert.deepEqual(joinPlaybooks(['bootstrap'], ['app3'], release(['inventories/production/hosts.yml', 'roles/backend/tasks/main.yml'])), ['bootstrap', 'base', 'backend', 'frontend'])
    assert.throws(() => joinPlaybooks(['bootstrap'], ['app3'], release(['inventories/production/hosts.yml', 'app/pages/views.py'])), /backend: app source changed since aaaaaaa/)
  })
})

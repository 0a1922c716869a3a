// The plan from the deploy state: what each host recorded per playbook, the changes since, and the
// hosts a push leaves out. Pure: states and changed paths in, a plan out.
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { ago } from '../../src/core/format.ts'
import { DEFAULT_PLAN_CONFIG } from '../../src/core/plan/config.ts'
import { planExplicit } from '../../src/core/plan/from-changes.ts'
import { limitExcluding, planFromState, withHostRecords, type StatePlanInput } from '../../src/core/plan/from-state.ts'
import { parseStateFile, runName } from '../../src/core/plan/state-file.ts'
import { parseSlurpOutput, hostStates, slurpArgs, adhocBinary } from '../../src/core/plan/state-read.ts'
import type { HostState, Records } from '../../src/core/plan/types.ts'
import { parseRepo } from '../../src/core/repo.ts'
import { hostOutcomes } from '../../src/core/results.ts'
import { playbookArgs } from '../../src/core/run.ts'
import { planText, hostsMarkdown } from '../../src/core/summary.ts'

const post = (p: string) => `  post_tasks:\n    - ansible.builtin.include_role:\n        name: deploy_state\n      vars: { deploy_state_playbook: ${p} }\n`
const model = parseRepo({
  playbooks: Object.fromEntries(['bootstrap', 'base', 'backend', 'frontend'].map((p) => [p, `- hosts: webservers\n  roles: [${p}]\n${post(p)}`])),
  roles: { bootstrap: { tasks: [] }, base: { tasks: [] }, backend: { tasks: [] }, frontend: { tasks: [] }, deploy_state: { tasks: [] } },
})

const sha = (c: string) => c.repeat(40)
const [A, B, C, H, GONE] = ['a', 'b', 'c', 'e', 'f'].map(sha) as [string, string, string, string, string]
const NOW = Date.parse('2026-12-01T12:00:00Z')
const at = (commit: string, daysAgo = 1) => ({ commit, finished: new Date(NOW - daysAgo * 86_400_000).toISOString(), run: 'https://github.com/o/r/actions/runs/7' })
const all = (commit: string): Records => ({ bootstrap: at(commit, 9), base: at(commit), backend: at(commit), frontend: at(commit) })
const host = (name: string, records: Records): HostState => ({ host: name, status: 'read', records })

function plan(hosts: HostState[], changedSince: StatePlanInput['changedSince'] = {}, extra: Partial<StatePlanInput> = {}) {
  return planFromState({ model, config: DEFAULT_PLAN_CONFIG, head: { commit: H, dirty: false }, hosts, changedSince, now: NOW, event: 'push', ...extra })
}
const reason = (p: ReturnType<typeof plan>, h: string, pb: string) => p.hosts!.find((x) => x.host === h)!.playbooks.find((x) => x.playbook === pb)!.reason

describe('the plan from the deploy state', () => {
  const cases: { name: string; hosts: HostState[]; since?: StatePlanInput['changedSince']; limit?: string; run: string[]; limitOut?: string; check?: (p: ReturnType<typeof plan>) => void }[] = [
    {
      name: 'no state on the only host: nothing runs, the host is left out and bootstrap is asked for',
      hosts: [host('web1', {})],
      run: [],
      check: (p) => {
        assert.equal(p.hosts![0]!.excluded, 'nothing deployed from this copy yet')
        assert.match(p.notes.join('\n'), /Never bootstrapped from this copy: web1\. Dispatch the deploy workflow with playbooks: bootstrap first/)
        assert.match(p.notes.join('\n'), /Not deployed by this push: web1 \(nothing deployed from this copy yet\)/)
      },
    },
    {
      name: 'partial state: what a host has no record of runs, what is current does not',
      hosts: [host('web1', { bootstrap: at(H), base: at(H), backend: at(A) })],
      since: { [A]: ['app/pages/views.py'] },
      run: ['backend', 'frontend'],
      check: (p) => {
        assert.equal(reason(p, 'web1', 'base'), 'up to date')
        assert.equal(reason(p, 'web1', 'backend'), 'app source changed since aaaaaaa')
        assert.equal(reason(p, 'web1', 'frontend'), 'no record on this host')
      },
    },
    {
      name: 'a stale host: its old revision decides, the current one is up to date',
      hosts: [host('web1', all(H)), host('web2', all(A))],
      since: { [A]: ['roles/frontend/templates/site.conf.j2', 'README.md'] },
      run: ['frontend'],
      check: (p) => {
        assert.equal(p.playbooks.find((d) => d.playbook === 'frontend')!.reason, 'web2: role frontend changed since aaaaaaa')
        assert.equal(reason(p, 'web1', 'frontend'), 'up to date')
        assert.deepEqual(p.ignored, [{ label: 'documentation', paths: ['README.md'] }])
        assert.equal(p.limit, undefined)
      },
    },
    {
      name: 'a force push dropped the recorded commit: unknown here, so everything it ran runs again',
      hosts: [host('web1', all(GONE))],
      since: { [GONE]: undefined },
      run: ['base', 'backend', 'frontend'],
      check: (p) => assert.equal(reason(p, 'web1', 'backend'), 'fffffff is not in this history (force push?): what it ran is unknown'),
    },
    {
      name: 'a superseded run: the change of the cancelled push is caught up from the last recorded revision',
      // B changed the app and was cancelled; C (README) is deployed now, from A.
      hosts: [host('web1', all(A))],
      since: { [A]: ['app/pages/views.py', 'README.md'] },
      run: ['backend'],
    },
    {
      name: 'a failed backend: base is current, backend and frontend run again from their older record',
      hosts: [host('web1', { bootstrap: at(A, 9), base: at(C), backend: at(B, 2), frontend: at(B, 2) })],
      since: { [C]: ['README.md'], [B]: ['inventories/production/group_vars/all/vars.yml', 'README.md'], [A]: ['inventories/production/group_vars/all/vars.yml', 'README.md'] },
      run: ['backend', 'frontend'],
      check: (p) => {
        assert.equal(reason(p, 'web1', 'base'), 'no change since ccccccc concerns it')
        assert.equal(reason(p, 'web1', 'frontend'), 'shared input (inventories/production) changed since bbbbbbb')
        assert.match(p.notes.join('\n'), /shared inputs changed: if they concern SSH access/)
      },
    },
    {
      name: 'limit: the run keeps its own limit and leaves out the unreachable host',
      hosts: [host('web1', all(A)), { host: 'web3', status: 'unreachable', records: {}, message: 'Connection timed out' }],
      since: { [A]: ['app/x.py'] },
      limit: 'web1:web3',
      run: ['backend'],
      limitOut: 'web1:web3:!web3',
      check: (p) => {
        assert.equal(p.hosts![1]!.excluded, 'unreachable (Connection timed out): its state is unknown')
        // Not a note: the run fails naming it (test/unit/unreachable.test.ts).
        assert.doesNotMatch(p.notes.join('\n'), /web3/)
      },
    },
    {
      name: 'not bootstrapped from this copy but deployed: said so, and deployed all the same',
      hosts: [host('web1', { base: at(A), backend: at(A), frontend: at(A) })],
      since: { [A]: ['roles/base/tasks/main.yml'] },
      run: ['base'],
      check: (p) => {
        assert.match(p.notes.join('\n'), /Never bootstrapped from this copy: web1\./)
        assert.equal(p.hosts![0]!.excluded, undefined)
      },
    },
    {
      name: 'a new host in the inventory with no state is left out until bootstrapped; the others deploy',
      hosts: [host('web1', all(A)), host('web2', {})],
      since: { [A]: ['app/x.py'] },
      run: ['backend'],
      limitOut: 'all:!web2',
    },
    {
      name: 'a record from a working tree with uncommitted changes runs again',
      hosts: [host('web1', { ...all(H), backend: { ...at(H), dirty: true } })],
      run: ['backend'],
    },
    {
      name: 'a host whose state file is not valid is planned as if it had no record',
      hosts: [{ host: 'web1', status: 'unreadable', records: {}, message: 'Permission denied' }],
      run: ['base', 'backend', 'frontend'],
    },
    {
      name: 'everything current: nothing runs',
      hosts: [host('web1', all(H)), host('web2', all(H))],
      run: [],
      check: (p) => assert.equal(p.playbooks.find((d) => d.playbook === 'backend')!.reason, 'every host is up to date for it'),
    },
    {
      name: 'bootstrap changed: never runs from a push, the note says to dispatch it',
      hosts: [host('web1', all(A))],
      since: { [A]: ['roles/bootstrap/tasks/main.yml'] },
      run: [],
      check: (p) => assert.match(p.notes.join('\n'), /bootstrap changed: it never runs from a push/),
    },
  ]
  for (const c of cases) {
    test(c.name, () => {
      const p = plan(c.hosts, c.since, c.limit ? { limit: c.limit } : {})
      assert.deepEqual(p.run, c.run)
      assert.equal(p.limit, c.limitOut)
      c.check?.(p)
    })
  }

  test('the summary says it per host: from which revision to which, how old, and why', () => {
    const p = plan([host('web1', { bootstrap: at(A, 9), base: at(H), backend: at(A, 3), frontend: at(H) })], { [A]: ['app/x.py'] })
    assert.match(planText(p), /^ {2}backend on web1: aaaaaaa, 3 days ago → eeeeeee: app source changed since aaaaaaa$/m)
    assert.match(planText(p), /^ {2}base on web1: eeeeeee, 1 day ago → eeeeeee: up to date$/m)
    const md = hostsMarkdown(p).join('\n')
    assert.match(md, /\| \| backend \| aaaaaaa, 3 days ago → eeeeeee \(https:\/\/github.com\/o\/r\/actions\/runs\/7\) \| ✅ yes \| app source changed since aaaaaaa \|/)
    assert.match(md, /\| \| frontend \| eeeeeee, 1 day ago → eeeeeee .*\| ⏭️ no \| up to date \|/)
    // The plan output carries the same in JSON.
    const json = JSON.parse(JSON.stringify(p)) as typeof p
    assert.equal(json.hosts![0]!.playbooks[2]!.from!.commit, A)
  })

  test('in a split layout, each host says what it is, in the plan text and the summary', () => {
    const p = plan([host('app1', { backend: at(A, 3) }), host('db1', { backend: at(A, 3) })], { [A]: ['app/x.py'] })
    p.layout = { kind: 'split', app: ['app1'], db: 'db1' }
    assert.match(planText(p), /^ {2}app1 is the app server$/m)
    assert.match(planText(p), /^ {2}db1 is the database server$/m)
    assert.match(hostsMarkdown(p).join('\n'), /^\| \*\*db1\*\* \(database server\) \|/m)
  })

  test('named playbooks show each host\'s records without deciding from them', () => {
    const p = withHostRecords(planExplicit(model, ['backend'], 'dispatch'), [host('web1', { backend: at(A) }), { host: 'web2', status: 'unreachable', records: {}, message: 'refused' }], { commit: H, dirty: false }, NOW)
    assert.deepEqual(p.run, ['backend'])
    assert.equal(p.hosts![0]!.playbooks[2]!.reason, 'named')
    assert.equal(p.hosts![1]!.excluded, undefined)
    assert.match(p.notes.join('\n'), /Never bootstrapped from this copy: web1\./)
  })

  test('the result output says, per host and playbook, what came of the plan', () => {
    const p = plan([host('web1', all(A)), host('web2', {})], { [A]: ['inventories/production/group_vars/all/vars.yml'] })
    const hosts = hostOutcomes({
      status: 'failure', check: false, notRun: ['frontend'],
      playbooks: [
        { playbook: 'base', status: 'success', exitCode: 0, durationMs: 1, hosts: { web1: { ok: 3, changed: 0, failed: 0, unreachable: 0, skipped: 0, rescued: 0, ignored: 0 } }, changed: [], failures: [], tasks: [] },
        { playbook: 'backend', status: 'failure', exitCode: 2, durationMs: 1, hosts: { web1: { ok: 3, changed: 0, failed: 1, unreachable: 0, skipped: 0, rescued: 0, ignored: 0 } }, changed: [], failures: [], tasks: [] },
      ],
    }, p)
    assert.deepEqual(hosts.web1, {
      bootstrap: { from: A, to: 'eeeeeee', outcome: 'not needed' },
      base: { from: A, to: 'eeeeeee', outcome: 'deployed' },
      backend: { from: A, to: 'eeeeeee', outcome: 'failed' },
      frontend: { from: A, to: 'eeeeeee', outcome: 'not run after the failure' },
    })
    assert.equal(hosts.web2!.base!.outcome, 'left out')
  })
})

describe('deploy state pieces', () => {
  test('the state file: the role\'s format, anything else refused', () => {
    assert.deepEqual(parseStateFile(JSON.stringify({ version: 1, playbooks: { backend: { commit: A, dirty: false, finished: '2026-12-01T10:00:00Z', run: 'u@m' }, nginx: { commit: A } } })), {
      backend: { commit: A, finished: '2026-12-01T10:00:00Z', run: 'u@m' },
    })
    assert.throws(() => parseStateFile('[]'), /not a deploy state/)
    assert.throws(() => parseStateFile('{'), SyntaxError)
  })

  test('the ad-hoc answers: found, missing, failed, unreachable', () => {
    const content = Buffer.from(JSON.stringify({ version: 1, playbooks: { base: { commit: A, finished: 'x', run: 'r' } } })).toString('base64')
    const out = [
      `web1 | SUCCESS => {"changed": false, "content": "${content}", "encoding": "base64", "source": "/var/lib/django-deploy/o-p.json"}`,
      'web2 | FAILED! => {"changed": false, "msg": "file not found: /var/lib/django-deploy/o-p.json"}',
      'web3 | UNREACHABLE!: Failed to connect to the host via ssh: ssh: connect to host 198.18.0.9 port 22: Connection refused',
      'web4 | FAILED! => {"changed": false, "msg": "Permission denied"}',
      '[WARNING]: something',
    ].join('\n')
    assert.deepEqual(hostStates(parseSlurpOutput(out)), [
      { host: 'web1', status: 'read', records: { base: { commit: A, finished: 'x', run: 'r' } } },
      { host: 'web2', status: 'read', records: {} },
      { host: 'web3', status: 'unreachable', records: {}, message: 'Failed to connect to the host via ssh: ssh: connect to host 198.18.0.9 port 22: Connection refused' },
      { host: 'web4', status: 'unreadable', records: {}, message: 'Permission denied' },
    ])
  })

  test('the read uses the runs\' inventory and limit, and ansible beside their ansible-playbook', () => {
    assert.deepEqual(slurpArgs({ inventory: 'inventories/production', limit: 'web1' }, '/f'), [
      'webservers', '-i', 'inventories/production', '--limit', 'web1', '-m', 'ansible.builtin.slurp', '-a', 'src=/f', '--one-line', '-T', '10',
    ])
    assert.deepEqual(slurpArgs({ inventory: 'i', extraVarsFiles: ['/t/ssh-vars.json'] }, '/f').slice(0, 5), ['webservers', '-i', 'i', '--extra-vars', '@/t/ssh-vars.json'])
    assert.equal(adhocBinary('/tmp/venv/bin/ansible-playbook'), '/tmp/venv/bin/ansible')
    assert.equal(adhocBinary('ansible-playbook'), 'ansible')
  })

  test('a real run passes what the hosts record; check mode passes nothing', () => {
    const s = { cwd: '.', ansiblePlaybook: 'ansible-playbook', inventory: 'inv', check: false, diff: false, tags: [], env: {}, extraVars: '{"x": 1}', record: { commit: A, dirty: false, run: 'u@m' } }
    assert.deepEqual(playbookArgs('base', s).slice(-4), ['--extra-vars', JSON.stringify({ deploy_state_commit: A, deploy_state_dirty: false, deploy_state_run: 'u@m' }), '--extra-vars', '{"x": 1}'])
    assert.ok(!playbookArgs('base', { ...s, check: true }).some((a) => a.includes('deploy_state')))
  })

  test('limits, ages, run names', () => {
    assert.equal(limitExcluding(undefined, []), undefined)
    assert.equal(limitExcluding('', ['web2', 'web3']), 'all:!web2:!web3')
    assert.equal(ago('2026-12-01T11:59:30Z', NOW), '30 s ago')
    assert.equal(ago('2026-11-28T12:00:00Z', NOW), '3 days ago')
    assert.equal(ago('', NOW), 'at an unknown time')
    assert.equal(runName({ GITHUB_SERVER_URL: 'https://github.com', GITHUB_REPOSITORY: 'o/r', GITHUB_RUN_ID: '42' }, 'u@m'), 'https://github.com/o/r/actions/runs/42')
    assert.equal(runName({}, 'u@m'), 'u@m')
  })
})

describe('django-deploy status', () => {
  test('per host and playbook: revision, age, run; the backup record; what HEAD would deploy', async () => {
    const { statusText } = await import('../../src/cli/status.ts')
    const hosts = [host('web1', { base: at(A, 3), backend: { ...at(H), dirty: true } }), { host: 'web2', status: 'unreachable' as const, records: {}, message: 'timed out' }]
    const p = plan(hosts, { [A]: ['roles/base/tasks/main.yml'] })
    const text = statusText({
      head: { commit: H, dirty: false },
      state: { ok: true, hosts, durationMs: 1 },
      backups: { web1: { last_success: '2026-12-01T06:00:00Z', object: 'backups/db.dump.gpg', bytes: 3_145_728, sha256: 'ab', last_failure: null } },
      processes: {
        web1: {
          host: 'web1', status: 'read', errors: [],
          processes: [
            { kind: 'web', name: 'blue', state: 'RUNNING', description: 'pid 120, uptime 1:02:03' },
            { kind: 'web', name: 'green', state: 'STOPPED', description: 'Dec 01 11:00 AM' },
            { kind: 'worker', name: 'tasks-0', state: 'RUNNING', description: 'pid 130, uptime 0:10:00' },
          ],
          timers: [{ job: 'tick', calendar: '*-*-* *:*:00', active: 'active', next: 'Tue 2026-12-01 12:01:00 UTC', last: 'Tue 2026-12-01 12:00:00 UTC', result: 'success' }],
        },
      },
      plan: p,
    }, NOW)
    assert.match(text, /^web1: deploy state read$/m)
    assert.match(text, /^ {2}bootstrap no record$/m)
    assert.match(text, /^ {2}base {6}aaaaaaa {2}3 days ago {5}https:\/\/github\.com\/o\/r\/actions\/runs\/7$/m)
    assert.match(text, /^ {2}backend {3}eeeeeee\+ 1 day ago/m)
    assert.match(text, /^ {2}backup {4}last success 6 h ago \(2026-12-01T06:00:00Z\), 3\.0 MiB, backups\/db\.dump\.gpg$/m)
    assert.match(text, /^ {2}web {7}blue {7}RUNNING {2}pid 120, uptime 1:02:03$/m)
    assert.match(text, /^ {2}worker {4}tasks-0 {4}RUNNING {2}pid 130, uptime 0:10:00$/m)
    assert.match(text, /^ {2}timer {5}tick {7}\*-\*-\* \*:\*:00: next Tue 2026-12-01 12:01:00 UTC, last Tue 2026-12-01 12:00:00 UTC \(success\)$/m)
    assert.match(text, /^web2: unreachable: timed out\n( {2}\S+ +no record\n){4}\nHEAD/m)
    assert.match(text, /^HEAD eeeeeee would deploy:\nPlan \(from the changes\): push: from each host's deploy state to eeeeeee$/m)
  })

  test('the pending migrations of the code to deploy, per host, with their class; or why they were not read', async () => {
    const { statusText } = await import('../../src/cli/status.ts')
    const hosts = [host('web1', { backend: at(A) })]
    const base = { head: { commit: H, dirty: false }, state: { ok: true as const, hosts, durationMs: 1 }, backups: {}, processes: {}, plan: plan(hosts, {}) }
    const text = statusText({
      ...base,
      migrations: {
        web1: {
          class: 'breaking',
          migrations: [{ migration: 'pages.0002_x', operations: [
            { operation: 'Add field extra to note', class: 'additive', reason: 'a nullable or defaulted column' },
            { operation: 'Remove field created from note', class: 'breaking', reason: 'drops a column the serving release reads' },
          ] }],
        },
      },
    }, NOW)
    assert.match(text, /^web1: pending migrations of the code to deploy: breaking\n {2}pages\.0002_x: additive: Add field extra to note \(a nullable or defaulted column\)\n {2}pages\.0002_x: BREAKING: Remove field created from note \(drops a column the serving release reads\)$/m)
    assert.match(statusText({ ...base, migrationsError: 'web1: unreachable' }, NOW), /^Pending migrations not read: web1: unreachable$/m)
    assert.doesNotMatch(statusText(base, NOW), /migrations/)
  })
})

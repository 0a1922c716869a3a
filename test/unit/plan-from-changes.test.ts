// The plan from changed paths (core/plan/from-changes.ts, classify.ts): the repository's own
// structure decides which playbook a changed path triggers.
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { splitByPrefix, type ChangeSet } from '../../src/core/plan/changes.ts'
import { DEFAULT_PLAN_CONFIG, parsePlanConfig, type PlanConfig } from '../../src/core/plan/config.ts'
import { planAuto, planExplicit } from '../../src/core/plan/from-changes.ts'
import { parsePlaybookSelection } from '../../src/core/playbooks.ts'
import { parseRepo, type RepoSource } from '../../src/core/repo.ts'

const source: RepoSource = {
  playbooks: {
    bootstrap: '- hosts: webservers\n  roles: [bootstrap]\n',
    base: '---\n- name: Base\n  hosts: webservers\n  roles:\n    - role: base\n',
    backend: [
      '- hosts: webservers',
      '  pre_tasks:',
      '    - name: Validate',
      '      ansible.builtin.import_role: { name: validate }',
      '  tasks:',
      '    - block:',
      '        - ansible.builtin.include_role:',
      '            name: backend',
      '',
    ].join('\n'),
    frontend: '- hosts: webservers\n  roles:\n    - { role: frontend }\n',
    site: '- ansible.builtin.import_playbook: base.yml\n- import_playbook: backend.yml\n',
  },
  roles: {
    bootstrap: { tasks: [] },
    base: { tasks: [] },
    backend: { meta: 'dependencies:\n  - role: python\n', tasks: [] },
    python: { meta: 'dependencies: [common]\n', tasks: [] },
    common: { tasks: [] },
    validate: { tasks: [] },
    frontend: { tasks: ['- name: TLS\n  ansible.builtin.include_role:\n    name: tls\n'] },
    tls: { tasks: [] },
    unused: { tasks: [] },
  },
}
const model = parseRepo(source)
const diff = (paths: string[]): ChangeSet => ({ kind: 'diff', description: 'push', base: 'a', head: 'b', paths })
const config: PlanConfig = { ...DEFAULT_PLAN_CONFIG, inventory: 'inventories/production' }
const run = (paths: string[], c = config) => planAuto(model, diff(paths), c).run

describe('repository model', () => {
  test('roles of each playbook: roles:, import_role, include_role in blocks, meta dependencies transitively', () => {
    assert.deepEqual([...model.playbookRoles.backend!].sort(), ['backend', 'common', 'python', 'validate'])
    assert.deepEqual([...model.playbookRoles.frontend!].sort(), ['frontend', 'tls'])
    assert.deepEqual([...model.playbookRoles.base!], ['base'])
    assert.deepEqual(model.warnings, [])
  })

  test('a playbook that does not parse is a warning, not a crash', () => {
    const m = parseRepo({ playbooks: { base: '- hosts: [\n' }, roles: {} })
    assert.equal(m.warnings.length, 1)
    assert.match(m.warnings[0]!, /playbooks\/base\.yml: not valid YAML/)
  })
})

describe('plan from changed paths', () => {
  const table: [string, string[], string[]][] = [
    ['a backend role file runs only backend', ['roles/backend/tasks/main.yml'], ['backend']],
    ['a dependency of a dependency runs its users', ['roles/common/defaults/main.yml'], ['backend']],
    ['a role included from another role\'s tasks', ['roles/tls/templates/x.j2'], ['frontend']],
    ['a role used by no playbook runs nothing', ['roles/unused/tasks/main.yml'], []],
    ['a role README runs nothing', ['roles/backend/README.md'], []],
    ['the playbook file itself', ['playbooks/frontend.yml'], ['frontend']],
    ['group_vars of the inventory run every deploy playbook', ['inventories/production/group_vars/all/vars.yml'], ['base', 'backend', 'frontend']],
    ['the vault runs every deploy playbook', ['inventories/production/group_vars/all/vault.yml'], ['base', 'backend', 'frontend']],
    ['ansible.cfg runs every deploy playbook', ['ansible.cfg'], ['base', 'backend', 'frontend']],
    ['another inventory runs nothing', ['inventories/staging/hosts.yml'], []],
    ['the app source runs backend', ['app/example_project/settings.py'], ['backend']],
    ['docs, tests, CI, the action run nothing', ['README.md', 'docs/a.md', 'test/unit/x.test.ts', '.github/workflows/deploy.yml', 'src/core/plan/make.ts', 'dist/index.js'], []],
    ['site.yml runs nothing by itself', ['playbooks/site.yml'], []],
    ['several paths: in order, once each', ['roles/frontend/tasks/main.yml', 'app/x.py', 'roles/base/tasks/main.yml', 'roles/backend/x'], ['base', 'backend', 'frontend']],
  ]
  for (const [name, paths, expected] of table) test(name, () => assert.deepEqual(run(paths), expected))

  test('each playbook lists the paths that caused it; ignored paths are grouped by reason', () => {
    const plan = planAuto(model, diff(['roles/backend/tasks/main.yml', 'app/x.py', 'docs/a.md']), config)
    const backend = plan.playbooks.find((d) => d.playbook === 'backend')!
    assert.deepEqual(backend.triggers, [{ label: 'app source', paths: ['app/x.py'] }, { label: 'role backend', paths: ['roles/backend/tasks/main.yml'] }])
    assert.equal(plan.playbooks.find((d) => d.playbook === 'base')!.reason, 'no change concerns it')
    assert.deepEqual(plan.ignored, [{ label: 'documentation', paths: ['docs/a.md'] }])
    assert.equal(plan.changedPaths, 3)
  })

  test('bootstrap never runs from a push: the plan says to run it by dispatch', () => {
    const plan = planAuto(model, diff(['roles/bootstrap/tasks/main.yml']), config)
    assert.deepEqual(plan.run, [])
    const b = plan.playbooks[0]!
    assert.equal(b.run, false)
    assert.match(b.reason, /dispatch/)
    assert.ok(plan.notes.some((n) => /bootstrap changed.*dispatch/.test(n)))
  })

  test('shared inputs note that bootstrap may be needed, without running it', () => {
    const plan = planAuto(model, diff(['inventories/production/group_vars/all/vars.yml']), config)
    assert.ok(!plan.run.includes('bootstrap'))
    assert.ok(plan.notes.some((n) => /SSH access/.test(n)))
  })

  test('deletions and both sides of a rename count', () => {
    assert.deepEqual(run(['roles/base/templates/old.j2', 'roles/frontend/templates/new.j2']), ['base', 'frontend'])
  })

  test('no diff (dispatch, schedule) or an unresolved range: every deploy playbook, said so', () => {
    for (const c of [{ kind: 'none', description: 'schedule' }, { kind: 'unresolved', description: 'push', reason: 'gone' }] as ChangeSet[]) {
      const plan = planAuto(model, c, config)
      assert.deepEqual(plan.run, ['base', 'backend', 'frontend'])
      assert.match(plan.fallback!, /every deploy playbook/)
    }
  })

  test('a planned playbook whose file is missing is not run, with a note', () => {
    const m = parseRepo({ ...source, playbooks: { ...source.playbooks, frontend: undefined as unknown as string } })
    delete (m.playbookRoles as Record<string, unknown>).frontend
    const plan = planAuto(m, diff(['ansible.cfg']), config)
    assert.deepEqual(plan.run, ['base', 'backend'])
    assert.ok(plan.notes.some((n) => /frontend.*does not exist/.test(n)))
  })

  test('override file: rules first (first match), ignore, custom app paths', () => {
    const c = {
      ...parsePlanConfig('app: [src/django/, requirements.txt]\nignore: [roles/*/files/notes/**]\nrules:\n  - paths: [config/nginx/**]\n    playbooks: [frontend]\n  - paths: [app/**]\n    playbooks: []\n'),
      inventory: 'inventories/production',
    }
    assert.deepEqual(run(['config/nginx/site.conf'], c), ['frontend'])
    assert.deepEqual(run(['app/x.py'], c), [])
    assert.deepEqual(run(['src/django/x.py', 'requirements.txt'], c), ['backend'])
    assert.deepEqual(run(['roles/backend/files/notes/a.txt'], c), [])
    const plan = planAuto(model, diff(['config/nginx/site.conf']), c)
    assert.equal(plan.playbooks[3]!.triggers[0]!.label, 'override config/nginx/**')
  })

  test('paths below a working directory are planned relative to it; others trigger nothing', () => {
    assert.deepEqual(splitByPrefix(['deploy/roles/base/x', 'README.md'], 'deploy/'), { inside: ['roles/base/x'], outside: ['README.md'] })
    assert.deepEqual(splitByPrefix(['a', 'b/c'], ''), { inside: ['a', 'b/c'], outside: [] })
  })
})

describe('explicit playbooks', () => {
  test('a list runs in order; bootstrap runs when named', () => {
    const plan = planExplicit(model, ['bootstrap', 'frontend'], 'dispatch')
    assert.deepEqual(plan.run, ['bootstrap', 'frontend'])
    assert.equal(plan.mode, 'explicit')
  })

  test('selection parsing: auto, all, lists in any order, bad names quoted', () => {
    assert.equal(parsePlaybookSelection(''), 'auto')
    assert.deepEqual(parsePlaybookSelection('all'), ['base', 'backend', 'frontend'])
    assert.deepEqual(parsePlaybookSelection('frontend, bootstrap\nbase'), ['bootstrap', 'base', 'frontend'])
    assert.throws(() => parsePlaybookSelection('base,nginx'), /unknown playbook "nginx" in "base,nginx": expected auto, all/)
  })
})

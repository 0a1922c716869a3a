// `django-deploy plan --json` on this repository's own playbooks and roles: a clone of the repository
// gets sample commits (the changes a team makes every day) and each one must plan what it needs.
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { appendFileSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const repoRoot = fileURLToPath(new URL('../..', import.meta.url))

interface PlanJson {
  run: string[]
  notes: string[]
  playbooks: { playbook: string; run: boolean; triggers: { label: string; paths: string[] }[] }[]
}

describe('plan --json on this repository', () => {
  let clone: string
  const git = (...args: string[]) => execFileSync('git', ['-C', clone, ...args], { encoding: 'utf8' })

  /** Appends a line to each file, commits, and returns the plan of that commit alone. */
  function commitAndPlan(files: string[]): PlanJson {
    for (const f of files) appendFileSync(join(clone, f), '\n# touched\n')
    git('add', '-A')
    git('-c', 'user.name=test', '-c', 'user.email=test@example.invalid', 'commit', '-qm', `touch ${files.join(' ')}`)
    const out = execFileSync(process.execPath, ['--import', 'tsx', join(repoRoot, 'src/cli/index.ts'),
      'plan', '--dir', clone, '--from', 'HEAD~1', '--to', 'HEAD', '--json'], { encoding: 'utf8', cwd: repoRoot })
    return JSON.parse(out) as PlanJson
  }

  before(() => {
    clone = mkdtempSync(join(tmpdir(), 'plan-repo-'))
    // The working tree as it is now (committed or not), as one commit: what the team copies.
    execFileSync('git', ['init', '-q', '-b', 'main', clone])
    execFileSync('bash', ['-c', 'git ls-files -co --exclude-standard -z | xargs -0 cp --parents -t "$0"', clone], { cwd: repoRoot })
    git('add', '-A')
    git('-c', 'user.name=test', '-c', 'user.email=test@example.invalid', 'commit', '-qm', 'template')
  })
  after(() => rmSync(clone, { recursive: true, force: true }))

  const cases: { what: string; files: string[]; run: string[] }[] = [
    { what: 'a view of the app', files: ['app/pages/views.py'], run: ['backend'] },
    { what: 'a backend task', files: ['roles/backend/tasks/main.yml'], run: ['backend'] },
    { what: 'the nginx site template', files: ['roles/frontend/templates/site.conf.j2'], run: ['frontend'] },
    { what: 'the firewall rules', files: ['roles/base/templates/nftables.conf.j2'], run: ['base'] },
    { what: 'the project settings (group_vars)', files: ['inventories/production/group_vars/all/vars.yml'], run: ['base', 'backend', 'frontend'] },
    { what: 'ansible.cfg', files: ['ansible.cfg'], run: ['base', 'backend', 'frontend'] },
    { what: 'the README and a test', files: ['README.md', 'test/e2e/site.test.ts'], run: [] },
    { what: 'the action\'s code', files: ['src/core/plan/make.ts'], run: [] },
    { what: 'backend and frontend defaults', files: ['roles/backend/defaults/main.yml', 'roles/frontend/defaults/main.yml'], run: ['backend', 'frontend'] },
  ]
  for (const c of cases) {
    test(`${c.what} → ${c.run.join(', ') || 'nothing'}`, () => {
      const plan = commitAndPlan(c.files)
      assert.deepEqual(plan.run, c.run)
      for (const p of plan.playbooks.filter((x) => x.run)) {
        const paths = p.triggers.flatMap((t) => t.paths)
        assert.ok(paths.some((x) => c.files.includes(x)), `${p.playbook} names the paths that caused it: ${paths}`)
      }
    })
  }

  test('a change to the bootstrap role runs nothing from a push and says to run bootstrap by dispatch', () => {
    const plan = commitAndPlan(['roles/bootstrap/templates/sshd_config.j2'])
    assert.deepEqual(plan.run, [])
    assert.match(plan.notes.join('\n'), /bootstrap/i)
  })
})

// The lint rule of scripts/check-probes.mjs: a command's registered result read by another task
// must come from a `check_mode: false` task or be read behind a guard (Ansible 2.9 gives a command
// skipped in check mode no rc, ansible-core gives rc=0, so only 2.9's previews break).
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { checkProbes, fileTasks } from '../../scripts/check-probes.mjs'

/** Problems for a role made of the given task files (name → YAML). */
function problems(files: Record<string, string>, entries = ['roles/r/tasks/main.yml']): string[] {
  const root = mkdtempSync(join(tmpdir(), 'probes-'))
  try {
    mkdirSync(join(root, 'roles/r/tasks'), { recursive: true })
    for (const [name, text] of Object.entries(files)) writeFileSync(join(root, 'roles/r/tasks', name), text)
    const tasks = Object.keys(files).flatMap((name) => fileTasks(join(root, 'roles/r/tasks', name), root))
    return checkProbes(tasks, new Set(entries))
  } finally {
    rmSync(root, { recursive: true, force: true })
  }
}

const probe = (extra = '') => `
- name: The configuration is valid
  ansible.builtin.command:
    argv: [check]
  register: _probe
  changed_when: false
  failed_when: false
${extra}`

const CASES: ReadonlyArray<{ name: string; main: string; expected: RegExp | null }> = [
  {
    name: 'a read of rc in a later when, probe without check_mode: false',
    main: `${probe()}
- name: The configuration is refused
  ansible.builtin.fail:
    msg: invalid
  when: _probe.rc != 0
`,
    expected: /main\.yml:9: "The configuration is refused" reads _probe\.rc, .*check_mode: false to the probe \(roles\/r\/tasks\/main\.yml:2\)/,
  },
  {
    name: 'the same probe with check_mode: false',
    main: `${probe('  check_mode: false')}
- name: The configuration is refused
  ansible.builtin.fail:
    msg: invalid
  when: _probe.rc != 0
`,
    expected: null,
  },
  {
    name: 'a reader guarded by not ansible_check_mode',
    main: `${probe()}
- name: The configuration is refused
  ansible.builtin.fail:
    msg: invalid
  when:
    - not ansible_check_mode
    - _probe.rc != 0
`,
    expected: null,
  },
  {
    name: 'a read with a default, and reads that a skipped result answers',
    main: `${probe()}
- name: The configuration is refused
  ansible.builtin.fail:
    msg: "{{ _probe.stdout | default('') }}"
  when: _probe is changed or _probe.changed
`,
    expected: null,
  },
  {
    name: 'a reader inside a block whose when is guarded',
    main: `${probe()}
- name: Outside check mode
  when: not ansible_check_mode
  block:
    - name: The configuration is refused
      ansible.builtin.fail:
        msg: "{{ _probe.stderr }}"
`,
    expected: null,
  },
  {
    name: 'a shell probe read in a set_fact',
    main: `
- name: The version is read
  ansible.builtin.shell: nginx -v
  register: _version
  changed_when: false
- name: The version is known
  ansible.builtin.set_fact:
    version: "{{ _version.stderr }}"
`,
    expected: /reads _version\.stderr/,
  },
]

for (const c of CASES) {
  test(`check-probes: ${c.name}`, () => {
    const found = problems({ 'main.yml': c.main })
    if (c.expected === null) assert.deepEqual(found, [])
    else {
      assert.equal(found.length, 1, found.join('\n'))
      assert.match(found[0]!, c.expected)
    }
  })
}

test('check-probes: a file included only outside check mode is not checked, one included unguarded is', () => {
  const release = `${probe()}
- name: Refused
  ansible.builtin.fail:
    msg: invalid
  when: _probe.rc != 0
`
  const include = (when: string) => `
- name: The release
  ansible.builtin.include_tasks:
    file: release.yml
${when}`
  assert.deepEqual(problems({ 'main.yml': include('  when: not ansible_check_mode'), 'release.yml': release }), [])
  assert.equal(problems({ 'main.yml': include(''), 'release.yml': release }).length, 1)
  // An entry point of a playbook (tasks_from) runs in check mode whoever else includes it.
  assert.equal(problems({ 'main.yml': include('  when: not ansible_check_mode'), 'release.yml': release },
    ['roles/r/tasks/main.yml', 'roles/r/tasks/release.yml']).length, 1)
})

// The variable checks have one source: each role's meta/argument_specs.yml, read by roles/checks on
// every Ansible version. This keeps every role wired to it, first, and every option checkable.
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parse } from 'yaml'

const repoRoot = fileURLToPath(new URL('../..', import.meta.url))
const ROLES = ['bootstrap', 'base', 'backend', 'frontend']
/** The types and elements roles/checks/tasks/main.yml knows. */
const CHECKED_TYPES = ['str', 'path', 'int', 'float', 'bool', 'list', 'dict']

const yaml = (file: string) => parse(readFileSync(join(repoRoot, file), 'utf8')) as unknown

describe('role variable checks', () => {
  for (const role of ROLES) {
    test(`${role}: validate.yml starts with the shared checks of its own argument_specs`, () => {
      const tasks = yaml(`roles/${role}/tasks/validate.yml`) as Record<string, unknown>[]
      const first = tasks[0]!
      assert.deepEqual(first['ansible.builtin.import_role'], { name: 'checks' })
      assert.deepEqual(first.vars, { checks_role: role })
    })

    test(`${role}: every option of meta/argument_specs.yml has a type the checks know`, () => {
      const spec = yaml(`roles/${role}/meta/argument_specs.yml`) as { argument_specs: Record<string, { options: Record<string, { type?: string; elements?: string }> }> }
      for (const [name, o] of Object.entries(spec.argument_specs.main!.options)) {
        assert.ok(CHECKED_TYPES.includes(o.type ?? 'str'), `${name}: type ${o.type}`)
        if (o.elements) assert.ok(CHECKED_TYPES.includes(o.elements), `${name}: elements ${o.elements}`)
      }
    })
  }

  test('backend and frontend check the SSH port and the public host names in a play that connects nowhere', () => {
    for (const pb of ['backend', 'frontend']) {
      const [first] = yaml(`playbooks/${pb}.yml`) as { vars?: Record<string, unknown>; tasks?: Record<string, unknown>[] }[]
      assert.equal(first!.vars?.ansible_port, 22)
      const checks = first!.tasks?.find((t) => (t['ansible.builtin.include_role'] as { name?: string } | undefined)?.name === 'checks')
      assert.deepEqual(Object.keys((checks?.vars as { checks_options: object }).checks_options), ['server_ssh_port', 'public_hostnames'])
    }
  })
})

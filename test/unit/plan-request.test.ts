// The action's plan request (action/plan-request.ts): from the settings and what preflight read.
// Pure. A pull-request preview never reads the hosts' state; the rest do, through the runs' settings.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { DEFAULT_PLAN_CONFIG } from '../../src/core/plan/config.ts'
import type { AnsibleRunSettings } from '../../src/core/run.ts'
import { planRequest } from '../../src/action/plan-request.ts'
import { readSettings } from '../../src/action/inputs.ts'

const run: AnsibleRunSettings = { cwd: '/repo', ansiblePlaybook: 'ansible-playbook', inventory: 'inventories/production', env: {} }
const settings = (inputs: Record<string, string> = {}) => readSettings((n) => inputs[n] ?? '')
const config = { ...DEFAULT_PLAN_CONFIG, inventory: 'inventories/production' }

test('sets defaults: a dispatch without event file plans automatically from "this run", reading the state', () => {
  const r = planRequest(settings(), '/repo', { planConfig: config }, run)
  assert.equal(r.selection, 'auto')
  assert.equal(r.event, 'this run')
  assert.deepEqual(r.changes, { kind: 'event', event: { name: '', payload: {} } })
  assert.equal(r.readStateWith, run)
  assert.equal(r.config, config)
  assert.equal(r.limit, undefined)
})

test('a push: the event preflight read is handed on as it is, with the limit', () => {
  const event = { name: 'push', payload: { before: 'a', after: 'b' } }
  const r = planRequest(settings({ limit: 'web1' }), '/repo', { planConfig: config, event }, run)
  assert.deepEqual(r.changes, { kind: 'event', event })
  assert.equal(r.event, 'push')
  assert.equal(r.limit, 'web1')
})

for (const name of ['pull_request', 'pull_request_target']) {
  test(`a ${name} preview plans from its own changes: no state read`, () => {
    const r = planRequest(settings(), '/repo', { planConfig: config, event: { name, payload: {} } }, run)
    assert.equal(r.readStateWith, undefined)
  })
}

test('named playbooks say where they were named', () => {
  const r = planRequest(settings({ playbooks: 'frontend,base' }), '/repo', { planConfig: config, event: { name: 'workflow_dispatch', payload: {} } }, run)
  assert.deepEqual(r.selection, ['base', 'frontend'])
  assert.equal(r.namedSource, 'workflow_dispatch: base, frontend named in the playbooks input')
})

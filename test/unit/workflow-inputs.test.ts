// The shipped workflows' inputs to the action, as the e2e tests evaluate them.
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { actionInputs, evaluate, type Contexts } from '../support/workflow-inputs.ts'

const WORKFLOWS = join(resolve(dirname(fileURLToPath(import.meta.url)), '../..'), '.github/workflows')
const secrets = { ANSIBLE_VAULT_KEY: 'vk', SSH_PRIVATE_KEY: 'key', SSH_KNOWN_HOSTS: 'kh' }
const ctx = (event_name: string, inputs: Contexts['inputs'] = {}): Contexts => ({ github: { event_name }, inputs, secrets })

describe('workflow expressions', () => {
  test('&& and || pick values as GitHub does; == compares', () => {
    assert.equal(evaluate("github.event_name == 'schedule' && 'base' || inputs.playbooks || 'auto'", ctx('schedule')), 'base')
    assert.equal(evaluate("github.event_name == 'schedule' && 'base' || inputs.playbooks || 'auto'", ctx('push')), 'auto')
    assert.equal(evaluate("inputs.check && 'true' || 'false'", ctx('workflow_dispatch', { check: false })), 'false')
    assert.equal(evaluate("!inputs.check", ctx('push')), true)
    assert.equal(evaluate("'it''s'", ctx('push')), "it's")
  })
  test('deploy.yml: push, schedule and dispatch', () => {
    const push = actionInputs(join(WORKFLOWS, 'deploy.yml'), ctx('push'))
    assert.deepEqual([push.playbooks, push.inventory, push['vault-key'], push['ssh-private-key'], push['known-hosts'], push.check, push.diff, push.limit],
      ['auto', 'inventories/production', 'vk', 'key', 'kh', 'false', 'false', ''])
    const schedule = actionInputs(join(WORKFLOWS, 'deploy.yml'), ctx('schedule'))
    assert.deepEqual([schedule.playbooks, schedule.drift, schedule['drift-issue']], ['base', 'true', 'true'])
    assert.deepEqual([push.drift, push['drift-issue']], ['false', 'false'])
    const dispatch = actionInputs(join(WORKFLOWS, 'deploy.yml'), ctx('workflow_dispatch', { playbooks: 'bootstrap', environment: 'staging', check: true, limit: 'web1' }))
    assert.deepEqual([dispatch.playbooks, dispatch.inventory, dispatch.check, dispatch.diff, dispatch.limit], ['bootstrap', 'inventories/staging', 'true', 'true', 'web1'])
  })
  test('preview.yml: check mode with diff', () => {
    const p = actionInputs(join(WORKFLOWS, 'preview.yml'), ctx('pull_request'))
    assert.deepEqual([p.playbooks, p.check, p.diff, p['known-hosts']], ['auto', 'true', 'true', 'kh'])
  })
})

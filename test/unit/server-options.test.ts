// The options of the commands that reach the servers (cli/server-options.ts): checked once, bad
// input as one UsageError line; then one connection as the action's (core/connection.ts): the
// vault key file, the key and known_hosts the options name, host keys checked strictly.
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { UsageError } from '../../src/cli/command.ts'
import { checkServerOptions, withConnection } from '../../src/cli/server-options.ts'

let repo: string

before(() => {
  repo = mkdtempSync(join(tmpdir(), 'server-options-'))
  mkdirSync(join(repo, 'playbooks'))
  mkdirSync(join(repo, 'inventories/production'), { recursive: true })
  writeFileSync(join(repo, 'inventories/production/hosts.yml'), 'all:\n  hosts:\n    web1:\n')
  writeFileSync(join(repo, 'vault.key'), 'a-key\n', { mode: 0o600 })
  writeFileSync(join(repo, 'id'), 'not checked here\n', { mode: 0o600 })
})
after(() => rmSync(repo, { recursive: true, force: true }))

describe('checkServerOptions', () => {
  test('sets defaults: production inventory, vault.key, the ansible-playbook on PATH, no limit or tags', () => {
    const c = checkServerOptions(repo, {})
    assert.equal(c.run.inventory, 'inventories/production')
    assert.equal(c.run.ansiblePlaybook, 'ansible-playbook')
    assert.equal(c.vaultKeyFile, join(repo, 'vault.key'))
    assert.deepEqual(c.run.tags, [])
    assert.equal(c.run.limit, undefined)
    assert.deepEqual(c.planConfig.rules, [])
    assert.equal(c.planConfig.inventory, 'inventories/production')
  })

  test('tags split on commas; YAML extra-vars become JSON', () => {
    const c = checkServerOptions(repo, { tags: 'a, b,,c', 'extra-vars': 'release: two' })
    assert.deepEqual(c.run.tags, ['a', 'b', 'c'])
    assert.equal(c.run.extraVars, '{"release":"two"}')
  })

  const bad: [string, () => void, RegExp][] = [
    ['no playbooks/ directory', () => checkServerOptions(join(repo, 'inventories'), {}), /has no playbooks\/ directory/],
    ['a missing inventory', () => checkServerOptions(repo, { inventory: 'inventories/staging' }), /inventory "inventories\/staging" does not exist/],
    ['a missing vault key file', () => checkServerOptions(repo, { 'vault-key': 'nope.key' }), /vault key file "nope\.key" does not exist/],
    ['--ssh-key naming no file', () => checkServerOptions(repo, { 'ssh-key': 'missing' }), /--ssh-key: "missing" is not a file/],
    ['--known-hosts naming a directory', () => checkServerOptions(repo, { 'known-hosts': repo }), /--known-hosts: ".*" is not a file/],
  ]
  for (const [what, fn, message] of bad) {
    test(`bad input, one line: ${what}`, () => assert.throws(fn, (e: Error) => e instanceof UsageError && message.test(e.message)))
  }
})

describe('withConnection', () => {
  test('the runs get the vault key file, strict host keys and the SSH vars; the directory goes afterwards', async () => {
    const checked = checkServerOptions(repo, { 'ssh-key': join(repo, 'id') })
    let seen = ''
    await withConnection(checked, { 'ssh-key': join(repo, 'id') }, async (run, c) => {
      seen = c.dir
      assert.equal(run.env.ANSIBLE_VAULT_PASSWORD_FILE, join(repo, 'vault.key'))
      assert.equal(run.env.ANSIBLE_HOST_KEY_CHECKING, 'True')
      assert.equal(run.resultsDir, c.dir)
      const vars = JSON.parse(readFileSync(run.extraVarsFiles![0]!, 'utf8')) as { ansible_ssh_common_args: string }
      assert.match(vars.ansible_ssh_common_args, new RegExp(`StrictHostKeyChecking=yes -o IdentityFile=${join(repo, 'id')} -o IdentitiesOnly=yes -o ControlPath=${c.controlDir}/%C`))
      assert.ok(existsSync(c.controlDir))
    })
    assert.ok(!existsSync(seen))
  })

  test('accept-new when asked; the directory kept when it holds a log to read', async () => {
    const checked = checkServerOptions(repo, {})
    let dir = ''
    await withConnection(checked, { 'accept-new-host-keys': true }, async (run, c) => {
      dir = c.dir
      assert.match(readFileSync(run.extraVarsFiles![0]!, 'utf8'), /StrictHostKeyChecking=accept-new/)
    }, true)
    assert.ok(existsSync(dir))
    rmSync(dir, { recursive: true, force: true })
  })
})

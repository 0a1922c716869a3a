// Inputs → settings: defaults, parsing, and one clear line for each bad value.
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { readSettings } from '../../src/action/inputs.ts'

const reader = (inputs: Record<string, string>) => (name: string) => inputs[name] ?? ''
const KEY = '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ\n-----END OPENSSH PRIVATE KEY-----'

describe('inputs', () => {
  test('sets defaults', () => {
    const s = readSettings(reader({}))
    assert.deepEqual(s, {
      playbooks: 'auto', inventory: 'inventories/production', vaultKey: '', sshPrivateKey: '', knownHosts: '',
      acceptNewHostKeys: false,
      ansible: { kind: 'pip', label: 'ansible 2.9.27', packages: ['ansible==2.9.27', 'jinja2==2.11.3', 'markupsafe==1.1.1', 'passlib==1.7.4'], maxPython: [3, 11] },
      check: false, diff: false, limit: '', tags: [], extraVars: '', workingDirectory: '.', webhookUrl: '', githubToken: '', drift: false, driftIssue: false,
    })
  })

  test('parses every input', () => {
    const s = readSettings(reader({
      playbooks: 'frontend,backend', inventory: './inventories/staging/', 'vault-key': ' k3y \n', 'ssh-private-key': KEY.replace(/\n/g, '\r\n') + '\r\n',
      'known-hosts': '[198.18.0.2]:22 ssh-ed25519 AAAA\n', 'accept-new-host-keys': 'TRUE', 'ansible-version': 'system', check: 'true', diff: 'True',
      limit: 'web1', tags: 'nginx,\ntls', 'extra-vars': '{"release": "v1 2"}', 'working-directory': 'deploy',
    }))
    assert.deepEqual(s.playbooks, ['backend', 'frontend'])
    assert.equal(s.inventory, 'inventories/staging')
    assert.equal(s.vaultKey, 'k3y')
    assert.equal(s.sshPrivateKey, KEY)
    assert.equal(s.knownHosts, '[198.18.0.2]:22 ssh-ed25519 AAAA')
    assert.equal(s.acceptNewHostKeys, true)
    assert.deepEqual(s.ansible, { kind: 'system' })
    assert.equal(s.check && s.diff, true)
    assert.deepEqual(s.tags, ['nginx', 'tls'])
    assert.equal(s.extraVars, '{"release": "v1 2"}')
    assert.equal(s.workingDirectory, 'deploy')
  })

  const bad: [string, Record<string, string>, RegExp][] = [
    ['unknown playbook', { playbooks: 'web' }, /^input "playbooks": unknown playbook "web" in "web": expected auto, all/],
    ['boolean', { check: 'yes' }, /^input "check": "yes" is not a boolean \(expected true or false\)$/],
    ['ansible version', { 'ansible-version': 'latest' }, /^input "ansible-version": "latest" is not an Ansible version \(expected system, 2\.9/],
    ['inventory outside the repository', { inventory: '../secrets' }, /^input "inventory": "\.\.\/secrets" must be a path inside the repository/],
    ['absolute working directory', { 'working-directory': '/etc' }, /^input "working-directory": "\/etc" must be a path inside/],
    ['multi-line limit', { limit: 'a\nb' }, /^input "limit": "a b" must be one line/],
    ['tag with a space', { tags: 'a b' }, /^input "tags": "a b" contains a space/],
    // The URL is a secret: the message never quotes it.
    ['webhook URL', { 'webhook-url': 'hooks.example/T0/secretpath' }, /^input "webhook-url" is not a URL \(expected the chat's incoming webhook URL, https:\/\/…, from a secret\)$/],
    ['drift issue without drift', { 'drift-issue': 'true' }, /^input "drift-issue": "true" needs drift: true/],
    ['webhook scheme', { 'webhook-url': 'ftp://hooks.example/T0/secretpath' }, /^input "webhook-url": the URL's scheme is ftp, expected https \(or http\)$/],
  ]
  for (const [name, inputs, re] of bad) {
    test(`bad ${name}: one line quoting it`, () => {
      assert.throws(() => readSettings(reader(inputs)), (e: Error) => re.test(e.message) && !e.message.includes('\n'))
    })
  }
})

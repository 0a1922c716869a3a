// How ansible-playbook is called: argument arrays, the callback plugin path, SSH and cleanup decisions.
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { callbackPluginPath, cfgCallbackPlugins, playbookArgs, runEnv, type AnsibleRunSettings } from '../../src/core/run.ts'
import { maskValues, shellQuote, sshEnv } from '../../src/action/credentials.ts'
import { removeSecretsDir } from '../../src/action/cleanup.ts'

const base: AnsibleRunSettings = { cwd: '/repo', ansiblePlaybook: 'ansible-playbook', inventory: 'inventories/production', check: false, diff: false, tags: [], env: {} }

describe('ansible-playbook arguments', () => {
  test('the minimum', () => {
    assert.deepEqual(playbookArgs('base', base), ['playbooks/base.yml', '-i', 'inventories/production'])
  })
  test('every option, extra vars as one argument whatever their quotes and spaces', () => {
    const ev = `{"msg": "it's \\"quoted\\" and spaced"}`
    assert.deepEqual(playbookArgs('frontend', { ...base, check: true, diff: true, limit: 'web1:!web2', tags: ['nginx', 'tls'], extraVars: ev }), [
      'playbooks/frontend.yml', '-i', 'inventories/production', '--check', '--diff', '--limit', 'web1:!web2', '--tags', 'nginx,tls', '--extra-vars', ev,
    ])
  })
})

describe('run environment', () => {
  test('the action\'s inputs never reach ansible-playbook', () => {
    const env = runEnv({ cwd: '/nonexistent', ansiblePlaybook: 'ansible-playbook', inventory: 'i', check: false, diff: false, tags: [], env: { A: '1' } }, '/tmp/r.jsonl',
      { PATH: '/usr/bin', 'INPUT_VAULT-KEY': 'k3y', 'INPUT_SSH-PRIVATE-KEY': 'key' })
    assert.deepEqual(Object.keys(env).filter((k) => k.startsWith('INPUT_')), [])
    assert.equal(env.PATH, '/usr/bin')
    assert.equal(env.A, '1')
  })
})

describe('callback plugin path', () => {
  test('ours first, then the default search path', () => {
    assert.equal(callbackPluginPath('/a/dist/ansible', {}), '/a/dist/ansible:~/.ansible/plugins/callback:/usr/share/ansible/plugins/callback')
  })
  test('keeps an environment value', () => {
    assert.equal(callbackPluginPath('/p', { ANSIBLE_CALLBACK_PLUGINS: '/x:/y' }), '/p:/x:/y')
  })
  test('keeps the repository ansible.cfg value, relative paths resolved from its directory', () => {
    const text = '[defaults]\ninventory = x\ncallback_plugins = plugins/callback:/abs\n[ssh_connection]\ncallback_plugins = nope\n'
    assert.equal(cfgCallbackPlugins(text), 'plugins/callback:/abs')
    assert.equal(callbackPluginPath('/p', {}, { dir: '/repo', text }), '/p:/repo/plugins/callback:/abs')
    assert.equal(cfgCallbackPlugins('[defaults]\nforks = 10\n'), undefined)
  })
})

describe('SSH environment', () => {
  test('known_hosts pinned with strict checking, key file, control path in the run directory', () => {
    assert.deepEqual(sshEnv({ keyFile: '/t/id', knownHostsFile: '/t/known_hosts', acceptNew: false, controlDir: '/t/cp' }), {
      ANSIBLE_SSH_CONTROL_PATH_DIR: '/t/cp',
      ANSIBLE_SSH_COMMON_ARGS: '-o UserKnownHostsFile=/t/known_hosts -o StrictHostKeyChecking=yes',
      ANSIBLE_HOST_KEY_CHECKING: 'True',
      ANSIBLE_PRIVATE_KEY_FILE: '/t/id',
    })
  })
  test('accept-new only when opted in; existing common args kept; paths quoted', () => {
    const env = sshEnv({ knownHostsFile: '/t d/kh', acceptNew: true, controlDir: '/t/cp', existingCommonArgs: '-o ProxyJump=bastion' })
    assert.equal(env.ANSIBLE_SSH_COMMON_ARGS, "-o UserKnownHostsFile='/t d/kh' -o StrictHostKeyChecking=accept-new -o ProxyJump=bastion")
    assert.equal(env.ANSIBLE_PRIVATE_KEY_FILE, undefined)
    assert.equal(shellQuote("it's"), `'it'"'"'s'`)
  })
  test('masks: the whole secret and each PEM body line, not the armour lines', () => {
    const key = '-----BEGIN OPENSSH PRIVATE KEY-----\nAAAABBBBCCCC\nDDDDEEEEFFFF\n-----END OPENSSH PRIVATE KEY-----'
    assert.deepEqual(maskValues(key), [key, 'AAAABBBBCCCC', 'DDDDEEEEFFFF'])
    assert.deepEqual(maskValues('short'), ['short'])
  })
})

describe('cleanup', () => {
  test('nothing saved: nothing to clean', () => assert.equal(removeSecretsDir(''), 'nothing to clean'))
  test('a directory this action did not create is never removed', () => assert.equal(removeSecretsDir('/etc'), 'refused'))
  test('an already removed directory: nothing to clean', () => assert.equal(removeSecretsDir('/nonexistent/django-deploy-x1'), 'nothing to clean'))
})

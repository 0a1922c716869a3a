// How ansible-playbook is called: argument arrays, the callback plugin path, SSH and cleanup decisions.
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { callbackPluginPath, cfgCallbackPlugins, factCacheEnv, playbookArgs, runEnv, runPlaybooks, type AnsibleRunSettings } from '../../src/core/run.ts'
import { writeCredentials } from '../../src/action/credentials.ts'
import { removeSecretsDir } from '../../src/action/cleanup.ts'
import { readSettings } from '../../src/action/inputs.ts'
import {
  controlSocketLength, inventoriesSettingCommonArgs, makeControlDir, removeControlDir, shellQuote, sshExtraVars, sshOptions,
} from '../../src/core/ssh.ts'

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
  test('the SSH extra-vars file comes before the user\'s extra vars, which may override it', () => {
    assert.deepEqual(playbookArgs('base', { ...base, extraVarsFiles: ['/t/ssh-vars.json'], extraVars: 'a=1' }), [
      'playbooks/base.yml', '-i', 'inventories/production', '--extra-vars', '@/t/ssh-vars.json', '--extra-vars', 'a=1',
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

describe('fact cache', () => {
  test('a jsonfile cache in the given directory', () => {
    assert.deepEqual(factCacheEnv('/run/facts', {}), { ANSIBLE_CACHE_PLUGIN: 'jsonfile', ANSIBLE_CACHE_PLUGIN_CONNECTION: '/run/facts' })
  })
  test('a cache the environment or ansible.cfg configures is left alone', () => {
    assert.deepEqual(factCacheEnv('/run/facts', { ANSIBLE_CACHE_PLUGIN: 'redis' }), {})
    assert.deepEqual(factCacheEnv('/run/facts', {}, '[defaults]\nfact_caching = memcached\n'), {})
    assert.deepEqual(factCacheEnv('/run/facts', {}, '[ssh_connection]\nfact_caching = memcached\n').ANSIBLE_CACHE_PLUGIN, 'jsonfile')
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

describe('SSH settings (one extra var, read by every Ansible and by the roles\' probes)', () => {
  test('known_hosts pinned with strict checking, the key alone, control sockets in the short directory', () => {
    assert.deepEqual(sshOptions({ keyFile: '/t/id', knownHostsFile: '/t/known_hosts', acceptNew: false, controlDir: '/tmp/cp' }), [
      'UserKnownHostsFile=/t/known_hosts', 'StrictHostKeyChecking=yes', 'IdentityFile=/t/id', 'IdentitiesOnly=yes', 'ControlPath=/tmp/cp/%C',
    ])
    assert.deepEqual(sshExtraVars({ keyFile: '/t/id', knownHostsFile: '/t/known_hosts', acceptNew: false, controlDir: '/tmp/cp' }), {
      ansible_ssh_common_args: "-o UserKnownHostsFile=/t/known_hosts -o StrictHostKeyChecking=yes -o IdentityFile=/t/id -o IdentitiesOnly=yes -o ControlPath=/tmp/cp/%C {{ server_ssh_common_args | default('') }}",
    })
  })
  test('accept-new only when opted in; no key: ssh\'s own keys; paths with spaces quoted', () => {
    const v = sshExtraVars({ knownHostsFile: '/t d/kh', acceptNew: true, controlDir: '/tmp/cp' }).ansible_ssh_common_args!
    assert.equal(v, "-o 'UserKnownHostsFile=/t d/kh' -o StrictHostKeyChecking=accept-new -o ControlPath=/tmp/cp/%C {{ server_ssh_common_args | default('') }}")
    assert.equal(shellQuote("it's"), `'it'"'"'s'`)
  })
  test('the action writes key, known_hosts and the SSH vars 0600 under a 100+ character RUNNER_TEMP, the sockets in a short 0700 directory', () => {
    const top = mkdtempSync(join(tmpdir(), 'creds-'))
    const runnerTemp = join(top, 'a-runner-temp-directory-'.repeat(5))
    assert.ok(runnerTemp.length > 100)
    const settings = readSettings((n) => ({ 'ssh-private-key': '-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n-----END OPENSSH PRIVATE KEY-----', 'known-hosts': '203.0.113.10 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA' })[n] ?? '')
    const saved: string[] = []
    const controlRoot = mkdtempSync(join(tmpdir(), 'cr-'))
    try {
      const c = writeCredentials(settings, runnerTemp, (d) => saved.push(d), (d) => saved.push(d), controlRoot)
      assert.deepEqual(saved, [c.dir, c.controlDir])
      assert.ok(c.dir.startsWith(runnerTemp))
      assert.equal(statSync(c.controlDir).mode & 0o777, 0o700)
      assert.ok(controlSocketLength(c.controlDir) < 104, `${c.controlDir}: a socket path of ${controlSocketLength(c.controlDir)} bytes`)
      for (const f of ['id_deploy', 'known_hosts', 'ssh-vars.json']) assert.equal(statSync(join(c.dir, f)).mode & 0o777, 0o600, f)
      const vars = JSON.parse(readFileSync(c.extraVarsFiles[0]!, 'utf8'))
      assert.match(vars.ansible_ssh_common_args, new RegExp(`^-o UserKnownHostsFile=${c.dir}/known_hosts -o StrictHostKeyChecking=yes -o IdentityFile=${c.dir}/id_deploy -o IdentitiesOnly=yes -o ControlPath=${c.controlDir}/%C `))
      assert.equal(c.env.ANSIBLE_SSH_COMMON_ARGS, undefined)
      assert.equal(c.env.ANSIBLE_HOST_KEY_CHECKING, 'True')
      // Ansible's local temporary files (rendered templates, copied content) stay in the run's private directory.
      assert.equal(c.env.ANSIBLE_LOCAL_TEMP, join(c.dir, 'ansible-tmp'))
      assert.equal(statSync(c.env.ANSIBLE_LOCAL_TEMP).mode & 0o777, 0o700)
      // post removes both.
      assert.equal(removeSecretsDir(c.dir), 'removed')
      assert.ok(!existsSync(c.dir))
      assert.equal(removeControlDir(c.controlDir), true)
      assert.ok(!existsSync(c.controlDir))
    } finally {
      rmSync(top, { recursive: true, force: true })
      rmSync(controlRoot, { recursive: true, force: true })
    }
  })
  test('the default control directory is under /tmp whatever TMPDIR says', () => {
    const d = makeControlDir()
    try {
      assert.match(d, /^\/tmp\/django-deploy-cp-\w{6}$/)
      assert.ok(controlSocketLength(d) < 104)
    } finally {
      removeControlDir(d)
    }
    assert.equal(removeControlDir('/etc'), false)
    assert.equal(removeControlDir('/nonexistent/django-deploy-cp-x'), false)
  })
  test('inventory files that set ansible_ssh_common_args are found (the action warns: its value replaces theirs)', () => {
    const inv = mkdtempSync(join(tmpdir(), 'inv-'))
    try {
      mkdirSync(join(inv, 'group_vars/all'), { recursive: true })
      writeFileSync(join(inv, 'hosts.yml'), 'all:\n  hosts:\n    web1:\n      ansible_host: 203.0.113.10\n')
      writeFileSync(join(inv, 'group_vars/all/vars.yml'), '---\nansible_ssh_common_args: -o ProxyJump=bastion\n')
      writeFileSync(join(inv, 'group_vars/all/vault.yml'), '$ANSIBLE_VAULT;1.1;AES256\n6162\n')
      assert.deepEqual(inventoriesSettingCommonArgs(inv), [join(inv, 'group_vars/all/vars.yml')])
      assert.deepEqual(inventoriesSettingCommonArgs(join(inv, 'missing')), [])
    } finally {
      rmSync(inv, { recursive: true, force: true })
    }
  })
})

describe('cleanup', () => {
  test('nothing saved: nothing to clean', () => assert.equal(removeSecretsDir(''), 'nothing to clean'))
  test('a directory this action did not create is never removed', () => assert.equal(removeSecretsDir('/etc'), 'refused'))
  test('an already removed directory: nothing to clean', () => assert.equal(removeSecretsDir('/nonexistent/django-deploy-x1'), 'nothing to clean'))
})

describe('running the plan', () => {
  /** A stand-in ansible-playbook: fails for the playbooks named in FAIL, records each call. */
  const fake = (dir: string) => {
    const exe = join(dir, 'ansible-playbook')
    writeFileSync(exe, '#!/bin/sh\necho "$1" >> "$CALLS"\ncase " $FAIL " in *" $1 "*) exit 2;; esac\nexit 0\n', { mode: 0o755 })
    return exe
  }
  const settings = (dir: string, check: boolean): AnsibleRunSettings => ({
    ...base, cwd: dir, ansiblePlaybook: fake(dir), check, env: { CALLS: join(dir, 'calls'), FAIL: 'playbooks/backend.yml', RUNNER_TEMP: dir },
  })
  const calls = (dir: string) => readFileSync(join(dir, 'calls'), 'utf8').trim().split('\n')

  test('a failure stops the run: the later playbooks are reported not run', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'run-'))
    try {
      const r = await runPlaybooks(['base', 'backend', 'frontend'], settings(dir, false), { output: () => {} })
      assert.equal(r.status, 'failure')
      assert.deepEqual(r.playbooks.map((p) => [p.playbook, p.status]), [['base', 'success'], ['backend', 'failure']])
      assert.deepEqual(r.notRun, ['frontend'])
      assert.deepEqual(calls(dir), ['playbooks/base.yml', 'playbooks/backend.yml'])
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
  test('the playbooks of one run share one fact cache, removed after the run', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'run-'))
    try {
      const exe = join(dir, 'ansible-playbook-facts')
      writeFileSync(exe, '#!/bin/sh\necho "$ANSIBLE_CACHE_PLUGIN $ANSIBLE_CACHE_PLUGIN_CONNECTION" >> "$CALLS"\n', { mode: 0o755 })
      const r = await runPlaybooks(['bootstrap', 'base', 'backend'], { ...settings(dir, false), ansiblePlaybook: exe }, { output: () => {} })
      assert.equal(r.status, 'success')
      const seen = calls(dir)
      assert.equal(seen.length, 3)
      assert.equal(new Set(seen).size, 1)
      assert.match(seen[0]!, new RegExp(`^jsonfile ${dir}/django-deploy-facts-`))
      assert.equal(existsSync(seen[0]!.split(' ')[1]!), false)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
  test('in check mode a failing preview does not hide the next ones: each is run and reported', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'run-'))
    try {
      const r = await runPlaybooks(['base', 'backend', 'frontend'], settings(dir, true), { output: () => {} })
      assert.equal(r.status, 'failure')
      assert.deepEqual(r.playbooks.map((p) => [p.playbook, p.status]), [['base', 'success'], ['backend', 'failure'], ['frontend', 'success']])
      assert.deepEqual(r.notRun, [])
      assert.deepEqual(calls(dir), ['playbooks/base.yml', 'playbooks/backend.yml', 'playbooks/frontend.yml'])
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})

// The bundled action (dist/index.js) run as the runner runs it — INPUT_* with the runner's name
// mangling, GITHUB_EVENT_PATH, GITHUB_OUTPUT/STATE/STEP_SUMMARY files, then the post step with
// the STATE_* values main saved — against a booted test host, on a fixture repository with small
// bootstrap/base/backend/frontend playbooks whose roles do real things on the host. Ansible is the
// machine's (`system`), except in the last case: ansible-core installed by the action from the lab's
// package index, then restored from a stand-in for GitHub's cache service.
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { basename, dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parse, stringify } from 'yaml'
import { startLab, type Lab } from '../../src/lab/index.ts'
import { ANSIBLE_INDEX, servePackageIndex } from '../../src/lab/pyindex.ts'
import { startCacheService } from '../support/cache-service.ts'
import { filesUnder, git, removeRunnerDirs, runAction, writeTree } from './action-runner.ts'

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..')
const CLI = join(ROOT, 'dist/cli.js')
const SECRET = `fixture-secret-${Math.random().toString(36).slice(2)}-value`

const files: Record<string, string> = {
  'ansible.cfg': readFileSync(join(ROOT, 'ansible.cfg'), 'utf8'),
  'README.md': '# Fixture\n',
  'app/manage.py': 'print("app")\n',
  'playbooks/bootstrap.yml': play('bootstrap'),
  'playbooks/base.yml': play('base'),
  'playbooks/backend.yml': play('backend'),
  'playbooks/frontend.yml': play('frontend'),
  'roles/bootstrap/tasks/main.yml': marker('bootstrap', '/root/fixture-bootstrap'),
  'roles/base/tasks/main.yml': marker('base', '/etc/fixture-base'),
  'roles/fixture_common/tasks/main.yml': marker('fixture_common', '/srv/fixture-common'),
  'roles/backend/meta/main.yml': '---\ndependencies:\n  - role: fixture_common\n',
  'roles/backend/defaults/main.yml': '---\nbackend_release: one\n',
  'roles/backend/tasks/main.yml': [
    marker('backend', '/srv/fixture-backend'),
    '- name: The backend settings hold the secret key',
    '  ansible.builtin.copy:',
    '    dest: /srv/fixture-settings.ini',
    '    content: "secret = {{ vault_fixture_secret }}\\nrelease = {{ backend_release }}\\n"',
    '    mode: "0600"',
    '  no_log: true',
    '  diff: false',
    // Where Ansible itself puts its local temporary files (the copy above passed through them).
    '- name: Ansible\'s local temporary directory is known',
    '  ansible.builtin.debug:',
    '    msg: "local temp: {{ lookup(\'config\', \'DEFAULT_LOCAL_TMP\') }}"',
    '',
  ].join('\n'),
  'roles/frontend/tasks/main.yml': marker('frontend', '/srv/fixture-frontend'),
  // The real state role: the plan follows what the host records.
  ...Object.fromEntries(['tasks/main.yml', 'defaults/main.yml', 'files/deploy-state-record.py'].map((f) => [`roles/deploy_state/${f}`, readFileSync(join(ROOT, 'roles/deploy_state', f), 'utf8')])),
}

function play(role: string): string {
  return `---\n- name: ${role}\n  hosts: webservers\n  gather_facts: false\n  become: true\n  roles:\n    - ${role}\n`
    + `  post_tasks:\n    - name: The host records ${role}\n      ansible.builtin.include_role:\n        name: deploy_state\n      vars:\n        deploy_state_playbook: ${role}\n`
}

function marker(role: string, path: string): string {
  return [
    '---',
    `- name: The ${role} marker exists`,
    '  ansible.builtin.copy:',
    `    dest: ${path}`,
    `    content: "${role} {{ inventory_hostname }}\\n"`,
    '    mode: "0644"',
    '',
  ].join('\n')
}

/** The failing task appended to the frontend role; its message would carry the secret without no_log. */
const FAILING = [
  '- name: The frontend refuses to start',
  '  ansible.builtin.shell: "echo {{ vault_fixture_secret }} >&2; exit 3"',
  '  changed_when: false',
  '  no_log: true',
  '- name: The frontend health check passes',
  '  ansible.builtin.command: /bin/false',
  '  changed_when: false',
  '',
].join('\n')

describe('the bundled action on a test host', () => {
  let lab: Lab
  let repo: string
  let vaultKey: string
  let vaultValues: string[]
  let inputs: Record<string, string>
  const commits: Record<string, string> = {}
  const pushEvent = (from: string, to: string) => ({
    name: 'push',
    payload: { ref: 'refs/heads/main', before: commits[from], after: commits[to], forced: false, repository: { default_branch: 'main' } },
  })
  const onHost = async (path: string) => (await lab.ssh('web1', `cat ${path} 2>/dev/null || echo MISSING`)).stdout.trim()

  before(async () => {
    lab = await startLab({ hosts: ['web1'] })
    repo = mkdtempSync(join(tmpdir(), 'action-fixture-'))
    writeTree(repo, files)
    // The lab's inventory, connecting as root with the key and known_hosts the action is given
    // (not the lab's own SSH options: the action's must do the work).
    const inv = await lab.writeInventory({ vars: { ansible_user: 'root', ansible_port: 22 }, vault: { vault_fixture_secret: SECRET } })
    const target = join(repo, 'inventories/production')
    cpSync(inv, target, { recursive: true })
    rmSync(join(target, 'vault.key'))
    const varsFile = join(target, 'group_vars/all/vars.yml')
    const vars = parse(readFileSync(varsFile, 'utf8')) as Record<string, unknown>
    delete vars.ansible_ssh_common_args
    delete vars.ansible_ssh_private_key_file
    writeFileSync(varsFile, '---\n' + stringify(vars))
    vaultKey = readFileSync(join(inv, 'vault.key'), 'utf8').trim()
    const keyFile = join(lab.dir, 'view.key')
    writeFileSync(keyFile, vaultKey, { mode: 0o600 })
    const plain = execFileSync('ansible-vault', ['view', '--vault-password-file', keyFile, join(target, 'group_vars/all/vault.yml')], { encoding: 'utf8' })
    vaultValues = Object.values(parse(plain) as Record<string, string>).filter((v) => typeof v === 'string' && v.length > 8)
    assert.ok(vaultValues.includes(SECRET))

    git(repo, 'init', '-q', '-b', 'main')
    git(repo, 'add', '-A')
    git(repo, 'commit', '-qm', 'fixture')
    commits.initial = git(repo, 'rev-parse', 'HEAD')
    writeTree(repo, { 'roles/backend/defaults/main.yml': '---\nbackend_release: two\n', 'README.md': '# Fixture, documented\n' })
    git(repo, 'commit', '-qam', 'backend: release two')
    commits.backend = git(repo, 'rev-parse', 'HEAD')
    writeTree(repo, { 'roles/frontend/tasks/main.yml': files['roles/frontend/tasks/main.yml'] + FAILING })
    git(repo, 'commit', '-qam', 'frontend: a task that fails')
    commits.failing = git(repo, 'rev-parse', 'HEAD')
    git(repo, 'checkout', '-q', commits.backend!)

    // The host was deployed from the first commit (as if by a dispatch of the four playbooks).
    const at = { commit: commits.initial, finished: new Date().toISOString(), run: 'fixture' }
    const state = JSON.stringify({ version: 1, playbooks: { bootstrap: at, base: at, backend: at, frontend: at } })
    await lab.ssh('web1', `mkdir -p /var/lib/django-deploy && cat > /var/lib/django-deploy/example-org-example.json`, { input: state })

    inputs = {
      'vault-key': vaultKey,
      'ssh-private-key': readFileSync(lab.rootKey, 'utf8'),
      'known-hosts': readFileSync(lab.knownHosts, 'utf8'),
      'ansible-version': 'system',
    }
  })

  after(async () => {
    await lab?.destroy()
    if (repo) rmSync(repo, { recursive: true, force: true })
    removeRunnerDirs()
  })

  const assertNoSecret = (what: string, text: string) => {
    for (const v of [...vaultValues, vaultKey]) assert.ok(!text.includes(v), `${what} shows a vault value or the vault key`)
    const keyLines = readFileSync(lab.rootKey, 'utf8').split('\n').filter((l) => l.length > 20 && !l.startsWith('-----'))
    for (const l of keyLines) assert.ok(!text.includes(l), `${what} shows the SSH private key`)
  }

  test('a push touching only the backend role runs only backend, and reports it', async () => {
    const { main, post } = await runAction(repo, pushEvent('initial', 'backend'), inputs)
    assert.equal(main.code, 0, main.stdout)

    // Only backend ran on the host (with its dependency), with the new release and the vault value.
    assert.equal(await onHost('/srv/fixture-backend'), 'backend web1')
    assert.equal(await onHost('/srv/fixture-common'), 'fixture_common web1')
    assert.equal(await onHost('/srv/fixture-settings.ini'), `secret = ${SECRET}\nrelease = two`)
    assert.equal(await onHost('/etc/fixture-base'), 'MISSING')
    assert.equal(await onHost('/srv/fixture-frontend'), 'MISSING')
    assert.equal(await onHost('/root/fixture-bootstrap'), 'MISSING')

    // Outputs.
    assert.equal(main.outputs.status, 'success')
    assert.equal(main.outputs.playbooks, 'backend')
    const plan = JSON.parse(main.outputs.plan!)
    assert.deepEqual(plan.run, ['backend'])
    assert.deepEqual(plan.playbooks.find((d: { playbook: string }) => d.playbook === 'backend').triggers, [{ label: 'role backend', paths: ['roles/backend/defaults/main.yml'] }])
    assert.deepEqual(plan.ignored, [{ label: 'documentation', paths: ['README.md'] }])
    const result = JSON.parse(main.outputs.result!)
    assert.equal(result.status, 'success')
    assert.equal(result.playbooks.length, 1)
    assert.equal(result.playbooks[0].name, 'backend')
    assert.equal(result.playbooks[0].hosts.web1.failed, 0)
    assert.equal(result.playbooks[0].hosts.web1.changed, 3)

    // Summary: plan, causes, per-host counts, changed tasks collapsed.
    assert.match(main.summary, /^## Deploy ✅ succeeded/)
    assert.match(main.summary, /\| backend \| ✅ yes \| web1: role backend changed since [0-9a-f]{7} \| role backend: <code>roles\/backend\/defaults\/main\.yml<\/code> \|/)
    assert.match(main.summary, /\| frontend \| ⏭️ no \| every host is up to date for it \|/)
    // Per host: from the recorded revision to the one deployed.
    assert.match(main.summary, new RegExp(`\\| \\| backend \\| ${commits.initial!.slice(0, 7)}, [^|]* ago → ${commits.backend!.slice(0, 7)} \\(fixture\\) \\| ✅ yes \\|`))
    assert.match(main.summary, /\| ✅ backend \| web1 \| \d+ \| 3 \| 0 \| 0 \| (\d+ min )?\d+ s \|/) // over a minute on a loaded machine
    assert.match(main.summary, /<details><summary>backend: 3 changed tasks<\/summary>/)
    assert.match(main.summary, /The backend settings hold the secret key \| <code>roles\/backend\/tasks\/main\.yml:8<\/code>/)

    // Live output in a log group; the secrets masked, never shown.
    assert.match(main.stdout, /::group::backend \(1\/1\): ansible-playbook playbooks\/backend\.yml/)
    assert.match(main.stdout, /::add-mask::/)
    for (const [what, text] of [['log', main.stdout], ['summary', main.summary], ['outputs', JSON.stringify(main.outputs)]] as const) {
      assertNoSecret(what, text.replace(/::add-mask::.*\n/g, ''))
    }

    // Ansible's local temporary files were in the run's private directory, with the secrets.
    const secretsDir = /Secrets written to (\S+) /.exec(main.stdout)?.[1]
    const localTemp = /local temp: (\S+?)"?$/m.exec(main.stdout)?.[1]
    assert.ok(secretsDir?.startsWith(`${main.tempDir}/django-deploy-`), `secrets directory ${secretsDir}`)
    assert.ok(localTemp?.startsWith(`${secretsDir}/ansible-tmp/ansible-local-`), `Ansible's local temp ${localTemp} is outside ${secretsDir}`)

    // post removes the secrets and Ansible's temporary files: nothing left under RUNNER_TEMP.
    assert.equal(post.code, 0, post.stdout)
    assert.match(post.stdout, /Removed the vault key, SSH key and known_hosts of this run, and Ansible's local temporary files/)
    assert.equal(existsSync(localTemp!), false)
    assert.deepEqual(filesUnder(main.tempDir), [])
  })

  test('a failing task fails the step with an annotation at its file and line and a summary row', async () => {
    git(repo, 'checkout', '-q', commits.failing!)
    const { main, post } = await runAction(repo, pushEvent('backend', 'failing'), inputs)
    assert.equal(main.code, 1)
    assert.equal(main.outputs.status, 'failure')
    assert.equal(main.outputs.playbooks, 'frontend')
    // The task before the failure did its work.
    assert.equal(await onHost('/srv/fixture-frontend'), 'frontend web1')

    // The no_log task fails first: its annotation carries no message beyond the notice.
    const line = files['roles/frontend/tasks/main.yml']!.split('\n').length
    assert.match(main.stdout, new RegExp(`::error title=frontend%3A frontend %3A The frontend refuses to start,file=roles/frontend/tasks/main.yml,line=${line}::frontend failed: "frontend : The frontend refuses to start" failed on web1: the output has been hidden`))
    assert.equal(main.stdout.split('\n').filter((l) => l.startsWith('::error')).length, 1, 'one ::error:: for one failure')
    assert.match(main.summary, /^## Deploy ❌ failed/)
    assert.match(main.summary, new RegExp(`\\| frontend \\| web1 \\| frontend : The frontend refuses to start \\| <code>roles/frontend/tasks/main.yml:${line}</code> \\| the output has been hidden`))
    assert.match(main.summary, /\| ❌ frontend \| web1 \| \d+ \| 1 \| 1 \| 0 \|/)
    const result = JSON.parse(main.outputs.result!)
    assert.equal(result.playbooks[0].failures[0].line, line)

    for (const [what, text] of [['log', main.stdout], ['summary', main.summary], ['outputs', JSON.stringify(main.outputs)]] as const) {
      assertNoSecret(what, text.replace(/::add-mask::.*\n/g, ''))
    }
    assert.equal(post.code, 0)
    assert.deepEqual(filesUnder(main.tempDir), [])
  })

  test('check mode with diff, dispatched: would-change reported, nothing changed, no secret shown', async () => {
    git(repo, 'checkout', '-q', commits.backend!)
    const { main, post } = await runAction(repo, { name: 'workflow_dispatch', payload: {} }, {
      ...inputs, playbooks: 'backend', check: 'true', diff: 'true', 'extra-vars': '{"backend_release": "three, with spaces"}',
    })
    assert.equal(main.code, 0, main.stdout)
    assert.equal(main.outputs.status, 'success')
    assert.match(main.summary, /^## Deploy ✅ succeeded \(check mode: nothing was changed\)/)
    assert.match(main.summary, /Playbooks named: workflow_dispatch: backend named in the playbooks input/)
    assert.match(main.summary, /#### Would change \(check mode\)[\s\S]*The backend settings hold the secret key/)
    assert.equal(await onHost('/srv/fixture-settings.ini'), `secret = ${SECRET}\nrelease = two`)
    for (const [what, text] of [['log', main.stdout], ['summary', main.summary], ['outputs', JSON.stringify(main.outputs)]] as const) {
      assertNoSecret(what, text.replace(/::add-mask::.*\n/g, ''))
    }
    assert.equal(post.code, 0)
  })

  test('a host key that does not match known-hosts is refused (no trust on first use)', async () => {
    git(repo, 'checkout', '-q', commits.backend!)
    const other = '198.18.255.254 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIExampleExampleExampleExampleExampleExample'
    const wrong = lab.hosts.map((h) => `${h.address} ${other.split(' ').slice(1).join(' ')}`).join('\n')
    const { main, post } = await runAction(repo, { name: 'workflow_dispatch', payload: {} }, { ...inputs, playbooks: 'base', 'known-hosts': wrong })
    assert.equal(main.code, 1)
    assert.match(main.summary, /unreachable: .*(Host key verification failed|REMOTE HOST IDENTIFICATION HAS CHANGED)/s)
    assert.equal(await onHost('/etc/fixture-base'), 'MISSING')
    assert.equal(post.code, 0)
  })

  test('a bad input stops with one line and runs nothing', async () => {
    const { main, post } = await runAction(repo, pushEvent('initial', 'backend'), { ...inputs, playbooks: 'backend,nginx' })
    assert.equal(main.code, 1)
    assert.match(main.stdout, /^::error::input "playbooks": unknown playbook "nginx" in "backend,nginx": expected auto, all/m)
    assert.doesNotMatch(main.stdout, /ansible-playbook/)
    assert.equal(post.code, 0)
    assert.match(post.stdout, /No secrets to remove/)

    const noKey = await runAction(repo, pushEvent('initial', 'backend'), { ...inputs, 'vault-key': '' })
    assert.equal(noKey.main.code, 1)
    assert.match(noKey.main.stdout, /^::error::the vault key is empty but inventories\/production\/group_vars\/all\/vault\.yml is encrypted: .*secrets\.ANSIBLE_VAULT_KEY/m)
    assert.doesNotMatch(noKey.main.stdout, /ansible-playbook/)
  })

  test('CLI: plan --json over the fixture history, and deploy of a named playbook', async () => {
    const plan = JSON.parse(execFileSync(process.execPath, [CLI, 'plan', '--dir', repo, '--from', commits.initial!, '--to', commits.failing!, '--json'], { encoding: 'utf8' }))
    assert.deepEqual(plan.run, ['backend', 'frontend'])

    const keyFile = join(lab.dir, 'cli-vault.key')
    writeFileSync(keyFile, vaultKey, { mode: 0o600 })
    const out = execFileSync(process.execPath, [CLI, 'deploy', 'base', '--dir', repo, '--vault-key', keyFile, '--ssh-key', lab.rootKey, '--known-hosts', lab.knownHosts], {
      encoding: 'utf8',
      env: { ...process.env, ANSIBLE_SSH_COMMON_ARGS: '' },
    })
    assert.match(out, /^\[1\/1\] base … ok \((\d+ min )?\d+ s\)$/m)
    assert.match(out, /^ok {3}base .* changed=1 failed=0 unreachable=0$/m)
    assert.equal(await onHost('/etc/fixture-base'), 'base web1')
  })

  test('ansible-version 2.14: ansible-core installed from a package index into the virtualenv runs the playbook; the next run restores the virtualenv from the cache', async () => {
    git(repo, 'checkout', '-q', commits.backend!)
    const index = await servePackageIndex(lab.hosts[0]!.gateway, join(lab.dir, 'logs'), 'bookworm', { contents: ANSIBLE_INDEX })
    const cache = await startCacheService()
    const work = mkdtempSync(join(tmpdir(), 'action-install-'))
    try {
      // Any Ansible on PATH records its call and fails: the run must use the one it installed.
      const shims = join(work, 'shims')
      mkdirSync(shims)
      for (const bin of ['ansible', 'ansible-playbook', 'ansible-inventory', 'ansible-vault']) {
        writeFileSync(join(shims, bin), `#!/bin/sh\necho "$0" >> ${join(work, 'system-ansible-called')}\nexit 97\n`)
        chmodSync(join(shims, bin), 0o755)
      }
      const home = join(work, 'home')
      const env = {
        ...cache.env,
        // A fresh runner's home; pip reads the index from its environment (PIP_CONFIG_FILE: none of
        // this machine's pip configuration).
        HOME: home,
        PATH: `${shims}:${process.env.PATH}`,
        PIP_INDEX_URL: index.url,
        PIP_TRUSTED_HOST: lab.hosts[0]!.gateway,
        PIP_CONFIG_FILE: '/dev/null',
      }
      const dispatch = async () => {
        mkdirSync(home, { recursive: true })
        await lab.ssh('web1', 'rm -f /etc/fixture-base')
        const r = await runAction(repo, { name: 'workflow_dispatch', payload: {} }, { ...inputs, 'ansible-version': '2.14', playbooks: 'base' }, { env })
        assert.equal(r.main.code, 0, r.main.stdout)
        assert.equal(r.main.outputs.status, 'success')
        assert.equal(await onHost('/etc/fixture-base'), 'base web1', 'the playbook ran')
        assert.equal(r.post.code, 0, r.post.stdout)
        return r.main.stdout
      }
      const served = () => readFileSync(index.log, 'utf8').split('\n').filter((l) => / "GET \/files\//.test(l))

      const first = await dispatch()
      const at = /ansible-core 2\.14\.\* on Python (3\.\d+\.\d+) \((\S+)\), virtualenv (\S+)/.exec(first)
      assert.ok(at, first)
      const [, python, pythonPath, venv] = at
      const key = `django-deploy-ansible-v1-linux-x64-py${python}-`
      assert.ok(venv!.startsWith(join(home, '.cache/django-deploy', key)), venv)
      assert.match(first, new RegExp(`\\[command\\]${pythonPath!.replace(/\./g, '\\.')} -m venv --clear ${venv}\n`))
      assert.ok(first.includes(`[command]${venv}/bin/python -m pip install --disable-pip-version-check --no-input --quiet ansible-core==2.14.* passlib==1.7.4\n`), first)
      assert.match(first, /Installed ansible-playbook \[core 2\.14\.18\]/)
      // pip fetched every file of the index once: ansible-core, its dependencies and passlib.
      const fetched = served()
      for (const f of index.index.files) assert.equal(fetched.filter((l) => l.includes(`/files/${f.file} `)).length, 1, f.file)
      assert.deepEqual(cache.events.map((e) => e.replace(/ \d+$/, '')), [`restore miss ${basename(venv!)}`, `create ${basename(venv!)}`, `upload ${basename(venv!)}`, `finalize ${basename(venv!)}`])

      // The next run, on a fresh runner: the virtualenv comes from the cache, nothing from pip.
      rmSync(home, { recursive: true, force: true })
      const second = await dispatch()
      assert.match(second, new RegExp(`Cache hit for: ${basename(venv!)}\n`))
      assert.match(second, /Cache restored successfully/)
      assert.ok(second.includes(`Restored from the cache (${basename(venv!)}): ansible-playbook [core 2.14.18]`), second)
      assert.doesNotMatch(second, /-m pip install|-m venv/)
      assert.equal(served().length, fetched.length, 'no file fetched from the index')
      assert.deepEqual(cache.events.slice(4), [`restore hit ${basename(venv!)}`, `download ${basename(venv!)}`])
      assert.equal(existsSync(join(work, 'system-ansible-called')), false, 'an Ansible on PATH was called')
    } finally {
      await index.stop()
      await cache.stop()
      rmSync(work, { recursive: true, force: true })
    }
  })
})

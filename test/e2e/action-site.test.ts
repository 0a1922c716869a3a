// The bundled action on the REAL playbooks and roles, as a team runs it from the shipped workflows
// (deploy.yml, preview.yml: their `with:` inputs evaluated for each event), on one fresh server that
// the scenarios share in order: the first deploy by "Run workflow", a push of the app, a pull
// request's preview (its plan as one comment on the pull request, rewritten by the next push, on a
// fake GitHub API), the Monday schedule (a file changed by hand shows as drift and opens the drift
// issue; the next deploy repairs it and the next check closes the issue), then a new admin. The inventory is a user's: no SSH
// options of its own, so the action's (key, known_hosts, strict checking) do all the work, and
// the initial root login accepts CI's deploy key as the README says.
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parse, stringify } from 'yaml'
import { PLAIN_SITE_VARS, startLab, type Lab } from '../../src/lab/index.ts'
import { runOk } from '../../src/core/exec.ts'
import { copyRepo, git, removeRunnerDirs, runAction, userInventory, type StepRun } from './action-runner.ts'
import { actionInputs, type Contexts } from '../support/workflow-inputs.ts'
import { get as httpGet } from '../support/http.ts'
import { FakeGitHub } from '../support/fake-github.ts'

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..')
const LONG = { timeout: 40 * 60_000 }
const SSH_PORT = 2222
/** Where the preview must change nothing: configuration, code, releases, state (logs excluded). */
const WATCHED = '/etc /srv /usr/local /home /root /var/lib/django-deploy'
const PRUNED = `\\( -name '*.log' -o -name logs -o -name .ansible -o -name '*.pid' -o -name __pycache__ \\) -prune -o`
/** The colours of Ansible's output (the action forces them). */
const ANSI = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, 'g')
/** The job's token and repository, as GitHub gives them to the steps. */
const TOKEN = 'ghs_jobtoken0123456789'
const REPOSITORY = 'o/site'

describe('the bundled action on the real roles, from the shipped workflows', () => {
  let lab: Lab
  let repo: string
  let address: string
  let vaultKey: string
  let vaultValues: string[]
  let secrets: Contexts['secrets']
  const gh = new FakeGitHub(REPOSITORY, TOKEN)
  /** The steps' environment on GitHub's runner: the API and the repository. */
  const githubEnv = () => ({ GITHUB_API_URL: gh.url, GITHUB_REPOSITORY: REPOSITORY })
  const inventoryVars = () => join(repo, 'inventories/production/group_vars/all/vars.yml')

  /** The step's inputs from a workflow; only the Ansible version differs (no PyPI here: the system's). */
  const inputsOf = (workflow: 'deploy' | 'preview', event: string, inputs: Contexts['inputs'] = {}) => ({
    ...actionInputs(join(ROOT, '.github/workflows', `${workflow}.yml`), { github: { event_name: event, token: TOKEN }, inputs, secrets }),
    'ansible-version': 'system',
  })
  const dispatchInputs = (playbooks: string) => inputsOf('deploy', 'workflow_dispatch', { playbooks, environment: 'production', check: false, limit: '' })
  const commit = (message: string, tree: Record<string, string>) => {
    for (const [p, c] of Object.entries(tree)) writeFileSync(join(repo, p), c)
    git(repo, 'commit', '-qam', message)
    return git(repo, 'rev-parse', 'HEAD')
  }

  /** GET through nginx from this machine, the name resolving to the server. */
  const get = (path: string) => httpGet(`http://${address}${path}`, 'web1.test', 30_000)
  const version = async () => (await get('/')).body.match(/id="version">([^<]*)</)?.[1]

  /** A command on the server as the deploy user on the new port (root cannot log in any more). */
  const asDeploy = async (cmd: string) => {
    const r = await lab.ssh('web1', cmd, { user: 'deploy', port: SSH_PORT, key: lab.keys.deploy })
    assert.equal(r.code, 0, `${cmd}: ${r.stderr}`)
    return r.stdout
  }
  /** Modes, owners, link targets and contents of every watched file, one line each. */
  const hostState = () => asDeploy(
    `sudo -n find ${WATCHED} -xdev ${PRUNED} -printf '%m %u:%g %y %l %p\\n' 2>/dev/null | sort;`
    + ` sudo -n find ${WATCHED} -xdev ${PRUNED} -type f -print0 2>/dev/null | sort -z | sudo -n xargs -0 sha256sum`,
  )

  const assertNoSecret = (run: StepRun) => {
    const keyLines = readFileSync(lab.keys.deploy, 'utf8').split('\n').filter((l) => l.length > 20 && !l.startsWith('-----'))
    for (const [what, text] of [['log', run.stdout], ['summary', run.summary], ['outputs', JSON.stringify(run.outputs)]] as const) {
      const shown = text.replace(/::add-mask::.*\n/g, '')
      for (const v of [...vaultValues, vaultKey]) assert.ok(!shown.includes(v), `the ${what} shows a vault value or the vault key`)
      for (const l of keyLines) assert.ok(!shown.includes(l), `the ${what} shows the SSH private key`)
    }
  }
  const changedOn = (run: StepRun, playbook: string) => {
    const r = JSON.parse(run.outputs.result!) as { playbooks: { name: string; hosts: Record<string, { changed: number; failed: number }> }[] }
    return r.playbooks.find((p) => p.name === playbook)?.hosts.web1
  }

  before(async () => {
    await gh.start()
    lab = await startLab({ hosts: ['web1'] })
    address = lab.hosts[0]!.address
    repo = mkdtempSync(join(tmpdir(), 'action-site-'))
    copyRepo(repo)

    // A user's inventory: the lab's hosts, keys and vault, no SSH options of its own.
    // The lab's hardening packages (src/lab/inventory.ts): this file tests the action's flows.
    const inv = await lab.writeInventory({ hardening: 'lab', vars: { ...PLAIN_SITE_VARS } })
    vaultKey = userInventory(inv, repo)
    const target = join(repo, 'inventories/production')
    const plain = execFileSync('ansible-vault', ['view', '--vault-password-file', join(inv, 'vault.key'), join(target, 'group_vars/all/vault.yml')], { encoding: 'utf8' })
    vaultValues = Object.values(parse(plain) as Record<string, unknown>).filter((v): v is string => typeof v === 'string' && v.length > 8)

    // README, first deploy: the initial root login accepts CI's deploy key (the provider's console).
    const deployPub = readFileSync(`${lab.keys.deploy}.pub`, 'utf8')
    assert.equal((await lab.ssh('web1', 'cat >> /root/.ssh/authorized_keys', { input: deployPub })).code, 0)

    git(repo, 'init', '-q', '-b', 'main')
    git(repo, 'add', '-A')
    git(repo, 'commit', '-qm', 'the team\'s copy of the template')
    secrets = {
      ANSIBLE_VAULT_KEY: vaultKey,
      SSH_PRIVATE_KEY: readFileSync(lab.keys.deploy, 'utf8'),
      SSH_KNOWN_HOSTS: readFileSync(lab.knownHosts, 'utf8'),
    }
  }, LONG)

  after(async () => {
    await gh.stop()
    await lab?.destroy()
    if (repo) rmSync(repo, { recursive: true, force: true })
    removeRunnerDirs()
  })

  test('the first deploy, dispatched with bootstrap,base,backend,frontend: the site answers, the admin logs in on the new port, root and port 22 are refused', LONG, async () => {
    const { main, post } = await runAction(repo, { name: 'workflow_dispatch', payload: { inputs: { playbooks: 'bootstrap,base,backend,frontend' } } }, dispatchInputs('bootstrap,base,backend,frontend'))
    assert.equal(main.code, 0, main.stdout.slice(-6000))
    assert.equal(main.outputs.status, 'success')
    assert.equal(main.outputs.playbooks, 'bootstrap,base,backend,frontend')
    assert.equal((await get('/')).status, 200)
    assert.equal(await version(), readFileSync(join(repo, 'app/VERSION'), 'utf8').trim())
    assert.equal((await lab.ssh('web1', 'id -un', { user: 'alice', port: SSH_PORT, key: lab.keys.admin })).stdout.trim(), 'alice')
    assert.notEqual((await lab.ssh('web1', 'true', { user: 'root', port: SSH_PORT, key: lab.rootKey, timeoutMs: 30_000 })).code, 0, 'root logs in on the new port')
    assert.equal(await lab.tcpOpen('web1', 22), false, 'port 22 still answers')
    assertNoSecret(main)
    assert.equal(post.code, 0, post.stdout)
    assert.match(post.stdout, /Removed the SSH control sockets of this run/)
  })

  test('a push changing the app runs backend only, and the new page is served', LONG, async () => {
    const before = git(repo, 'rev-parse', 'HEAD')
    const after = commit('app: version 2.0.0', { 'app/VERSION': '2.0.0\n' })
    const { main, post } = await runAction(repo, {
      name: 'push', payload: { ref: 'refs/heads/main', before, after, forced: false, repository: { default_branch: 'main' } },
    }, inputsOf('deploy', 'push'))
    assert.equal(main.code, 0, main.stdout.slice(-6000))
    assert.equal(main.outputs.playbooks, 'backend')
    assert.equal(await version(), '2.0.0')
    assertNoSecret(main)
    assert.equal(post.code, 0)
  })

  test('a pull request\'s preview changing a template and the app: success, the template\'s diff shown, the host byte for byte unchanged, no secret shown; its plan is one comment on the pull request, which the next push rewrites', LONG, async () => {
    const base = git(repo, 'rev-parse', 'HEAD')
    git(repo, 'checkout', '-q', '-b', 'preview')
    const site = 'roles/frontend/templates/site.conf.j2'
    const siteBefore = readFileSync(join(repo, site), 'utf8')
    const marker = '# Previewed change: the cache of static files is reviewed'
    // A migration adding a nullable column (additive) and dropping one the live release reads (breaking).
    const migration = 'app/pages/migrations/0002_preview.py'
    writeFileSync(join(repo, migration), [
      'from django.db import migrations, models', '', '',
      'class Migration(migrations.Migration):',
      '    dependencies = [("pages", "0001_initial")]',
      '    operations = [',
      '        migrations.AddField("note", "extra", models.IntegerField(null=True)),',
      '        migrations.RemoveField(model_name="note", name="created"),',
      '    ]', '',
    ].join('\n'))
    git(repo, 'add', migration)
    const head = commit('frontend and app: a previewed change', {
      [site]: siteBefore + `${marker}\n`,
      'app/VERSION': '3.0.0-preview\n',
    })
    const pr = (sha: string) => ({
      name: 'pull_request',
      payload: { number: 7, pull_request: { number: 7, base: { sha: base, repo: { full_name: REPOSITORY } }, head: { sha, repo: { full_name: REPOSITORY } } }, repository: { full_name: REPOSITORY } },
    })
    const stateBefore = await hostState()
    const { main, post } = await runAction(repo, pr(head), inputsOf('preview', 'pull_request'), { env: githubEnv() })
      .finally(() => git(repo, 'checkout', '-q', 'main'))
    assert.equal(main.code, 0, main.stdout.slice(-8000))
    assert.equal(main.outputs.status, 'success')
    assert.equal(main.outputs.playbooks, 'backend,frontend')
    assert.match(main.summary, /check mode: nothing was changed/)
    assert.match(main.stdout.replace(ANSI, ''), new RegExp(`^\\+${marker}$`, 'm'), 'the template\'s diff')
    // The pending migrations, classified from the change's files against the live database's applied list.
    assert.match(main.stdout.replace(ANSI, ''), /Pending migrations \(preview\): breaking \(the migrate and switch run behind the maintenance page\) \| pages\.0002_preview: additive: Add field extra to note \(a nullable or defaulted column\) \| pages\.0002_preview: breaking: Remove field created from note/)
    assert.match(main.summary, /\| web1 \| pages\.0002_preview \| Remove field created from note \| ⚠️ breaking \|/)
    assert.equal(await hostState(), stateBefore)
    assert.equal(await version(), '2.0.0')
    assertNoSecret(main)
    assert.equal(post.code, 0)

    // The plan on the pull request: one comment, the playbooks with their host, the template's diff.
    assert.match(main.summary, /The plan is on pull request #7 \(its comment created\)/)
    const comments = gh.commentsOn(7)
    assert.equal(comments.length, 1)
    const first = comments[0]!
    assert.match(first.body, /^<!-- django-deploy preview: inventories\/production -->/)
    assert.match(first.body, /runs \*\*backend → frontend\*\*/)
    assert.match(first.body, /\| backend \| ✅ yes \| web1 \| .*app\/VERSION/)
    assert.match(first.body, /\| frontend \| ✅ yes \| web1 \| .*site\.conf\.j2/)
    assert.match(first.body, /#### Pending migrations[^]*\| web1 \| pages\.0002_preview \| Add field extra to note \| additive \|[^]*\| web1 \| pages\.0002_preview \| Remove field created from note \| ⚠️ breaking \|/)
    assert.match(first.body, new RegExp(`frontend on web1: frontend : The site is configured[^]*<pre>[^]*\\n\\+${marker}</pre>`))
    for (const v of [...vaultValues, vaultKey, TOKEN]) assert.ok(!first.body.includes(v), 'the comment shows a secret')

    // `django-deploy status` from the branch's checkout lists the same pending migrations (read-only).
    const keyFile = join(lab.dir, 'action-site-vault.key')
    writeFileSync(keyFile, vaultKey, { mode: 0o600 })
    git(repo, 'checkout', '-q', 'preview')
    let status: string
    try {
      status = execFileSync(process.execPath, [join(ROOT, 'dist/cli.js'), 'status', '--dir', repo, '--vault-key', keyFile, '--ssh-key', lab.keys.deploy, '--known-hosts', lab.knownHosts],
        { encoding: 'utf8', env: { ...process.env, ANSIBLE_SSH_COMMON_ARGS: '' } })
    } finally {
      git(repo, 'checkout', '-q', 'main')
    }
    assert.match(status, /^web1: pending migrations of the code to deploy: breaking\n {2}pages\.0002_preview: additive: Add field extra to note [^\n]*\n {2}pages\.0002_preview: BREAKING: Remove field created from note /m)
    assert.equal(await hostState(), stateBefore)

    // The next push: the app's change dropped, the template changed again; the same comment is rewritten.
    const marker2 = '# Previewed change, second push: the cache is kept one day'
    git(repo, 'checkout', '-q', 'preview')
    git(repo, 'rm', '-q', migration)
    const head2 = commit('frontend only, the app as on main', { [site]: siteBefore + `${marker2}\n`, 'app/VERSION': '2.0.0\n' })
    const second = await runAction(repo, pr(head2), inputsOf('preview', 'pull_request'), { env: githubEnv() })
      .finally(() => git(repo, 'checkout', '-q', 'main'))
    assert.equal(second.main.code, 0, second.main.stdout.slice(-8000))
    assert.equal(second.main.outputs.playbooks, 'frontend')
    assert.match(second.main.summary, /its comment updated/)
    assert.equal(gh.commentsOn(7).length, 1)
    const rewritten = gh.commentsOn(7)[0]!
    assert.equal(rewritten.id, first.id)
    assert.match(rewritten.body, /runs \*\*frontend\*\*/)
    assert.match(rewritten.body, /\| backend \| ⏭️ no \|/)
    assert.match(rewritten.body, new RegExp(`\\n\\+${marker2}</pre>`))
    assert.doesNotMatch(rewritten.body, new RegExp(marker))
    assert.doesNotMatch(rewritten.body, /Pending migrations/)
    assert.equal(await version(), '2.0.0')
  })

  test('the Monday schedule runs base and changes nothing; a file changed by hand shows as drift and opens the drift issue; the exact SSH options reach ssh with no ANSIBLE_SSH_COMMON_ARGS (as Ansible 2.9 reads them)', LONG, async () => {
    const conf = (await asDeploy('ls /etc/nginx/sites-enabled/*.conf | grep -v /000-frontend-default.conf')).trim()
    assert.match(conf, /^\/etc\/nginx\/sites-enabled\/[\w.-]+\.conf$/)
    await asDeploy(`sudo -n sed -i '1a # gzip off: changed by hand on the server' ${conf}`)
    // A stand-in ssh that records its arguments and environment, then runs the real ssh.
    const bin = mkdtempSync(join(lab.dir, 'ssh-wrapper-'))
    const argvLog = join(bin, 'argv.log')
    writeFileSync(join(bin, 'ssh'), `#!/bin/sh\n{ printf '%s\\n' "$@"; echo "ANSIBLE_SSH_COMMON_ARGS=\${ANSIBLE_SSH_COMMON_ARGS-unset}"; echo ---; } >> ${argvLog}\nexec /usr/bin/ssh "$@"\n`, { mode: 0o755 })
    const { main, post } = await runAction(repo, { name: 'schedule', payload: { schedule: '17 4 * * 1' } }, inputsOf('deploy', 'schedule'), {
      env: { ANSIBLE_SSH_EXECUTABLE: join(bin, 'ssh'), ...githubEnv() },
      runnerTemp: 'a-long-runner-temp/'.repeat(6), // 100+ characters: the control sockets must not care
    })
    assert.equal(main.code, 0, main.stdout.slice(-6000))
    assert.equal(main.outputs.playbooks, 'base')
    assert.equal(changedOn(main, 'base')?.changed, 0)
    assert.equal(changedOn(main, 'base')?.failed, 0)

    // The drift check after base: the hand-made line, as the frontend's template task would undo it.
    const drift = main.summary.slice(main.summary.indexOf('### Drift'))
    assert.match(drift, /1 task would change on 1 host that nobody deployed to since/, drift)
    assert.match(drift, /#### web1[^]*frontend: frontend : The site is configured \(HTTPS once a certificate exists\) <code>roles\/frontend\/tasks\/site\.yml:\d+<\/code>/)
    assert.match(drift, /^-# gzip off: changed by hand on the server$/m)
    assert.match(drift, /The drift issue #1 was opened/)
    assertNoSecret(main)
    const open = gh.issues.filter((i) => i.state === 'open')
    assert.equal(open.length, 1)
    assert.match(open[0]!.body, /^<!-- django-deploy drift: inventories\/production -->[^]*changed by hand on the server/)

    const secretsDir = main.state.secretsDir!
    const controlDir = main.state.controlDir!
    assert.ok(secretsDir.length > 100 && controlDir.startsWith('/tmp/django-deploy-cp-'))
    const calls = readFileSync(argvLog, 'utf8').split('---\n').filter((c) => c.includes(address)).map((c) => c.trim().split('\n'))
    assert.ok(calls.length > 0)
    const expected = [
      `UserKnownHostsFile=${secretsDir}/known_hosts`, 'StrictHostKeyChecking=yes', `IdentityFile=${secretsDir}/id_deploy`, 'IdentitiesOnly=yes', `ControlPath=${controlDir}/%C`,
    ]
    for (const argv of calls) {
      assert.equal(argv.at(-1), 'ANSIBLE_SSH_COMMON_ARGS=unset')
      const options = argv.flatMap((a, i) => (argv[i - 1] === '-o' ? [a] : []))
      const at = options.indexOf(expected[0]!)
      assert.ok(at >= 0, `ssh ran without the action's known_hosts: ${argv.join(' ')}`)
      assert.deepEqual(options.slice(at, at + expected.length), expected)
      // Nothing before ours overrides them (ssh keeps the first value of an option).
      for (const o of options.slice(0, at)) assert.ok(!/^(UserKnownHostsFile|StrictHostKeyChecking|IdentityFile|ControlPath)=/.test(o), o)
    }
    assert.equal(post.code, 0)
    assert.match(post.stdout, /Removed the SSH control sockets of this run/)
    assert.ok(!existsSync(controlDir), `${controlDir} is left behind`)
  })

  test('the next deploy puts the file back, and the next drift check closes the issue', LONG, async () => {
    const fix = await runAction(repo, { name: 'workflow_dispatch', payload: { inputs: { playbooks: 'frontend' } } }, dispatchInputs('frontend'), { env: githubEnv() })
    assert.equal(fix.main.code, 0, fix.main.stdout.slice(-6000))
    // The template put back, and nginx reloaded.
    assert.ok((changedOn(fix.main, 'frontend')?.changed ?? 0) >= 1)
    const { main } = await runAction(repo, { name: 'schedule', payload: { schedule: '17 4 * * 1' } }, inputsOf('deploy', 'schedule'), { env: githubEnv() })
    assert.equal(main.code, 0, main.stdout.slice(-6000))
    assert.match(main.summary, /No drift: base, backend, frontend in check mode would change nothing/)
    assert.match(main.summary, /The drift issue #1 was closed/)
    assert.equal(gh.issues[0]!.state, 'closed')
    assert.match(gh.commentsOn(1).at(-1)!.body, /The drift is gone/)
  })

  test('bootstrap dispatched after adding an admin: the new admin logs in', LONG, async () => {
    const bobKey = join(lab.dir, 'keys/bob')
    await runOk('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'bob', '-f', bobKey])
    const vars = parse(readFileSync(inventoryVars(), 'utf8')) as { bootstrap_admins: { name: string; keys: string[] }[] }
    vars.bootstrap_admins.push({ name: 'bob', keys: [readFileSync(`${bobKey}.pub`, 'utf8').trim()] })
    commit('bootstrap: bob is an admin', { 'inventories/production/group_vars/all/vars.yml': '---\n' + stringify(vars) })
    const { main, post } = await runAction(repo, { name: 'workflow_dispatch', payload: { inputs: { playbooks: 'bootstrap' } } }, dispatchInputs('bootstrap'))
    assert.equal(main.code, 0, main.stdout.slice(-6000))
    assert.equal(main.outputs.playbooks, 'bootstrap')
    assert.equal((await lab.ssh('web1', 'id -un', { user: 'bob', port: SSH_PORT, key: bobKey })).stdout.trim(), 'bob')
    assert.equal((await lab.ssh('web1', 'id -un', { user: 'alice', port: SSH_PORT, key: lab.keys.admin })).stdout.trim(), 'alice')
    assertNoSecret(main)
    assert.equal(post.code, 0)
  })
})

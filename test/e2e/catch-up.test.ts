// What a failed deploy leaves behind is caught up by the next push: the bundled action run as the
// runner runs it, on the real backend and frontend playbooks (a copy of the repository without base,
// which these scenarios do not need, connecting as root on port 22: bootstrap is tested elsewhere).
// The deploy state on the host is written by the real playbooks; the plan follows it.
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve, dirname } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parse, stringify } from 'yaml'
import { PLAIN_SITE_VARS, startLab, type Lab } from '../../src/lab/index.ts'
import { git, removeRunnerDirs, runAction, writeTree, type StepRun } from './action-runner.ts'
import { get as httpGet } from '../support/http.ts'

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..')
const CLI = join(ROOT, 'dist/cli.js')
const LONG = { timeout: 30 * 60_000 }
const STATE_FILE = '/var/lib/django-deploy/example-org-example.json'
const RUN_ENV = { GITHUB_SERVER_URL: 'https://github.example', GITHUB_REPOSITORY: 'team/site' }
const VARS = 'inventories/production/group_vars/all/vars.yml'

interface Rec { commit: string; dirty: boolean; finished: string; run: string }

describe('catch-up: the next push deploys what a failed run left undeployed', () => {
  let lab: Lab
  let repo: string
  let inputs: Record<string, string>
  let runs = 0
  const commits: Record<string, string> = {}
  const stateReads: number[] = []

  const push = (from: string, to: string) => ({
    name: 'push',
    payload: { ref: 'refs/heads/main', before: commits[from], after: commits[to], forced: false, repository: { default_branch: 'main' } },
  })
  /** Commits `tree` on main and checks it out, as actions/checkout would for the push. */
  const commit = (name: string, tree: Record<string, string>, message: string) => {
    writeTree(repo, tree)
    git(repo, 'add', '-A')
    git(repo, 'commit', '-qm', message)
    commits[name] = git(repo, 'rev-parse', 'HEAD')
  }
  const action = async (event: { name: string; payload: unknown }, extra: Record<string, string> = {}): Promise<StepRun> => {
    const t0 = Date.now()
    const { main, post } = await runAction(repo, event, { ...inputs, ...extra }, { env: { ...RUN_ENV, GITHUB_RUN_ID: String(++runs) } })
    const read = /Deploy state read in [^(]*\((\d+) ms\)/.exec(main.stdout)
    if (read) stateReads.push(Number(read[1]))
    console.log(`# run ${runs} (${event.name}): exit ${main.code}, ${main.outputs.playbooks || 'nothing'} in ${Math.round((Date.now() - t0) / 1000)} s; state read ${read?.[1] ?? '-'} ms`)
    assert.equal(post.code, 0, post.stdout)
    return main
  }
  const state = async (): Promise<Partial<Record<string, Rec>>> => {
    const r = await lab.ssh('web1', `stat -c '%U %a' ${STATE_FILE} && cat ${STATE_FILE}`)
    assert.equal(r.code, 0, r.stderr)
    const [owner, ...json] = r.stdout.split('\n')
    assert.equal(owner, 'root 644')
    return (JSON.parse(json.join('\n')) as { playbooks: Partial<Record<string, Rec>> }).playbooks
  }
  const version = async () => (await httpGet(`http://${lab.hosts[0]!.address}/health/`, 'web1.test', 30_000)).body.trim()

  before(async () => {
    lab = await startLab({ hosts: ['web1'] })
    repo = mkdtempSync(join(tmpdir(), 'catch-up-'))
    for (const p of ['ansible.cfg', 'README.md', 'playbooks', 'roles', 'app']) {
      cpSync(join(ROOT, p), join(repo, p), { recursive: true, filter: (src) => !src.includes('__pycache__') })
    }
    rmSync(join(repo, 'playbooks/base.yml'))
    const inv = await lab.writeInventory({
      vars: {
        ansible_user: 'root', server_ssh_port: 22, public_hostnames: ['web1.test'],
        ...PLAIN_SITE_VARS, backend_database_engine: 'sqlite', backend_gunicorn_workers: 2,
      },
    })
    const target = join(repo, 'inventories/production')
    cpSync(inv, target, { recursive: true })
    rmSync(join(target, 'vault.key'))
    // The action's key and known_hosts must do the work, not the lab's SSH options.
    const vars = parse(readFileSync(join(target, 'group_vars/all/vars.yml'), 'utf8')) as Record<string, unknown>
    delete vars.ansible_ssh_common_args
    delete vars.ansible_ssh_private_key_file
    writeFileSync(join(target, 'group_vars/all/vars.yml'), '---\n' + stringify(vars))
    git(repo, 'init', '-q', '-b', 'main')
    commit('initial', {}, 'the site')
    inputs = {
      'vault-key': readFileSync(join(inv, 'vault.key'), 'utf8').trim(),
      'ssh-private-key': readFileSync(lab.rootKey, 'utf8'),
      'known-hosts': readFileSync(lab.knownHosts, 'utf8'),
      'ansible-version': 'system',
    }
  }, LONG)

  after(async () => {
    if (stateReads.length > 0) console.log(`# state read: ${stateReads.join(', ')} ms (${stateReads.length} runs)`)
    await lab?.destroy()
    if (repo) rmSync(repo, { recursive: true, force: true })
    removeRunnerDirs()
  })

  test('a push to a server this copy never deployed runs nothing and says to dispatch bootstrap first', LONG, async () => {
    commit('docs', { 'README.md': '# The site\n' }, 'docs')
    const main = await action(push('initial', 'docs'))
    assert.equal(main.code, 0, main.stdout)
    assert.equal(main.outputs.status, 'skipped')
    assert.match(main.stdout, /::notice::Never bootstrapped from this copy: web1\. Dispatch the deploy workflow with playbooks: bootstrap first/)
    assert.match(main.summary, /Not deployed by this push: web1 \(nothing deployed from this copy yet\)/)
  })

  test('a dispatch deploys backend and frontend; each records its commit and run', LONG, async () => {
    const main = await action({ name: 'workflow_dispatch', payload: {} }, { playbooks: 'backend,frontend' })
    assert.equal(main.code, 0, main.stdout.slice(-6000))
    assert.equal(await version(), 'ok 1.0.0')
    const s = await state()
    for (const p of ['backend', 'frontend']) {
      assert.equal(s[p]?.commit, commits.docs)
      assert.equal(s[p]?.run, `https://github.example/team/site/actions/runs/${runs}`)
      assert.equal(s[p]?.dirty, false)
      assert.ok(Date.now() - Date.parse(s[p]!.finished) < 30 * 60_000)
    }
    assert.equal(s.base, undefined)
    // The record is bookkeeping: it does not count as a change.
    const result = JSON.parse(main.outputs.result!)
    assert.equal(result.hosts.web1.backend.outcome, 'deployed')
  })

  test('an app + group_vars push whose backend fails: frontend reported not run, nothing recorded for them', LONG, async () => {
    commit('change', { 'app/VERSION': '2.0.0\n', [VARS]: readFileSync(join(repo, VARS), 'utf8') + 'catch_up_marker: one\n' }, 'app 2.0.0, a group_vars change')
    // This run's backend fails (a variable its checks refuse), as a broken deploy would.
    const main = await action(push('docs', 'change'), { 'extra-vars': '{"backend_health_timeout": 1}' })
    assert.equal(main.code, 1)
    const plan = JSON.parse(main.outputs.plan!)
    assert.deepEqual(plan.run, ['backend', 'frontend'])
    assert.match(plan.notes.join('\n'), /base would run but playbooks\/base\.yml does not exist/)
    const result = JSON.parse(main.outputs.result!)
    assert.deepEqual(result.notRun, ['frontend'])
    assert.equal(result.hosts.web1.backend.outcome, 'failed')
    assert.equal(result.hosts.web1.frontend.outcome, 'not run after the failure')
    assert.match(main.summary, /Not run after the failure: frontend\./)
    assert.equal(await version(), 'ok 1.0.0')
    const s = await state()
    assert.equal(s.backend?.commit, commits.docs)
    assert.equal(s.frontend?.commit, commits.docs)
  })

  test('the next push, README only, deploys the earlier change: backend and frontend from the revision they recorded', LONG, async () => {
    commit('readme', { 'README.md': '# The site, documented\n' }, 'README only')
    const main = await action(push('change', 'readme'))
    assert.equal(main.code, 0, main.stdout.slice(-6000))
    assert.equal(main.outputs.playbooks, 'backend,frontend')
    const from = commits.docs!.slice(0, 7)
    const to = commits.readme!.slice(0, 7)
    assert.match(main.summary, new RegExp(`\\| \\| backend \\| ${from}, [^|]* ago → ${to} \\(https://github\\.example/team/site/actions/runs/2\\) \\| ✅ yes \\| app source, shared input \\(inventories/production\\) changed since ${from} \\|`))
    assert.match(main.stdout, new RegExp(`frontend on web1: ${from}, [^:]* ago → ${to}: shared input \\(inventories/production\\) changed since ${from}`))
    assert.equal(await version(), 'ok 2.0.0')
    const s = await state()
    assert.equal(s.backend?.commit, commits.readme)
    assert.equal(s.frontend?.commit, commits.readme)
    const result = JSON.parse(main.outputs.result!)
    assert.deepEqual(result.hosts.web1.frontend, { from: commits.docs, to, outcome: 'deployed' })
  })

  test('once caught up, a README-only push runs nothing; status shows each playbook\'s revision and run', LONG, async () => {
    commit('readme2', { 'README.md': '# The site, documented again\n' }, 'README only, again')
    const main = await action(push('readme', 'readme2'))
    assert.equal(main.code, 0, main.stdout)
    assert.equal(main.outputs.status, 'skipped')
    assert.match(main.summary, /\| backend \| ⏭️ no \| every host is up to date for it \|/)

    const keyFile = join(lab.dir, 'catch-up-vault.key')
    writeFileSync(keyFile, inputs['vault-key']!, { mode: 0o600 })
    // status logs in as deploy does: the key and known_hosts given, host keys checked strictly.
    const env = { ...process.env, ANSIBLE_SSH_COMMON_ARGS: '' }
    const status = ['status', '--dir', repo, '--vault-key', keyFile, '--ssh-key', lab.rootKey, '--known-hosts', lab.knownHosts]
    const json = JSON.parse(execFileSync(process.execPath, [CLI, ...status, '--json'], { encoding: 'utf8', env }))
    assert.equal(json.head.commit, commits.readme2)
    assert.equal(json.state.hosts[0].records.backend.commit, commits.readme)
    assert.deepEqual(json.plan.run, [])
    const text = execFileSync(process.execPath, [CLI, ...status], { encoding: 'utf8', env })
    assert.match(text, new RegExp(`^ {2}backend {3}${commits.readme!.slice(0, 7)} {2}[^\\n]* ago +https://github\\.example/team/site/actions/runs/4$`, 'm'))
    assert.match(text, /^ {2}base {6}no record$/m)
    assert.match(text, /would deploy:\nPlan \(from the changes\): django-deploy status: from each host's deploy state/)
  })

  test('SSH to the server cut for one push: the run fails with one ::error:: naming it; the next push deploys it', LONG, async () => {
    const defaults = join(repo, 'roles/frontend/defaults/main.yml')
    commit('cut', { 'roles/frontend/defaults/main.yml': readFileSync(defaults, 'utf8') + '# (a comment: a frontend-only change)\n' }, 'frontend defaults')
    await lab.setLink('web1', false)
    let main: StepRun
    try {
      main = await action(push('readme2', 'cut'))
    } finally {
      await lab.setLink('web1', true)
    }
    assert.equal(main.code, 1, main.stdout)
    assert.equal(main.outputs.status, 'failure')
    const errors = main.stdout.split('\n').filter((l) => l.startsWith('::error'))
    assert.equal(errors.length, 1, errors.join('\n'))
    assert.match(errors[0]!, new RegExp(`::web1 was not deployed: unreachable \\([^)]*\\): its deploy state is unknown, so it may lack ${commits.cut!.slice(0, 7)}; the next push deploys it once it answers$`))
    assert.match(main.summary, /^## Deploy ❌ failed/)
    assert.match(main.summary, /#### Unreachable/)

    commit('back', { 'README.md': '# The site, documented once more\n' }, 'README only, the server back')
    const next = await action(push('cut', 'back'))
    assert.equal(next.code, 0, next.stdout.slice(-6000))
    assert.equal(next.outputs.playbooks, 'frontend')
    assert.equal((await state()).frontend?.commit, commits.back)
  })

  test('an app-only push runs backend\'s release alone, recorded as complete; a backend role change next runs the whole role', LONG, async () => {
    // backend last ran from "readme"; since then: README, frontend's defaults, and now the app.
    commit('app3', { 'app/VERSION': '3.0.0\n' }, 'app 3.0.0')
    const main = await action(push('back', 'app3'))
    assert.equal(main.code, 0, main.stdout.slice(-6000))
    assert.equal(main.outputs.playbooks, 'backend')
    const since = commits.readme!.slice(0, 7)
    assert.match(main.summary, new RegExp(`Runs, in order: \\*\\*backend \\(release only: only app code changed since ${since}\\)\\*\\*`))
    assert.match(main.stdout, /ansible-playbook playbooks\/backend\.yml --tags backend_deploy/)
    assert.doesNotMatch(main.stdout, /The project's logs are rotated/)
    assert.equal(await version(), 'ok 3.0.0')
    assert.equal((await state()).backend?.commit, commits.app3)

    const defaults = join(repo, 'roles/backend/defaults/main.yml')
    commit('role', { 'roles/backend/defaults/main.yml': readFileSync(defaults, 'utf8') + '# (a comment: a backend role change)\n' }, 'backend defaults')
    const whole = await action(push('app3', 'role'))
    assert.equal(whole.code, 0, whole.stdout.slice(-6000))
    assert.equal(whole.outputs.playbooks, 'backend')
    assert.match(whole.summary, /Runs, in order: \*\*backend\*\*\./)
    assert.doesNotMatch(whole.stdout, /--tags/)
    assert.match(whole.stdout, /The project's logs are rotated/)
    assert.equal(await version(), 'ok 3.0.0')
    assert.equal((await state()).backend?.commit, commits.role)
  })
})

// A project that is not ours, deployed as it is (test/project/): settings config.settings.production,
// requirements/production.txt, configuration from environment variables (backend_env, values from
// the vault), an RQ worker on a local Redis, a scheduled manage.py command; installed the default way
// (pip from the lab's package index). A request enqueues a task the worker runs; the scheduled job
// fires; no cron or timer fails; tasks queued across a deploy all run, on the new code once it is
// live; a rollback restarts the workers on the old code; `django-deploy status` shows the workers and
// the timer; bad project settings stop with one line, the live release untouched. One booted host for
// all of it.
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { startLab, type Lab } from '../../src/lab/index.ts'
import { servePackageIndex, type RunningIndex } from '../../src/lab/pyindex.ts'
import { checkVaultKey } from '../../src/core/vault-read.ts'
import { appCopy } from '../support/app.ts'
import { assertPlaybookOk, sshOk, timedPlaybook } from '../support/lab-steps.ts'

const projectDir = fileURLToPath(new URL('../project', import.meta.url))
const repoRoot = fileURLToPath(new URL('../..', import.meta.url))
const ROOT = '/srv/example-org/example'
const LONG = { timeout: 25 * 60_000 }
const TICK = 'django-deploy-job-example-org-example-tick'

describe('a project of its own layout: env configuration, a worker, a scheduled job', () => {
  let lab: Lab
  let inventory: string
  let work: string
  let index: RunningIndex

  const run = (playbook: string, extraVars: Record<string, unknown> = {}) => timedPlaybook(lab, playbook, { inventory, extraVars })
  const assertOk = assertPlaybookOk
  const ssh = (cmd: string) => sshOk(lab, 'web1', cmd)
  /** GET through the live gunicorn's socket (no nginx in this test). */
  const get = (path: string) => ssh(`for s in ${ROOT}/sockets/*.sock; do curl -sf --unix-socket "$s" -H 'Host: web1.test' http://localhost${path} && exit 0; done; exit 1`)
  const rows = async () => (await get('/rows/')).split('\n').filter(Boolean)
  const liveVersion = () => ssh(`cat ${ROOT}/current/VERSION`)
  async function waitFor(what: string, seconds: number, ok: () => Promise<boolean>) {
    const t0 = Date.now()
    while (!(await ok())) {
      if (Date.now() - t0 > seconds * 1000) assert.fail(`${what}: not within ${seconds} s; rows: ${(await rows()).join(' | ')}`)
      await new Promise((r) => setTimeout(r, 2000))
    }
    return Math.round((Date.now() - t0) / 1000)
  }
  const release = (version: string, edit?: (dir: string) => void) => appCopy(projectDir, work, version, edit)

  before(async () => {
    work = mkdtempSync(join(tmpdir(), 'project-test-'))
    lab = await startLab({ hosts: ['web1'] })
    index = await servePackageIndex(lab.hosts[0]!.gateway, join(lab.dir, 'logs'))
    inventory = await lab.writeInventory({
      vars: {
        ...lab.rootLogin,
        backend_gunicorn_workers: 2,
        backend_https: false,
        backend_archive_src: release('1.0.0'),
        backend_pip_index_url: index.url,
        backend_pip_trusted_hosts: [lab.hosts[0]!.gateway],
        backend_settings_module: 'config.settings.production',
        backend_wsgi_application: 'config.wsgi:application',
        backend_requirements_file: 'requirements/production.txt',
        backend_env: {
          DJANGO_SECRET_KEY: '{{ vault_django_secret_key }}',
          DJANGO_ALLOWED_HOSTS: 'web1.test,localhost',
          DATABASE_NAME: 'example',
          DATABASE_USER: 'example',
          DATABASE_PASSWORD: '{{ vault_database_password }}',
          REDIS_URL: 'redis://127.0.0.1:6379/0',
        },
        backend_redis_enabled: true,
        backend_workers: [{ name: 'tasks', command: 'python -m jobs.worker', count: 2 }],
        backend_worker_stop_timeout: 120,
        backend_jobs: [{ name: 'tick', command: 'tick', on_calendar: '*:*:00' }],
        // No telescoop-backup (nor backup_db) in this project.
        backend_backup_enabled: false,
        backend_check_deploy_enabled: false,
      },
    })
  })
  after(async () => {
    await index?.stop()
    await lab?.destroy()
    if (work) rmSync(work, { recursive: true, force: true })
  })

  test('deployed from its own layout: a request enqueues a task the worker runs; the scheduled job fires; nothing fails', LONG, async () => {
    assertOk(await run('backend'))
    assert.equal(await liveVersion(), '1.0.0')
    assert.equal(await get('/health/'), 'ok')
    assert.match(await ssh(`stat -c '%a %U %G' ${ROOT}/etc/env`), /^640 root example$/)
    assert.match(await ssh(`cat ${ROOT}/current/venv/pyvenv.cfg`), /include-system-site-packages = false/)
    const states = await ssh('supervisorctl status | grep worker-tasks')
    assert.equal(states.split('\n').filter((l) => / RUNNING /.test(l)).length, 2, states)
    assert.match(await ssh('ss -Htln sport = :6379'), /127\.0\.0\.1:6379/)
    assert.doesNotMatch(await ssh('ss -Htln sport = :6379'), /0\.0\.0\.0:6379|\*:6379/)

    await get('/enqueue/?text=hello')
    console.log(`task written in ${await waitFor('the task\'s row', 60, async () => (await rows()).includes('task hello 1.0.0'))} s`)
    console.log(`scheduled job fired after ${await waitFor('the scheduled job\'s row', 120, async () => (await rows()).includes('tick tick 1.0.0'))} s`)
    assert.match(await ssh(`systemctl show -p User,Result ${TICK}.service`), /Result=success[\s\S]*User=example|User=example[\s\S]*Result=success/)
    assert.equal(await ssh('systemctl --failed --no-legend --plain | wc -l'), '0', await ssh('systemctl --failed --no-legend --plain'))
    assert.equal(await ssh('ls /var/spool/cron/crontabs/ 2>/dev/null | wc -l'), '0', 'no crontab for a project without backup_db')
    // The database password (from the vault, through backend_env) is on no running process's command line.
    const key = readFileSync(join(inventory, 'vault.key'), 'utf8').trim()
    const secrets = checkVaultKey(inventory, '.', key, '').values.filter((v) => v.length >= 12 && !v.includes('\n'))
    const cmdlines = await ssh('cat /proc/[0-9]*/cmdline 2>/dev/null | tr "\\0" " "')
    for (const s of secrets) assert.ok(!cmdlines.includes(s), 'a vault value on a command line')
  })

  test('a second run changes nothing', LONG, async () => {
    const r = await run('backend')
    assertOk(r)
    assert.equal(r.recap.web1?.changed, 0, r.output.slice(-3000))
  })

  test('status shows the web processes, each worker process and the scheduled job\'s timer', LONG, async () => {
    // status logs in as deploy does: the key and known_hosts given, host keys checked strictly.
    const status = (...more: string[]) => execFileSync(process.execPath, [join(repoRoot, 'dist/cli.js'), 'status', '--dir', repoRoot, '--inventory', inventory,
      '--vault-key', join(inventory, 'vault.key'), '--ssh-key', lab.rootKey, '--known-hosts', lab.knownHosts, ...more], { encoding: 'utf8', env: { ...process.env, ANSIBLE_SSH_COMMON_ARGS: '' } })
    const json = JSON.parse(status('--json'))
    const web1 = json.processes.web1
    assert.equal(web1.status, 'read', JSON.stringify(web1))
    assert.deepEqual(web1.processes.filter((p: { kind: string }) => p.kind === 'worker').map((p: { name: string; state: string }) => `${p.name} ${p.state}`), ['tasks-0 RUNNING', 'tasks-1 RUNNING'])
    assert.deepEqual(web1.processes.filter((p: { kind: string; state: string }) => p.kind === 'web' && p.state === 'RUNNING').length, 1)
    assert.equal(web1.timers.length, 1)
    assert.equal(web1.timers[0].job, 'tick')
    assert.equal(web1.timers[0].result, 'success', 'the tick ran')
    const text = status()
    assert.match(text, /^ {2}worker {4}tasks-0 {4}RUNNING {2}pid \d+, uptime \d+:\d\d:\d\d$/m)
    assert.match(text, /^ {2}worker {4}tasks-1 {4}RUNNING {2}pid \d+, uptime \d+:\d\d:\d\d$/m)
    // Read in the seconds the tick runs (from :00 on), the timer has no next run yet and says so.
    assert.match(text, /^ {2}timer {5}tick {7}\*-\*-\* \*:\*:00: (next \w{3} \d{4}-\d\d-\d\d \d\d:\d\d:00 UTC, last \w{3} \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC \(success\)|running since \w{3} \d{4}-\d\d-\d\d \d\d:\d\d:0\d UTC)$/m)
    // Read as root through the ops wrapper, which journals it.
    assert.match(await ssh('journalctl -t django-deploy-ops --no-pager -o cat'), /project=example .*command=status/)
  })

  test('tasks queued as a release goes live all run (those in flight finish), the waiting ones on the new code', LONG, async () => {
    // Queued by the new release just before the switch: 2 in flight on the old workers, 2 waiting.
    const r = await run('backend', {
      backend_archive_src: release('2.0.0'),
      backend_before_switch_commands: ['enqueue deploy --count 4 --seconds 40'],
    })
    assertOk(r)
    assert.equal(await liveVersion(), '2.0.0')
    await waitFor('the 4 tasks queued across the deploy', 240, async () => (await rows()).filter((l) => l.startsWith('task deploy-')).length === 4)
    const deploy = (await rows()).filter((l) => l.startsWith('task deploy-'))
    console.log(`tasks queued across the deploy: ${deploy.join(' | ')}`)
    assert.ok(deploy.some((l) => l.endsWith(' 2.0.0')), 'the waiting tasks ran on the new release')
    await get('/enqueue/?text=after')
    await waitFor('a task queued after the deploy', 60, async () => (await rows()).includes('task after 2.0.0'))
    assert.notEqual(await ssh(`grep -c 'Warm shut down requested' /var/log/example-org/example/worker-tasks.log || true`), '0', 'the workers stopped warm')
  })

  test('a rollback restarts the workers on the previous release', LONG, async () => {
    assertOk(await run('rollback'))
    assert.equal(await liveVersion(), '1.0.0')
    await get('/enqueue/?text=rolled-back')
    await waitFor('a task after the rollback', 60, async () => (await rows()).includes('task rolled-back 1.0.0'))
  })

  test('bad project settings stop the deploy with one line; the live release keeps serving', LONG, async () => {
    const cases: { name: string; vars: Record<string, unknown>; line: RegExp }[] = [
      {
        name: 'a worker that exits at once',
        vars: { backend_archive_src: release('3.0.0-bad-worker', (d) => writeFileSync(join(d, 'jobs/worker.py'), 'raise SystemExit("no broker configured")\n')) },
        line: /backend: worker tasks \(python -m jobs\.worker\) exited with code 1 within 5 s in the new release: no broker configured/,
      },
      {
        name: 'a calendar systemd refuses',
        vars: { backend_archive_src: release('3.2.0'), backend_jobs: [{ name: 'tick', command: 'tick', on_calendar: 'every tuesday' }] },
        // Quotes inside a message come JSON-escaped in Ansible's output.
        line: /backend: backend_jobs tick: on_calendar \\?"every tuesday\\?" is not a systemd calendar/,
      },
      {
        name: 'an environment variable name that is not one',
        vars: { backend_archive_src: release('3.3.0'), backend_env: { '1DATABASE': 'x' } },
        line: /backend: backend_settings_module takes .*: not 1DATABASE\./,
      },
      // Last: this case leaves bin/gunicorn and <project>-ctl naming the bad module (written before the release is built).
      {
        name: 'a settings module that cannot be imported',
        vars: { backend_archive_src: release('3.1.0'), backend_settings_module: 'config.settings.staging' },
        line: /backend: the release cannot import backend_settings_module config\.settings\.staging or backend_wsgi_application config\.wsgi:application: .*No module named 'config\.settings\.staging'/,
      },
    ]
    for (const c of cases) {
      const r = await run('backend', c.vars)
      assert.notEqual(r.code, 0, c.name)
      assert.match(r.output, c.line, `${c.name}:\n${r.output.slice(-3000)}`)
      assert.equal(await liveVersion(), '1.0.0', c.name)
      assert.equal(await get('/health/'), 'ok', c.name)
    }
    assert.match(await ssh(`systemctl show -p TimersCalendar ${TICK}.timer`), /OnCalendar=\*-\*-\* \*:\*:00/, 'the timer kept its calendar')
  })
})

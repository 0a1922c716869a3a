// The backend role on a booted host: the example app deployed from an archive and from git, behind
// the frontend role's nginx (plain HTTP: TLS has its own tests), redeployed under continuous load with no
// failed request, broken releases refused while the old one keeps serving, rollback, idempotence.
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { DEBIAN_PYTHON_VARS, startLab, type Lab, type PlaybookResult } from '../../src/lab/index.ts'
import { checkVaultKey } from '../../src/core/vault-read.ts'
import { appCopy as copyApp } from '../support/app.ts'
import { get as httpGet } from '../support/http.ts'
import { startHey } from '../support/load.ts'

const repoRoot = fileURLToPath(new URL('../..', import.meta.url))
const ROOT = '/srv/example-org/example'
const LONG = { timeout: 20 * 60_000 }
/** Where a vault value may be written on the server: the project's own 0600 settings. */
const SECRET_HOLDERS = [`${ROOT}/shared/settings.ini`]

/**
 * On the host: until /root/.capture-stop exists, every process's command line, polled in a tight loop
 * (deduplicated), into the root-only /root/.capture-cmdlines; and a marker to find the files written after it.
 */
const START_CAPTURE = `set -e
umask 077
rm -f /root/.capture-stop /root/.capture-cmdlines
touch /root/.capture-since
setsid sh -c 'while [ ! -e /root/.capture-stop ]; do for f in /proc/[0-9]*/cmdline; do tr "\\0" " " < "$f" 2>/dev/null; echo; done; done | awk "!seen[\\$0]++" > /root/.capture-cmdlines' </dev/null >/dev/null 2>&1 &
`

/** A copy of app/ with its VERSION set, changed further by `edit`. */
const appCopy = (dir: string, version: string, edit?: (app: string) => void) => copyApp(join(repoRoot, 'app'), dir, version, edit)

describe('backend role', () => {
  let lab: Lab
  let inventory: string
  let address: string
  let work: string
  const releases = async () => (await lab.ssh('web1', `ls -1 ${ROOT}/releases`)).stdout.trim().split('\n').filter(Boolean)

  /** GET through nginx from this machine, with the Host header nginx answers. */
  const get = (path: string, host = 'web1.test') => httpGet(`http://${address}${path}`, host, 30_000)
  const version = async (host = 'web1.test') => (await get('/', host)).body.match(/id="version">([^<]*)</)?.[1]

  const run = async (playbook: string, extraVars: Record<string, unknown> = {}, inv = inventory): Promise<PlaybookResult & { seconds: number }> => {
    const t0 = Date.now()
    const r = await lab.runPlaybook(playbook, { inventory: inv, extraVars })
    return { ...r, seconds: Math.round((Date.now() - t0) / 1000) }
  }
  /** Both projects' inventories: root on port 22 (bootstrap is not part of this test), Debian's Python, plain HTTP. */
  const commonVars = () => ({
    ansible_user: 'root',
    ansible_port: 22,
    ansible_ssh_private_key_file: lab.rootKey,
    ...DEBIAN_PYTHON_VARS,
    backend_gunicorn_workers: 2,
    backend_https: false,
    frontend_tls_enabled: false,
  })
  const assertOk = (r: PlaybookResult) => assert.equal(r.code, 0, r.output.slice(-4000))

  /** Deploys `app` under load; returns the playbook result and what the clients saw. */
  async function deployUnderLoad(app: string) {
    const load = startHey({ url: `http://${address}/`, host: 'web1.test' })
    await new Promise((r) => setTimeout(r, 2000))
    const result = await run('backend', { backend_archive_src: app })
    await new Promise((r) => setTimeout(r, 2000))
    const seen = await load.stop()
    console.log(`deploy ${app.split('/').pop()}: exit ${result.code} in ${result.seconds}s; ${seen.requests} requests, ${seen.failed} failed`)
    return { result, seen }
  }

  /**
   * After the first deploy (PostgreSQL role and password included): no vault value in the journal,
   * in any command line seen during the run, or in any file written since, but the project's settings.
   */
  async function secretsStayedPut() {
    const t0 = Date.now()
    const key = readFileSync(join(inventory, 'vault.key'), 'utf8').trim()
    const values = checkVaultKey(inventory, '.', key, '').values.filter((v) => v.length >= 8)
    assert.ok(values.length >= 5, 'the lab vault holds values to look for')
    const patterns = values.flatMap((v) => v.split('\n')).map((l) => l.trim()).filter((l) => l.length >= 8).join('\n') + '\n'
    const r = await lab.ssh('web1', [
      'set -e',
      'touch /root/.capture-stop; sleep 1',
      'umask 077; cat > /root/.capture-patterns',
      'echo "cmdlines: $(wc -l < /root/.capture-cmdlines) $(grep -c psql /root/.capture-cmdlines || true)"',
      'echo "in cmdlines: $(grep -c -F -f /root/.capture-patterns /root/.capture-cmdlines || true)"',
      'echo "in journal: $(journalctl -o verbose --no-pager | grep -c -F -f /root/.capture-patterns || true)"',
      'find / /tmp /run -xdev \\( -path /proc -o -path /sys -o -path /dev \\) -prune -o -type f -newer /root/.capture-since ! -name ".capture-*" -print0 > /root/.capture-files',
      'echo "files written: $(tr -cd "\\0" < /root/.capture-files | wc -c)"',
      'xargs -0 -r grep -l -F -f /root/.capture-patterns < /root/.capture-files | while read -r f; do echo "holder: $(stat -c "%a %U" "$f") $f"; done',
      'rm -f /root/.capture-*',
    ].join('\n'), { input: patterns })
    assert.equal(r.code, 0, r.stderr)
    console.log(`secrets check: ${r.stdout.trim().replace(/\n/g, '; ')} (${Math.round((Date.now() - t0) / 1000)}s)`)
    const [, lines, psql] = /^cmdlines: (\d+) (\d+)$/m.exec(r.stdout) ?? []
    assert.ok(Number(lines) > 100, 'command lines were captured during the run')
    assert.ok(Number(psql) > 0, 'the capture saw psql run (the database tasks)')
    assert.match(r.stdout, /^in cmdlines: 0$/m, 'no vault value on a command line')
    assert.match(r.stdout, /^in journal: 0$/m, 'no vault value in the journal')
    const holders = [...r.stdout.matchAll(/^holder: (\d+) (\S+) (.+)$/gm)].map(([, mode, owner, file]) => ({ mode, owner, file }))
    for (const h of holders) {
      assert.ok(SECRET_HOLDERS.includes(h.file!), `a vault value written to ${h.file}`)
      assert.equal(h.mode, '600', `${h.file} holds secrets: mode 0600`)
    }
  }

  before(async () => {
    work = mkdtempSync(join(tmpdir(), 'backend-test-'))
    lab = await startLab({ hosts: ['web1'] })
    address = lab.hosts[0]!.address
    inventory = await lab.writeInventory({
      vars: { ...commonVars(), backend_archive_src: appCopy(work, '1.0.0') },
    })
  })
  after(async () => {
    await lab?.destroy()
    if (work) rmSync(work, { recursive: true, force: true })
  })

  test('the example app deployed from an archive answers through nginx', LONG, async () => {
    assert.equal((await lab.ssh('web1', START_CAPTURE)).code, 0)
    const r = await run('backend')
    assertOk(r)
    console.log(`first deploy (packages, PostgreSQL, venv): ${r.seconds}s`)
    await secretsStayedPut()
    assert.match(r.output, /Django's deployment checklist warnings are reported/)
    assertOk(await run('frontend'))

    const page = await get('/')
    assert.equal(page.status, 200)
    assert.equal(await version(), '1.0.0')
    assert.equal((await get('/health/')).status, 200)
    const admin = await get('/admin/login/')
    assert.equal(admin.status, 200)
    assert.match(admin.body, /Django administration/)
    assert.match(admin.body, /csrfmiddlewaretoken/)
  })

  test('static files are served by nginx, not gunicorn', LONG, async () => {
    const css = await get('/static/pages/site.css')
    assert.equal(css.status, 200)
    assert.match(String(css.headers['cache-control']), /immutable/, 'nginx\'s static cache header')
    assert.match(css.body, /example-project stylesheet/)
    const logs = await lab.ssh('web1', `cat /var/log/example-org/example/gunicorn-*.log`)
    assert.match(logs.stdout, /"GET \/ HTTP/, 'gunicorn logs the page requests')
    assert.doesNotMatch(logs.stdout, /GET \/static\//, 'a static file reached gunicorn')
  })

  test('settings.ini is readable by the project user only; backups run daily by cron', LONG, async () => {
    const st = await lab.ssh('web1', `stat -c '%a %U' ${ROOT}/shared/settings.ini`)
    assert.equal(st.stdout.trim(), '600 example')
    const other = await lab.ssh('web1', `runuser -u nobody -- cat ${ROOT}/shared/settings.ini`)
    assert.notEqual(other.code, 0)
    assert.match(other.stderr, /Permission denied/)
    const cron = await lab.ssh('web1', 'crontab -u example -l')
    assert.match(cron.stdout, /^17 3 \* \* \* \/usr\/local\/bin\/example-ctl backup_db backup/m)
    // The cron's command works: a dump appears.
    const backup = await lab.ssh('web1', `runuser -u example -- /usr/local/bin/example-ctl backup_db backup && ls ${ROOT}/shared/backups`)
    assert.equal(backup.code, 0, backup.stderr)
    assert.match(backup.stdout, /db-\d{8}T\d{6}Z\.sql\.gz/)
  })

  test('a second run changes nothing', LONG, async () => {
    const r = await run('backend')
    assertOk(r)
    console.log(`second run: ${r.seconds}s, changed=${r.recap.web1?.changed}`)
    assert.equal(r.recap.web1?.changed, 0, r.output.slice(-3000))
  })

  test('a new version deployed under load: no failed request, the new version served after', LONG, async () => {
    const { result, seen } = await deployUnderLoad(appCopy(work, '2.0.0'))
    assertOk(result)
    assert.ok(seen.requests > 0, seen.report)
    assert.equal(seen.failed, 0, seen.report)
    assert.equal(await version(), '2.0.0')
    assert.equal((await releases()).length, 2)
  })

  test('a release that cannot start (import error) is refused under load; the old one keeps serving', LONG, async () => {
    const before = await releases()
    const broken = appCopy(work, '3.0.0-import-error', (app) => {
      appendFileSync(join(app, 'example_project/wsgi.py'), 'import module_that_does_not_exist  # noqa\n')
    })
    const { result, seen } = await deployUnderLoad(broken)
    assert.notEqual(result.code, 0)
    assert.match(result.output, /was not deployed: .*(crashed at start|failed its health check)/)
    assert.match(result.output, /The previous release keeps serving/)
    assert.equal(seen.failed, 0, seen.report)
    assert.ok(seen.requests > 0)
    assert.equal(await version(), '2.0.0')
    assert.deepEqual(await releases(), before, 'the failed release is removed')
  })

  test('a release whose migration fails is refused under load; the old one keeps serving', LONG, async () => {
    const broken = appCopy(work, '4.0.0-bad-migration', (app) => {
      writeFileSync(join(app, 'pages/migrations/0002_broken.py'), [
        'from django.db import migrations, models',
        '',
        '',
        'def fail(apps, schema_editor):',
        '    raise RuntimeError("this migration fails on purpose")',
        '',
        '',
        'class Migration(migrations.Migration):',
        '    dependencies = [("pages", "0001_initial")]',
        '    operations = [',
        '        migrations.AddField("note", "extra", models.IntegerField(default=0)),',
        '        migrations.RunPython(fail),',
        '    ]',
        '',
      ].join('\n'))
    })
    const { result, seen } = await deployUnderLoad(broken)
    assert.notEqual(result.code, 0)
    assert.match(result.output, /was not deployed: task \\?"The database is migrated by the release\\?" failed/)
    assert.match(result.output, /this migration fails on purpose/)
    assert.equal(seen.failed, 0, seen.report)
    assert.equal(await version(), '2.0.0')
    // PostgreSQL rolled the migration back: the old schema is intact.
    const cols = await lab.ssh('web1', `runuser -u postgres -- psql -tA -d example -c "SELECT column_name FROM information_schema.columns WHERE table_name = 'pages_note'"`)
    assert.doesNotMatch(cols.stdout, /extra/)
  })

  test('rollback returns to the previous release', LONG, async () => {
    const r = await run('rollback')
    assertOk(r)
    console.log(`rollback: ${r.seconds}s`)
    assert.match(r.output, /health check passed/)
    assert.equal(await version(), '1.0.0')
    const status = await lab.ssh('web1', `${ROOT}/bin/deploy status`)
    assert.match(status.stdout, /state=RUNNING/)
  })

  test('a second project from git (deploy key, SQLite) on the same host; both answer', LONG, async () => {
    // A git server on the host itself: user git, the deploy key authorized, a bare repository.
    const keyDir = join(work, 'deploy-key')
    execFileSync('mkdir', ['-p', keyDir])
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'shop-deploy', '-f', join(keyDir, 'id')])
    const tarball = execFileSync('tar', ['-C', appCopy(work, 'git-1.0'), '--exclude=__pycache__', '-cz', '.']).toString('base64')
    const setup = await lab.ssh('web1', [
      'set -e',
      'DEBIAN_FRONTEND=noninteractive apt-get install -y -q git >/dev/null',
      'id git >/dev/null 2>&1 || useradd -m -s /bin/sh git',
      'install -d -o git -g git -m 0700 /home/git/.ssh',
      `echo '${readFileSync(join(keyDir, 'id.pub'), 'utf8').trim()}' > /home/git/.ssh/authorized_keys`,
      'chown git:git /home/git/.ssh/authorized_keys',
      'rm -rf /tmp/src && mkdir /tmp/src && base64 -d | tar -xz -C /tmp/src',
      'cd /tmp/src && git init -q -b main && git add -A && git -c user.name=t -c user.email=t@t commit -qm v1',
      'rm -rf /home/git/shop.git && git clone -q --bare /tmp/src /home/git/shop.git && chown -R git:git /home/git/shop.git',
    ].join('\n'), { input: tarball + '\n' })
    assert.equal(setup.code, 0, setup.stderr)
    const hostKey = readFileSync(join(lab.hosts[0]!.rootfs, 'etc/ssh/ssh_host_ed25519_key.pub'), 'utf8').split(' ').slice(0, 2).join(' ')

    const shop = await lab.writeInventory({
      name: 'shop',
      vars: {
        ...commonVars(),
        project_slug: 'shop',
        public_hostnames: ['shop.test', 'www.shop.test'],
        backend_code_source: 'git',
        backend_git_repo: 'git@localhost:/home/git/shop.git',
        backend_git_version: 'main',
        backend_git_known_hosts: [`localhost ${hostKey}`],
        backend_database_engine: 'sqlite',
      },
      vault: { vault_git_deploy_key: readFileSync(join(keyDir, 'id'), 'utf8') },
    })
    const r = await run('backend', {}, shop)
    assertOk(r)
    console.log(`second project from git: ${r.seconds}s`)
    assertOk(await run('frontend', {}, shop))
    assert.equal(await version('shop.test'), 'git-1.0')
    assert.equal(await version('www.shop.test'), 'git-1.0')
    assert.equal((await get('/health/', 'shop.test')).status, 200)
    assert.equal(await version('web1.test'), '1.0.0')
    const key = await lab.ssh('web1', `stat -c '%a %U' /srv/example-org/shop/.ssh/deploy_key && ls /srv/example-org/shop/shared`)
    assert.match(key.stdout, /^600 shop$/m)
    assert.match(key.stdout, /db\.sqlite3/)

    const again = await run('backend', {}, shop)
    assertOk(again)
    assert.equal(again.recap.web1?.changed, 0, again.output.slice(-3000))
  })
})

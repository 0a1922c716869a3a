// The backend role on a booted host: the example app deployed from an archive and from git, behind
// the frontend role's nginx (plain HTTP: TLS has its own tests), redeployed under continuous load with no
// failed request (pages and the static files of both releases), broken releases refused while the old one
// keeps serving (a migrated database restored from its dump), rollback, idempotence, and no path from the
// app user's directories to a root write.
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { connect } from 'node:net'
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { PLAIN_SITE_VARS, startLab, type Lab, type PlaybookResult } from '../../src/lab/index.ts'
import { checkVaultKey } from '../../src/core/vault-read.ts'
import { addExtraField, appCopy as copyApp } from '../support/app.ts'
import { get as httpGet } from '../support/http.ts'
import { PAGE_LOAD, startHey, stylesheetOf, watchPages } from '../support/load.ts'
import { resetMidSwitch } from '../support/reset.ts'

const repoRoot = fileURLToPath(new URL('../..', import.meta.url))
const ROOT = '/srv/example-org/example'
const LONG = { timeout: 20 * 60_000 }
/** Where a vault value may be written on the server: the project's own 0600 settings. */
/** The only files that hold vault values, with their mode and owner (settings.ini: root:<project> 0640). */
const SECRET_HOLDERS: Record<string, { mode: string; owner: string }> = { [`${ROOT}/etc/settings.ini`]: { mode: '640', owner: 'root' } }

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
/** A copy of the example app at `version`; each version's stylesheet has its own hashed name (site.<md5>.css). */
const appCopy = (dir: string, version: string, edit?: (app: string) => void) => copyApp(join(repoRoot, 'app'), dir, version, (app) => {
  appendFileSync(join(app, 'pages/static/pages/site.css'), `/* version ${version} */\n`)
  edit?.(app)
})

/**
 * An upload in flight through nginx whose body never ends (a byte every 5 s, within nginx's
 * client_body_timeout): the nginx worker reading it outlives a graceful reload, so a switch waits in
 * its drain (nginx on the new colour already, `current` and the live colour not yet moved) until
 * `stop()` or backend_drain_timeout.
 */
function holdUpload(address: string, host: string): { stop: () => void } {
  const sock = connect({ host: address, port: 80 })
  sock.on('error', () => {})
  sock.write(`POST /upload/ HTTP/1.1\r\nHost: ${host}\r\nContent-Type: application/octet-stream\r\nContent-Length: 1000000\r\n\r\nx`)
  const trickle = setInterval(() => sock.write('x'), 5000)
  return { stop: () => { clearInterval(trickle); sock.destroy() } }
}

describe('backend role', () => {
  let lab: Lab
  let inventory: string
  let address: string
  let work: string
  const releases = async () => (await lab.ssh('web1', `ls -1 ${ROOT}/releases`)).stdout.trim().split('\n').filter(Boolean)

  /** GET through nginx from this machine, with the Host header nginx answers. */
  const get = (path: string, host = 'web1.test') => httpGet(`http://${address}${path}`, host, 30_000)
  const version = async (host = 'web1.test') => (await get('/', host)).body.match(/id="version">([^<]*)</)?.[1]


  const run = async (playbook: string, extraVars: Record<string, unknown> = {}, inv = inventory, tags?: string[]): Promise<PlaybookResult & { seconds: number }> => {
    const t0 = Date.now()
    const r = await lab.runPlaybook(playbook, { inventory: inv, extraVars, tags })
    return { ...r, seconds: Math.round((Date.now() - t0) / 1000) }
  }
  /** Both projects' inventories: root on port 22 (bootstrap is not part of this test), Debian's Python, plain HTTP. */
  const commonVars = () => ({
    ...lab.rootLogin,
    ...PLAIN_SITE_VARS,
    backend_gunicorn_workers: 2,
  })
  const assertOk = (r: PlaybookResult) => assert.equal(r.code, 0, r.output.slice(-4000))

  /** Deploys `app` under load; returns the playbook result and what the clients saw. */
  async function deployUnderLoad(app: string, extraVars: Record<string, unknown> = {}) {
    const load = startHey({ url: `http://${address}/`, host: 'web1.test', ...PAGE_LOAD })
    await new Promise((r) => setTimeout(r, 2000))
    const result = await run('backend', { backend_archive_src: app, ...extraVars })
    await new Promise((r) => setTimeout(r, 2000))
    const seen = await load.stop()
    console.log(`deploy ${app.split('/').pop()}: exit ${result.code} in ${result.seconds}s; ${seen.requests} requests, ${seen.failed} failed`)
    return { result, seen }
  }
  const sql = async (query: string) => (await lab.ssh('web1', `runuser -u postgres -- psql -tA -d example -c "${query}"`)).stdout.trim()
  const noteColumns = () => sql("SELECT column_name FROM information_schema.columns WHERE table_name = 'pages_note' ORDER BY 1")
  /** The live release's code writes a Note: it works on the database's schema. */
  const liveWritesNote = async () => lab.ssh('web1',
    `/usr/local/bin/example-ctl shell -c "from pages.models import Note; print(Note.objects.create(text='written by the live release').pk)"`)

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
      const expected = SECRET_HOLDERS[h.file!]
      assert.ok(expected, `a vault value written to ${h.file}`)
      assert.deepEqual({ mode: h.mode, owner: h.owner }, expected, `${h.file} holds secrets`)
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

  test('root writes only in root-owned directories; sockets 0660 for nginx only; logrotate -d is clean', LONG, async () => {
    const st = await lab.ssh('web1', [
      `stat -c '%n %a %U %G' ${ROOT} ${ROOT}/run ${ROOT}/run/* ${ROOT}/bin ${ROOT}/etc ${ROOT}/sockets ${ROOT}/sockets/*.sock`,
      `stat -c '%n %a %U %G' /var/log/example-org/example /var/log/example-org/example/*.log /var/log/example-org/example/app`,
    ].join('; '))
    const modes = Object.fromEntries(st.stdout.trim().split('\n').map((l) => { const [n, ...m] = l.split(' '); return [n!, m.join(' ')] }))
    for (const dir of [ROOT, `${ROOT}/run`, `${ROOT}/bin`, `${ROOT}/etc`]) assert.equal(modes[dir], '755 root root', dir)
    for (const [n, m] of Object.entries(modes)) if (n.startsWith(`${ROOT}/run/`)) assert.match(m, / root root$/, n)
    assert.equal(modes[`${ROOT}/sockets`], '2750 example www-data')
    const sockets = Object.entries(modes).filter(([n]) => n.endsWith('.sock'))
    assert.ok(sockets.length > 0, st.stdout)
    for (const [n, m] of sockets) assert.equal(m, '660 example www-data', n)
    assert.equal(modes['/var/log/example-org/example'], '750 root example')
    assert.match(modes['/var/log/example-org/example/gunicorn-blue.log'] ?? '', / root root$/)
    assert.equal(modes['/var/log/example-org/example/app'], '750 example example')
    // nginx's group reaches the app; any other local user does not (no forged X-Forwarded-Proto).
    const sock = sockets[0]![0]
    const viaNginx = await lab.ssh('web1', `runuser -u www-data -- curl -s -o /dev/null -w '%{http_code}' --unix-socket ${sock} -H 'Host: web1.test' http://localhost/health/`)
    assert.equal(viaNginx.stdout, '200')
    const viaNobody = await lab.ssh('web1', `runuser -u nobody -- curl -sS --unix-socket ${sock} -H 'Host: web1.test' http://localhost/health/`)
    assert.notEqual(viaNobody.code, 0)
    assert.match(viaNobody.stderr, /Permission denied|Couldn't connect/)
    const lr = await lab.ssh('web1', 'logrotate -d /etc/logrotate.conf')
    assert.equal(lr.code, 0, lr.stderr.slice(-2000))
    assert.doesNotMatch(lr.stderr, /duplicate log entry/)
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

  test('settings.ini is root-owned, readable by the project\'s group only; backups run daily by cron', LONG, async () => {
    const st = await lab.ssh('web1', `stat -c '%a %U %G' ${ROOT}/etc/settings.ini`)
    assert.equal(st.stdout.trim(), '640 root example')
    const mine = await lab.ssh('web1', `runuser -u example -- head -c0 ${ROOT}/etc/settings.ini`)
    assert.equal(mine.code, 0, mine.stderr)
    const other = await lab.ssh('web1', `runuser -u nobody -- cat ${ROOT}/etc/settings.ini`)
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

  test('a new version deployed under load: no failed request for pages or either release\'s static files', LONG, async () => {
    const oldCss = stylesheetOf((await get('/')).body)
    assert.ok(oldCss, 'the page names its hashed stylesheet')
    const assets = startHey({ url: `http://${address}${oldCss}`, host: 'web1.test', concurrency: 4, qps: 25 })
    const pages = watchPages(get)
    const { result, seen } = await deployUnderLoad(appCopy(work, '2.0.0'))
    const [old, watched] = [await assets.stop(), await pages.stop()]
    console.log(`static during the deploy: ${old.requests} requests of the old stylesheet, ${old.failed} failed; ` +
      `${watched.pages} pages with their stylesheet, ${watched.failed.length} failed`)
    assertOk(result)
    assert.ok(seen.requests > 0, seen.report)
    assert.equal(seen.failed, 0, seen.report)
    assert.ok(old.requests > 0, old.report)
    assert.equal(old.failed, 0, old.report)
    assert.deepEqual(watched.failed, [])
    assert.deepEqual([...watched.versions].sort(), ['1.0.0', '2.0.0'], 'pages of both releases were watched')
    assert.equal(await version(), '2.0.0')
    const newCss = stylesheetOf((await get('/')).body)
    assert.notEqual(newCss, oldCss)
    assert.equal((await get(oldCss)).status, 200, 'the old release\'s assets stay while it is kept')
    assert.equal((await releases()).length, 2)
    // The venv reused and no build hook: the release built, sealed, checked and its migrations
    // classified in one call (bin/build release), the steps one by one skipped.
    assert.match(result.output, /sealed and checked in one step\] \**\nchanged/)
    assert.doesNotMatch(result.output, /The new release directory holds the code\] \**\nchanged/)
    assert.doesNotMatch(result.output, /pending migrations are listed and classified \(read-only\)\] \**\nok/)
  })

  test('a release that cannot start (import error) is refused under load; the old one keeps serving', LONG, async () => {
    const before = await releases()
    const broken = appCopy(work, '3.0.0-import-error', (app) => {
      appendFileSync(join(app, 'example_project/wsgi.py'), 'import module_that_does_not_exist  # noqa\n')
    })
    const { result, seen } = await deployUnderLoad(broken)
    assert.notEqual(result.code, 0)
    assert.match(result.output, /was not deployed: .*(cannot import backend_settings_module|crashed at start|failed its health check)/)
    assert.match(result.output, /The previous release keeps serving/)
    assert.equal(seen.failed, 0, seen.report)
    assert.ok(seen.requests > 0)
    assert.equal(await version(), '2.0.0')
    assert.deepEqual(await releases(), before, 'the failed release is removed')
  })

  test('a release whose migration fails is refused under load; the old one keeps serving', LONG, async () => {
    const broken = appCopy(work, '4.0.0-bad-migration', (app) => addExtraField(app, true))
    // Its RunPython is breaking for the classifier: allow keeps the zero-downtime path this test is about.
    const { result, seen } = await deployUnderLoad(broken, { backend_breaking_migrations: 'allow' })
    assert.notEqual(result.code, 0)
    assert.match(result.output, /was not deployed: task \\?"The database is migrated by the release\\?" failed/)
    assert.match(result.output, /this migration fails on purpose/)
    assert.equal(seen.failed, 0, seen.report)
    assert.equal(await version(), '2.0.0')
    // PostgreSQL rolled the migration back: the old schema is intact.
    const cols = await lab.ssh('web1', `runuser -u postgres -- psql -tA -d example -c "SELECT column_name FROM information_schema.columns WHERE table_name = 'pages_note'"`)
    assert.doesNotMatch(cols.stdout, /extra/)
  })

  test('a release whose migration succeeds and whose health check fails: the database is restored, the old release serves and writes', LONG, async () => {
    const before = await releases()
    const unhealthy = appCopy(work, '4.5.0-migrated-unhealthy', (app) => {
      addExtraField(app)
      const views = join(app, 'pages/views.py')
      writeFileSync(views, readFileSync(views, 'utf8').replace(
        'return HttpResponse(f"ok {VERSION}\\n", content_type="text/plain")',
        'return HttpResponse("not ready\\n", status=503, content_type="text/plain")'))
    })
    assert.match(readFileSync(join(unhealthy, 'pages/views.py'), 'utf8'), /not ready/)
    const { result, seen } = await deployUnderLoad(unhealthy, { backend_health_timeout: 30 })
    assert.notEqual(result.code, 0)
    assert.match(result.output, /The database is dumped into the release before it migrates\] \**\nchanged/)
    assert.match(result.output, /failed its health check \(http:\/\/localhost\/health\/ with Host web1\.test answered 503/)
    assert.match(result.output, /The database was restored from the dump taken before the migration/)
    assert.equal(seen.failed, 0, seen.report)
    assert.equal(await version(), '2.0.0')
    assert.doesNotMatch(await noteColumns(), /extra/)
    assert.equal(await sql("SELECT count(*) FROM django_migrations WHERE app = 'pages' AND name = '0002_extra'"), '0')
    const write = await liveWritesNote()
    assert.equal(write.code, 0, write.stderr)
    assert.match((await get('/')).body, /written by the live release/)
    assert.deepEqual(await releases(), before, 'the failed release is removed')
  })

  test('check --deploy: warnings fail the deploy on request; over TLS the example app has none', LONG, async () => {
    const r = await run('backend', { backend_archive_src: appCopy(work, '4.6.0-warned'), backend_check_deploy_fail_on_warnings: true })
    assert.notEqual(r.code, 0)
    assert.match(r.output, /check --deploy reported warnings .* backend_check_deploy_fail_on_warnings is true/)
    assert.equal(await version(), '2.0.0')
    // The live release's settings with https = true (as nginx serves it over TLS): no warning at all.
    const tls = await lab.ssh('web1', [
      'set -e',
      `install -o root -g example -m 0640 ${ROOT}/etc/settings.ini /tmp/tls-settings.ini`,
      "sed -i 's/^https = .*/https = true/' /tmp/tls-settings.ini",
      `cd ${ROOT}/current && runuser -u example -- env DJANGO_SETTINGS_MODULE=example_project.settings DJANGO_SETTINGS_INI=/tmp/tls-settings.ini ` +
        'venv/bin/python manage.py check --deploy --fail-level WARNING',
    ].join('\n'))
    assert.equal(tls.code, 0, tls.stdout + tls.stderr)
    assert.match(tls.stdout, /System check identified no issues/)
  })

  test('symlinks planted by the app user in each of its directories never make root write outside its tree', LONG, async () => {
    // Every name root creates, opens, rotates or follows (today or in the layout before), in every
    // directory the app user owns, pointing at a missing file (a write creates it) or at a root file.
    const names = ['deploy.lock', 'deploy.lock.pid', 'deploy.lock.since', 'live', 'live.tmp', 'blue.on', 'green.on',
      '.blue.tmp', '.green.tmp', '.current.tmp', 'current', 'blue', 'green', 'nginx-upstream.conf', 'nginx-upstream.conf.tmp',
      'gunicorn-blue.log', 'gunicorn-green.log', 'gunicorn-blue.log.1', 'settings.ini', 'deploy.env', 'code.tar.gz',
      'backup.log', 'backup.log.1', 'backup.log.1.gz', 'backup.log.2.gz', '.pre-migrate.dump', 'requirements.txt']
    const plant = await lab.ssh('web1', [
      'set -e',
      'printf intact > /etc/victim && chmod 0644 /etc/victim && rm -f /etc/pwned',
      "find / -xdev \\( -path /proc -o -path /sys -o -path /dev \\) -prune -o -type d -user example -print > /tmp/app-dirs",
      `runuser -u example -- sh -c 'i=0; while read -r d; do i=$((i + 1)); t=/etc/pwned; [ $((i % 2)) = 0 ] && t=/etc/victim
         for n in ${names.join(' ')}; do [ -e "$d/$n" ] || [ -L "$d/$n" ] || ln -s "$t" "$d/$n" 2>/dev/null || true; done
       done' < /tmp/app-dirs`,
      'echo "$(wc -l < /tmp/app-dirs) directories, $(find / -xdev -user example -type l \\( -lname /etc/pwned -o -lname /etc/victim \\) | wc -l) symlinks"',
    ].join('\n'))
    assert.equal(plant.code, 0, plant.stderr)
    console.log(`planted: ${plant.stdout.trim()}`)
    const dirs = (await lab.ssh('web1', 'cat /tmp/app-dirs')).stdout
    for (const d of [`${ROOT}/shared/media`, `${ROOT}/shared/backups`, `${ROOT}/sockets`, '/var/log/example-org/example/app'])
      assert.match(dirs, new RegExp(`^${d}$`, 'm'))

    // A deploy with a migration (dump, switch, prune), a restart through a settings change (the
    // handler, with the tags the action passes), logrotate forced, the cron's backup job.
    // The project's hooks: a task file before the build (then the build's steps run one by one) and
    // before the switch, a manage.py command after the migration.
    const beforeBuild = join(work, 'before-build.yml')
    writeFileSync(beforeBuild, '- name: The project\'s hook sees the release before its build\n  ansible.builtin.debug:\n    msg: "building {{ backend_release_dir }}"\n')
    const hook = join(work, 'before-switch.yml')
    writeFileSync(hook, [
      '- name: The project\'s hook marks the release',
      '  ansible.builtin.copy:',
      '    content: "{{ backend_release_dir }}\\n"',
      '    dest: "{{ backend_release_dir }}/hook-before-switch"',
      '    mode: "0644"',
      '',
    ].join('\n'))
    const migrated = await run('backend', {
      backend_archive_src: appCopy(work, '5.0.0', addExtraField),
      backend_before_build_tasks: beforeBuild,
      backend_before_switch_tasks: hook,
      backend_after_migrate_commands: ['showmigrations pages'],
    })
    assertOk(migrated)
    assert.match(migrated.output, /The project's hook sees the release before its build/)
    assert.match(migrated.output, /The new release directory holds the code\] \**\nchanged/)
    assert.match(migrated.output, /pending migrations are listed and classified \(read-only\)\] \**\nok/)
    assert.match(migrated.output, /The database is dumped into the release before it migrates\] \**\nchanged/)
    assert.match(migrated.output, /The project's hook marks the release/)
    assert.match(migrated.output, /changed: \[web1\] => \(item=showmigrations pages\)/, 'the after_migrate command ran')
    assert.equal(await version(), '5.0.0')
    const marked = await lab.ssh('web1', `cat ${ROOT}/current/hook-before-switch; readlink -f ${ROOT}/current`)
    const [markedRelease, live] = marked.stdout.trim().split('\n')
    assert.equal(markedRelease, live)
    const settings = await run('backend', { backend_settings_extra: { site: { motd: 'hello' } } }, inventory, ['backend_settings'])
    assertOk(settings)
    assert.equal(settings.recap.web1?.changed, 2, settings.output.slice(-3000)) // settings.ini, then the restart
    assert.match(settings.output, /The live release restarts without downtime/)
    assert.doesNotMatch(settings.output, /The code to deploy is on the server/, 'the tag runs the settings only')
    assert.equal(await version(), '5.0.0')
    const job = (await lab.ssh('web1', 'crontab -u example -l')).stdout.match(/^17 3 \* \* \* (.*)$/m)?.[1]
    assert.ok(job)
    const chores = await lab.ssh('web1', [
      'logrotate -f /etc/logrotate.d/example-org-example || true',
      `runuser -u example -- sh -c '${job}' || true`,
      `${ROOT}/bin/deploy restart 60`,
    ].join('\n'))
    assert.match(chores.stdout, /live: example-/, chores.stderr)

    const after = await lab.ssh('web1', "test ! -e /etc/pwned && echo no-pwned; cat /etc/victim; echo; stat -c '%a %U %G' /etc/victim")
    assert.equal(after.stdout.trim(), 'no-pwned\nintact\n644 root root')
    const clean = await lab.ssh('web1', 'find / -xdev -user example -type l \\( -lname /etc/pwned -o -lname /etc/victim \\) -delete; rm -f /etc/victim')
    assert.equal(clean.code, 0, clean.stderr)
  })

  test('rollback from a release that migrated: refused, then with its dump restored; the previous release serves and writes', LONG, async () => {
    const refused = await run('rollback')
    assert.notEqual(refused.code, 0)
    assert.match(refused.output, /migrated the database; the previous release may not work on\s+that schema\. Nothing changed/)
    assert.equal(await version(), '5.0.0')
    assert.match(await noteColumns(), /extra/)

    const r = await run('rollback', { backend_rollback_restore_database: true })
    assertOk(r)
    console.log(`rollback with the database restored: ${r.seconds}s`)
    assert.match(r.output, /health check passed/)
    assert.equal(await version(), '2.0.0')
    assert.doesNotMatch(await noteColumns(), /extra/)
    const write = await liveWritesNote()
    assert.equal(write.code, 0, write.stderr)
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
    assert.equal(await version('web1.test'), '2.0.0')
    const key = await lab.ssh('web1', `stat -c '%a %U' /srv/example-org/shop/git/.ssh/deploy_key && ls /srv/example-org/shop/shared/sqlite`)
    assert.match(key.stdout, /^600 root$/m)
    assert.match(key.stdout, /db\.sqlite3/)

    const again = await run('backend', {}, shop)
    assertOk(again)
    assert.equal(again.recap.web1?.changed, 0, again.output.slice(-3000))
  })

  test('a host reset in the middle of its switch comes back serving the live release alone; the next deploy takes the lock over and goes live', LONG, async () => {
    const t0 = Date.now()
    const status = async () => (await lab.ssh('web1', `${ROOT}/bin/deploy status`)).stdout.trim()
    const before = /^live=(\w+) state=RUNNING release=(\S+)$/.exec(await status())
    assert.ok(before, 'a release is live before the deploy')
    const [, live, liveRelease] = before
    const liveVersion = await version()
    const idle = live === 'blue' ? 'green' : 'blue'
    const bootId = async () => (await lab.ssh('web1', 'cat /proc/sys/kernel/random/boot_id', { timeoutMs: 10_000 })).stdout.trim()
    const firstBoot = await bootId()

    // The deploy of a new version, held in its switch's drain by an upload in flight. On the host, a
    // watcher resets it (no service stopped, as on a power loss or a crash) the moment nginx's upstream
    // names the new colour while the live colour is still the old one: the switch's records are half
    // written then (the new colour's flag and nginx's upstream, not yet `current` nor run/live). It
    // gives up when the deploy releases its lock or the live colour changes first.
    const upload = holdUpload(address, 'web1.test')
    const app = appCopy(work, '6.0.0-reboot')
    const watcher = resetMidSwitch(ROOT, live!, idle)
    const deploy = run('backend', { backend_archive_src: app })
    let cut: Awaited<typeof deploy>
    try {
      const reset = await lab.ssh('web1', watcher, { timeoutMs: 20 * 60_000 })
      assert.match(reset.stdout, /switching: reset/, `${reset.stdout}${reset.stderr}`)
      cut = await deploy
    } finally {
      // Held until the deploy ended: released before the reset took the host down, it would let the switch finish.
      upload.stop()
    }
    assert.notEqual(cut.code, 0, `the deploy the reset cut short fails: ${cut.output.slice(-3000)}`)

    // Back: booted anew, the site answers (supervisord started its gunicorn).
    const end = Date.now() + 120_000
    let back = false
    while (!back && Date.now() < end) {
      const r = await lab.ssh('web1', 'systemctl is-system-running --wait; cat /proc/sys/kernel/random/boot_id', { timeoutMs: 30_000 })
      back = r.code !== 255 && !r.stdout.trim().endsWith(firstBoot)
      if (back) back = await get('/health/').then((a) => a.status === 200, () => false)
      if (!back) await new Promise((r) => setTimeout(r, 500))
    }
    assert.ok(back, 'web1 came back from the reset and answers through nginx')
    assert.notEqual(await bootId(), firstBoot)

    // One release serves, the live one: nginx, `current`, the live colour and supervisord agree.
    assert.equal(await version(), liveVersion)
    assert.equal(await status(), `live=${live} state=RUNNING release=${liveRelease}`)
    const state = await lab.ssh('web1', [
      `cat ${ROOT}/nginx-upstream.conf`,
      "supervisorctl status | awk '$1 ~ /^example-/ && $2 == \"RUNNING\" { print \"running:\", $1 }'",
      `ls ${ROOT}/run`,
      'journalctl -b -t example-deploy --no-pager -o cat',
    ].join('; '))
    assert.match(state.stdout, new RegExp(`unix:${ROOT}/sockets/${live}\\.sock`))
    assert.deepEqual(state.stdout.match(/^running: .*$/gm), [`running: example-${live}`])
    assert.doesNotMatch(state.stdout, new RegExp(`^${idle}\\.on$`, 'm'))
    const cutRelease = new RegExp(`boot: example-${idle} stays stopped: the switch to its release (\\S+) did not finish`).exec(state.stdout)?.[1]
    assert.ok(cutRelease, state.stdout)
    assert.match(state.stdout, new RegExp(`boot: nginx's upstream names the live colour example-${live} again`))

    // The deploy again: the lock the reset left taken over at once, the new version live, and a
    // rollback would never go to the release whose switch the reset cut short.
    const again = await run('backend', { backend_archive_src: app })
    assertOk(again)
    assert.match(again.output, /took over the stale deploy lock held since \S+ by a deploy that a reboot ended/)
    assert.equal(await version(), '6.0.0-reboot')
    assert.notEqual((await lab.ssh('web1', `basename "$(${ROOT}/bin/deploy previous)"`)).stdout.trim(), cutRelease)
    console.log(`reset mid-switch: the cut-short deploy ${cut.seconds}s, the deploy again ${again.seconds}s, the scenario ${Math.round((Date.now() - t0) / 1000)}s`)
  })
})

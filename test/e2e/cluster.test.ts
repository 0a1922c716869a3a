// Several servers, one site: a load balancer, two app servers and a database server of its own
// (inventory groups loadbalancers, appservers, dbservers), from fresh hosts through the four
// playbooks. Booted once; the scenarios share the hosts. PostgreSQL runs on the database server only,
// listens on its private address, and answers the app servers only (pg_hba and base's firewall); the
// site answers through the load balancer, from both app servers, with its data in that database; the
// app servers' web ports answer the load balancer only, which takes a failing one out; a second run
// changes nothing. The uploads live in a bucket (the lab's s3rver stands in for S3): a file uploaded
// through the site is stored there and served by every app server. The off-site backup of the
// database is taken and uploaded on the database server, and a restore runs there. A third app server
// added to the inventory joins by the deploy workflow's dispatch of bootstrap, and leaves drained.
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { appendFileSync, cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parse, stringify } from 'yaml'
import { PLAIN_SITE_VARS, startLab, type Lab, type PlaybookResult } from '../../src/lab/index.ts'
import { git, removeRunnerDirs, runAction, userInventory, writeTree, type StepRun } from './action-runner.ts'
import { appCopy } from '../support/app.ts'
import { assertUnchanged } from '../support/cell.ts'
import { curl } from '../support/curl.ts'
import { send } from '../support/http.ts'
import { PAGE_LOAD, startHey, stylesheetOf, versionOf, watchPages } from '../support/load.ts'
import { resetMidSwitch } from '../support/reset.ts'
import { actionInputs, type Contexts } from '../support/workflow-inputs.ts'
import { BUCKET, MEDIA_BUCKET, mediaStorage, offsiteBackup, startS3, type S3Server } from '../support/s3.ts'

const LONG = { timeout: 40 * 60_000 }
const SSH_PORT = 2222
const NAME = 'cluster.test'
const PG_PORT = 5432
/** The layout: one load balancer, two app servers, one database server. */
const LB = 'lb1'
const APPS = ['app1', 'app2']
const DB = 'db1'
const HOSTS = [LB, ...APPS, DB]
const GROUPS = { loadbalancers: [LB], appservers: APPS, dbservers: [DB] }
/** Booted with the others, out of the inventory until it joins by a dispatch of bootstrap (the last scenarios). */
const JOINER = 'app3'
const SITE = 'example-org-example'
const S3_PORT = 4571
const ROOT = '/srv/example-org/example'
const BACKUP_UNIT = 'django-deploy-backup-example-org-example'
/** The app servers and the database server this file boots (by name, whatever their number). */
const appServers = () => HOSTS.filter((h) => h.startsWith('app'))
const dbServer = () => HOSTS.find((h) => h.startsWith('db'))!
/** Where this machine reaches the site: the load balancer, else the (one) app server. */
const entry = () => HOSTS.find((h) => h.startsWith('lb')) ?? appServers()[0]!

/**
 * Sets the inventory's app servers (hosts.yml in `inventory`): `apps` in appservers, with their
 * addresses under webservers; a lab host of the file left out is in no group (the layout would refuse it).
 */
function setAppServers(inventory: string, apps: string[], addresses: Record<string, string> = {}): void {
  const file = join(inventory, 'hosts.yml')
  const doc = parse(readFileSync(file, 'utf8')) as { all: { children: { webservers: { hosts: Record<string, unknown>; children: { appservers: { hosts: Record<string, unknown> } } } } } }
  const web = doc.all.children.webservers
  for (const name of Object.keys(web.hosts)) if (name.startsWith('app') && !apps.includes(name)) delete web.hosts[name]
  for (const name of apps) web.hosts[name] ??= { ansible_host: addresses[name] }
  web.children.appservers.hosts = Object.fromEntries(apps.map((a) => [a, {}]))
  writeFileSync(file, stringify(doc))
}

describe('cluster: a load balancer, two app servers and a database server, from fresh hosts', () => {
  let lab: Lab
  let inventory: string
  let s3: S3Server | undefined
  let work: string
  const address = (name: string) => lab.hosts.find((h) => h.name === name)!.address

  /** A command as the deploy user on the new SSH port (root cannot log in any more). */
  async function on(host: string, cmd: string, timeoutMs?: number): Promise<{ code: number; stdout: string; stderr: string }> {
    return lab.ssh(host, cmd, { user: 'deploy', port: SSH_PORT, key: lab.keys.deploy, timeoutMs })
  }

  async function playbook(name: string): Promise<PlaybookResult> {
    const started = Date.now()
    const r = await lab.runPlaybook(name, { inventory })
    process.stdout.write(`# ${name}: ${((Date.now() - started) / 1000).toFixed(0)} s, ${HOSTS.map((h) => `${h} ${JSON.stringify(r.recap[h])}`).join(', ')}\n`)
    // Each host's failure first: with four hosts the output's tail may be another host's tasks.
    const failures = r.result.failures.map((f) => `${f.host}: ${f.task}: ${f.message}`).join('\n')
    assert.equal(r.code, 0, `${failures}\n${r.output.slice(-3000)}`)
    return r
  }

  before(async () => {
    lab = await startLab({ hosts: [...HOSTS, JOINER] })
    work = mkdtempSync(join(tmpdir(), 'cluster-test-'))
    s3 = await startS3(lab.hosts[0]!.gateway, S3_PORT, work, [MEDIA_BUCKET, BUCKET])
    const media = mediaStorage(s3.endpoint, PLAIN_SITE_VARS.backend_packages_extra)
    execFileSync('age-keygen', ['-o', join(work, 'age.key')], { stdio: 'ignore' })
    const identity = readFileSync(join(work, 'age.key'), 'utf8').split('\n').find((l) => l.startsWith('AGE-SECRET-KEY-'))!
    const offsite = offsiteBackup(s3.endpoint, execFileSync('age-keygen', ['-y', join(work, 'age.key')]).toString().trim(), identity)
    // The lab's hardening packages (src/lab/inventory.ts): four fresh hosts, and the layout is the subject.
    inventory = await lab.writeInventory({
      hardening: 'lab',
      groups: GROUPS,
      vars: { server_ssh_port: SSH_PORT, public_hostnames: [NAME], ...PLAIN_SITE_VARS, ...media.vars, ...offsite.vars },
      vault: { ...media.vault, ...offsite.vault },
    })
    setAppServers(inventory, APPS)
  }, LONG)

  after(async () => {
    await s3?.stop()
    await lab?.destroy()
    if (work) rmSync(work, { recursive: true, force: true })
  })

  test('bootstrap, base, backend and frontend run in order on fresh hosts', LONG, async () => {
    for (const name of ['bootstrap', 'base', 'backend', 'frontend']) await playbook(name)
  })

  test('PostgreSQL runs on the database server only, listening on its private address and localhost', LONG, async () => {
    const listening = await on(DB, `ss -Hltn 'sport = :${PG_PORT}'`)
    assert.equal(listening.code, 0, listening.stderr)
    const local = listening.stdout.trim().split('\n').map((l) => l.trim().split(/\s+/)[3]).sort()
    assert.deepEqual(local, [`${address(DB)}:${PG_PORT}`, `127.0.0.1:${PG_PORT}`, `[::1]:${PG_PORT}`].sort(), listening.stdout)
    const app = await on(APPS[0]!, "dpkg-query -W -f='${Status}' 'postgresql-1*' 2>/dev/null; systemctl is-active postgresql")
    assert.doesNotMatch(app.stdout, /install ok installed/, 'no PostgreSQL server on the app server')
  })

  test('the database port answers the app servers only (probes from the load balancer and this machine are dropped)', LONG, async () => {
    for (const app of APPS) {
      const fromApp = await on(app, `timeout 5 bash -c '</dev/tcp/${address(DB)}/${PG_PORT}' && echo open`)
      assert.equal(fromApp.stdout.trim(), 'open', `${app}: ${fromApp.stderr}`)
    }
    const fromLb = await on(LB, `timeout 5 bash -c '</dev/tcp/${address(DB)}/${PG_PORT}' && echo open`)
    assert.notEqual(fromLb.stdout.trim(), 'open', 'the database port from the load balancer')
    assert.equal(await lab.tcpOpen(DB, PG_PORT), false, 'the database port from this machine')
    // pg_hba names each app server's address, with SCRAM, for the project's role and database only.
    const hba = await on(DB, "sudo -n sh -c 'grep -h \"^host example example\" /etc/postgresql/*/main/pg_hba.conf'")
    assert.deepEqual(hba.stdout.trim().split('\n').sort(), APPS.map((a) => `host example example ${address(a)}/32 scram-sha-256`).sort())
    const scram = await on(DB, "sudo -n -u postgres psql -X -qtA -c \"SELECT left(rolpassword, 13) FROM pg_authid WHERE rolname = 'example'\"")
    assert.equal(scram.stdout.trim(), 'SCRAM-SHA-256')
  })

  test('the site answers through the load balancer, from both app servers, its data in the database server', LONG, async () => {
    for (let i = 0; i < 6; i++) {
      const page = await curl(`http://${NAME}/`, { address: address(LB) })
      assert.equal(page.status, 200, page.body.slice(0, 500))
      assert.match(page.body, /id="version">/)
    }
    const health = await curl(`http://${NAME}/health/`, { address: address(LB) })
    assert.equal(health.status, 200)
    // Round robin: each app server's nginx logged pages, from the client's address (the load
    // balancer's X-Forwarded-For, trusted from it alone), not the load balancer's.
    const gateway = lab.hosts[0]!.gateway
    for (const app of APPS) {
      const log = await on(app, "sudo -n grep ' \"GET / HTTP' /var/log/nginx/access.log | tail -n 1")
      assert.ok(log.stdout.startsWith(`${gateway} `), `${app} served a page, logged from the client's address: ${log.stdout}`)
    }
    const migrated = await on(DB, "sudo -n -u postgres psql -X -qtA -d example -c 'SELECT count(*) > 0 FROM django_migrations'")
    assert.equal(migrated.stdout.trim(), 't', migrated.stderr)
  })

  test("the app servers' web ports answer the load balancer only", LONG, async () => {
    for (const app of APPS) {
      assert.equal(await lab.tcpOpen(app, 80), false, `${app}:80 from this machine`)
      const fromLb = await on(LB, `timeout 5 bash -c '</dev/tcp/${address(app)}/80' && echo open`)
      assert.equal(fromLb.stdout.trim(), 'open', `${app}:80 from the load balancer: ${fromLb.stderr}`)
    }
  })

  /** The load balancer's view of the app servers (frontend-lb-check status): "app1 up\napp2 failing"… */
  const lbStatus = async () => (await on(LB, `sudo -n /usr/local/sbin/frontend-lb-check ${SITE} status`)).stdout.trim()
  /** The load balancer's view, once it settles on `want` within `timeoutMs` (its timer probes every few seconds). */
  async function lbSettles(want: string, timeoutMs = 90_000): Promise<void> {
    const deadline = Date.now() + timeoutMs
    let now = ''
    while (Date.now() < deadline && (now = await lbStatus()) !== want) await new Promise((r) => setTimeout(r, 1000))
    assert.equal(now, want, 'the load balancer\'s view of the app servers')
  }

  test('the load balancer takes an app server that fails its health check out, and back once it passes', LONG, async () => {
    assert.equal(await lbStatus(), 'app1 up\napp2 up')
    const stop = await on('app2', 'sudo -n systemctl stop nginx')
    assert.equal(stop.code, 0, stop.stderr)
    try {
      await lbSettles('app1 up\napp2 failing', 60_000)
      const upstream = await on(LB, `cat /etc/nginx/django-deploy-lb/${SITE}.upstream`)
      assert.ok(upstream.stdout.includes(`server ${address('app2')}:80 max_fails=2 fail_timeout=10s down;`), upstream.stdout)
      for (let i = 0; i < 6; i++) assert.equal((await curl(`http://${NAME}/`, { address: address(LB) })).status, 200)
    } finally {
      await on('app2', 'sudo -n systemctl start nginx')
    }
    await lbSettles('app1 up\napp2 up', 60_000)
  })

  test('a second run of backend and frontend changes nothing on any host', LONG, async () => {
    for (const name of ['backend', 'frontend']) {
      const r = await playbook(name)
      for (const h of HOSTS) assertUnchanged(r, h)
    }
  })

  // --- Uploads in a bucket shared by every app server ---

  /** A staff user of the site's admin (created through the app's shell on an app server). */
  const STAFF = { user: 'media-admin', password: `pw-${Date.now()}-media` }
  /** curl's cookie jar of the staff user's session (the site's name, whichever server answers). */
  const jar = () => join(work, 'cookies.txt')
  const cookie = (name: string) => readFileSync(jar(), 'utf8').split('\n').map((l) => l.split('\t')).find((f) => f[5] === name)?.[6] ?? ''
  /** The site through `host` (the entry: load balancer or app server), with the staff session's cookies. */
  const site = (host: string, path: string, args: string[] = []) =>
    curl(`http://${NAME}${path}`, { address: address(host), args: ['-b', jar(), '-c', jar(), ...args] })
  /** A GET answered by one app server: from the load balancer (its web port answers it alone), else from here. */
  async function fromApp(app: string, path: string): Promise<{ status: number; csp: string; body: string }> {
    if (entry() === app) {
      const r = await curl(`http://${NAME}${path}`, { address: address(app) })
      return { status: r.status, csp: r.headers['content-security-policy'] ?? '', body: r.body }
    }
    const py = ['import sys, urllib.request as u, urllib.error as e', 'try:',
      '    r = u.urlopen(u.Request(sys.argv[1], headers={"Host": sys.argv[2]}), timeout=20)',
      'except e.HTTPError as x:', '    r = x',
      'sys.stdout.write(str(r.status) + "\\n" + (r.headers.get("Content-Security-Policy") or "") + "\\n" + r.read().decode())'].join('\n')
    const r = await lab.ssh(entry(), `python3 - http://${address(app)}${path} ${NAME}`, { user: 'deploy', port: SSH_PORT, key: lab.keys.deploy, input: py })
    assert.equal(r.code, 0, r.stderr)
    const [status, csp, ...body] = r.stdout.split('\n')
    return { status: Number(status), csp: csp ?? '', body: body.join('\n') }
  }

  /** Logs the staff user in through `host` (the admin's login form and its CSRF token). */
  async function logIn(host: string): Promise<void> {
    const created = await lab.ssh(appServers()[0]!, 'sudo -n /usr/local/bin/example-ctl shell', {
      user: 'deploy', port: SSH_PORT, key: lab.keys.deploy,
      input: `from django.contrib.auth.models import User\nUser.objects.filter(username="${STAFF.user}").exists() or User.objects.create_superuser("${STAFF.user}", "ops@example.com", "${STAFF.password}")\n`,
    })
    assert.equal(created.code, 0, created.stderr)
    const form = await site(host, '/admin/login/')
    assert.equal(form.status, 200, form.body.slice(0, 300))
    const token = form.body.match(/name="csrfmiddlewaretoken" value="([^"]+)"/)?.[1]
    assert.ok(token, 'the login form has a CSRF token')
    const login = await site(host, '/admin/login/', ['--data-urlencode', `csrfmiddlewaretoken=${token}`, '--data-urlencode', `username=${STAFF.user}`,
      '--data-urlencode', `password=${STAFF.password}`, '--data-urlencode', 'next=/admin/'])
    assert.equal(login.status, 302, `the staff login: ${login.body.slice(0, 300)}`)
  }

  test('an upload through the site is stored in the bucket, not on an app server\'s disk, and served by every app server', LONG, async () => {
    const first = entry()
    await logIn(first)
    const body = `uploaded through ${first} at ${new Date().toISOString()}\n`
    const file = join(work, 'cluster-upload.txt')
    writeFileSync(file, body)
    const upload = await site(first, '/upload/', ['-F', `file=@${file};type=text/plain`, '-H', `X-CSRFToken: ${cookie('csrftoken')}`])
    assert.equal(upload.status, 201, upload.body.slice(0, 500))
    const url = upload.body.trim()
    assert.match(url, /^\/media\/uploads\/cluster-upload[A-Za-z0-9_]*\.txt$/)
    // In the bucket under the project's prefix (s3rver keeps each object as a file), not on the app server.
    const key = `example-org/example${url}`
    assert.ok(existsSync(join(work, MEDIA_BUCKET, `${key}._S3rver_object`)), `s3://${MEDIA_BUCKET}/${key}`)
    for (const host of appServers()) {
      const onDisk = await on(host, `sudo -n find ${ROOT}/shared/media -type f`)
      assert.equal(onDisk.stdout.trim(), '', `no upload on ${host}'s disk`)
      // nginx serves no media from disk: /media/ reaches the application, which reads the bucket.
      const nginx = await on(host, 'sudo -n nginx -T 2>/dev/null')
      assert.doesNotMatch(nginx.stdout, /alias \S*shared\/media/, `${host}: no media location on disk in nginx`)
    }
    // Served back by every app server (each reads the same bucket), sandboxed as nginx would.
    for (const host of appServers()) {
      const served = await fromApp(host, url)
      assert.equal(served.status, 200, `${host}: ${served.body.slice(0, 300)}`)
      assert.equal(served.body, body, host)
      assert.match(served.csp, /^sandbox/, host)
      assert.equal((await fromApp(host, '/media/uploads/missing.txt')).status, 404)
    }
    // Without a session, no upload (the staff-only view sends to the admin's login).
    const anonymous = await curl(`http://${NAME}/upload/`, { address: address(first), args: ['-F', `file=@${file}`] })
    assert.notEqual(anonymous.status, 201)
  })

  test('the bucket\'s keys are in the project\'s settings only: not on a command line nor in the journal', LONG, async () => {
    for (const host of appServers()) {
      // The media bucket's secret (s3rver's key in this lab's vault) in [media]; [backup] has its own.
      // ([R]: sudo journals the command line, which must not hold the key itself.)
      const settings = await on(host, `sudo -n stat -c '%a %U %G' ${ROOT}/etc/settings.ini && sudo -n grep -c '^s3_secret_key = S3RVE[R]$' ${ROOT}/etc/settings.ini`)
      assert.equal(settings.stdout.trim(), '640 root example\n1', `${host}: ${settings.stderr}`)
      // s3rver's fixed key is the lab vault's value: nothing logged it.
      const journal = await on(host, "sudo -n journalctl --no-pager -q | grep -c S3RVER; sudo -n sh -c 'ps -eo args | grep -c S3RVE[R]'")
      assert.equal(journal.stdout.trim(), '0\n0', `${host}: the key in the journal or a process's arguments`)
    }
  })

  // --- The off-site backup and the restore on the database server ---

  /** Notes through the app's shell on the first app server: `python` runs there with Note imported. */
  async function notes(python: string): Promise<string> {
    const r = await lab.ssh(appServers()[0]!, 'sudo -n /usr/local/bin/example-ctl shell', {
      user: 'deploy', port: SSH_PORT, key: lab.keys.deploy, input: `from pages.models import Note\n${python}\n`,
    })
    assert.equal(r.code, 0, r.stderr)
    return r.stdout.trim()
  }
  /** The backups in the bucket (s3rver keeps each object as a file under the project's prefix). */
  const backups = () => {
    try {
      return readdirSync(join(work, BUCKET, 'example-org', 'example')).filter((f) => f.endsWith('.tar.age._S3rver_object'))
    } catch { return [] }
  }

  test('the off-site backup runs on the database server: dumped and uploaded there, none on the app servers', LONG, async () => {
    const timer = await on(dbServer(), `systemctl is-enabled ${BACKUP_UNIT}.timer && systemctl is-active ${BACKUP_UNIT}.timer`)
    assert.equal(timer.stdout.trim(), 'enabled\nactive', `${dbServer()}: the daily timer`)
    for (const host of appServers()) {
      const none = await on(host, `systemctl cat ${BACKUP_UNIT}.timer >/dev/null 2>&1 && echo present || echo absent`)
      assert.equal(none.stdout.trim(), 'absent', `${host}: no off-site backup on an app server`)
    }
    await notes('Note.objects.create(text="kept by the backup")')
    const before = backups().length
    const run = await on(dbServer(), `sudo -n systemctl start ${BACKUP_UNIT}.service && sudo -n journalctl -q -u ${BACKUP_UNIT}.service -n 5 --no-pager`)
    assert.equal(run.code, 0, run.stderr + run.stdout)
    assert.match(run.stdout, /uploaded s3:\/\/backups\/example-org\/example\/\d{8}T\d{6}Z\.tar\.age/)
    assert.equal(backups().length, before + 1, 'one more backup in the bucket')
    const ini = await on(dbServer(), "sudo -n sh -c 'stat -c \"%a %U\" /etc/django-deploy/example-org-example.backup.ini; grep -E \"^(database_host|media) \" /etc/django-deploy/example-org-example.backup.ini'")
    assert.equal(ini.stdout.trim(), '600 root\ndatabase_host = localhost\nmedia =', ini.stderr)
  })

  test('the project\'s own daily backup command runs from one app server only, against the one database', LONG, async () => {
    // The inventory turns it on (backend_backup_enabled): the first app server's crontab has it, no other.
    const entries = await Promise.all(HOSTS.map(async (host) =>
      (await on(host, "sudo -n sh -c 'crontab -l -u example 2>/dev/null | grep -c \"^#Ansible: example database backup$\"'")).stdout.trim()))
    assert.deepEqual(Object.fromEntries(HOSTS.map((h, i) => [h, entries[i]])),
      Object.fromEntries(HOSTS.map((h) => [h, h === appServers()[0] ? '1' : '0'])))
  })

  test('a restore runs on the database server, once, and every app server serves the restored data', LONG, async () => {
    await notes('Note.objects.create(text="written after the backup")')
    const r = await lab.runPlaybook('restore', { inventory, extraVars: { backend_restore_force: true } })
    assert.equal(r.code, 0, r.output.slice(-4000))
    // The backup's program ran on the database server, once (Ansible shows the delegation: [app1 -> db1(address)]).
    assert.match(r.output, new RegExp(`The database and media are restored from the backup[\\s\\S]{0,600}?\\[${appServers()[0]} -> ${dbServer()}[\\](]`))
    const texts = await notes('print("|".join(Note.objects.values_list("text", flat=True)))')
    assert.match(texts, /kept by the backup/)
    assert.doesNotMatch(texts, /written after the backup/)
    for (const host of appServers()) {
      const page = await fromApp(host, '/')
      assert.equal(page.status, 200, `${host}: ${page.body.slice(0, 300)}`)
      assert.match(page.body, /kept by the backup/)
    }
  })

  // --- Rolling deploys of the backend through the load balancer ---

  /** A copy of the example app at `version`, its stylesheet renamed (hashed) with each version. */
  const release = (version: string, edit?: (app: string) => void) =>
    appCopy(fileURLToPath(new URL('../../app', import.meta.url)), work, version, (app) => {
      appendFileSync(join(app, 'pages/static/pages/site.css'), `/* version ${version} */\n`)
      edit?.(app)
    })
  const lbGet = (path: string) => send(`http://${address(LB)}${path}`, { host: NAME, timeoutMs: 30_000 })
  const releasesOn = async (app: string) => (await on(app, `ls -1 ${ROOT}/releases`)).stdout.trim()
  /** Each app server's live version, asked of it directly (from the load balancer). */
  async function versions(): Promise<Record<string, string>> {
    const seen: Record<string, string> = {}
    for (const app of APPS) {
      const page = await fromApp(app, '/')
      assert.equal(page.status, 200, `${app}: ${page.body.slice(0, 300)}`)
      seen[app] = versionOf(page.body)
    }
    return seen
  }

  /** Until stopped: through the load balancer, the home page, then the stylesheet it names. */

  /** The backend playbook with `app` as the code, under load through the load balancer: pages (hey),
   *  the live stylesheet (hey, rate-limited) and pages with the stylesheet each names. */
  async function deployUnderLoad(app: string, extraVars: Record<string, unknown> = {}, meanwhile?: () => Promise<void>) {
    const css = stylesheetOf((await lbGet('/')).body)
    assert.ok(css, 'the page names its hashed stylesheet')
    const pages = startHey({ url: `http://${address(LB)}/`, host: NAME, ...PAGE_LOAD })
    const assets = startHey({ url: `http://${address(LB)}${css}`, host: NAME, concurrency: 2, qps: 20 })
    const watched = watchPages(lbGet)
    await new Promise((r) => setTimeout(r, 2000))
    const started = Date.now()
    const run = lab.runPlaybook('backend', { inventory, extraVars: { ...extraVars, backend_archive_src: app } })
    await meanwhile?.()
    const result = await run
    const seconds = Math.round((Date.now() - started) / 1000)
    await new Promise((r) => setTimeout(r, 2000))
    const [load, static_, seen] = [await pages.stop(), await assets.stop(), await watched.stop()]
    process.stdout.write(`# backend ${app.split('/').pop()}: exit ${result.code} in ${seconds} s, ` +
      `${HOSTS.map((h) => `${h} ${JSON.stringify(result.recap[h])}`).join(', ')}; pages ${load.requests} requests, ${load.failed} failed; ` +
      `old stylesheet ${static_.requests}, ${static_.failed} failed; page + stylesheet ${seen.pages}, ${seen.failed.length} failed\n`)
    for (const l of [load, static_]) {
      assert.ok(l.requests > 0, l.report)
      assert.equal(l.failed, 0, l.report)
    }
    assert.deepEqual(seen.failed, [])
    return { result, seen }
  }
  /** No deploy lock held on the app servers (the rollout released every one). */
  async function noLockHeld() {
    for (const app of APPS) {
      const pid = await on(app, `sudo -n cat ${ROOT}/run/deploy.lock.pid 2>/dev/null || true`)
      assert.equal(pid.stdout.trim(), '', `${app}: the deploy lock is still held`)
    }
  }

  test('a rolling deploy under load through the load balancer: no failed request (pages, static files), the new version on both app servers', LONG, async () => {
    const before = await versions()
    assert.deepEqual(Object.values(before), ['1.0.0', '1.0.0'])
    const { result, seen } = await deployUnderLoad(release('2.0.0'))
    const failures = result.result.failures.map((f) => `${f.host}: ${f.task}: ${f.message}`).join('\n')
    assert.equal(result.code, 0, `${failures}\n${result.output.slice(-3000)}`)
    assert.deepEqual(await versions(), { app1: '2.0.0', app2: '2.0.0' })
    assert.ok(seen.versions.has('2.0.0'), `pages of the new release were served during the deploy: ${[...seen.versions]}`)
    // One app server at a time: out of the load balancer, switched, back in, then the next.
    // Task names as the results plugin records them: "role : name".
    const steps = result.result.tasks
      .map((t) => ({ ...t, name: t.task.replace(/^[\w-]+ : /, '') }))
      .filter((t) => t.status !== 'skipped' && /^(The app server is out of the load balancer|The release passed its health check and serves|The app server is back in the load balancer)/.test(t.name))
      .map((t) => `${t.host} ${t.name.split(' ').slice(2, 5).join(' ')}`)
    assert.deepEqual(steps.filter((x, i) => x !== steps[i - 1]), APPS.flatMap((a) => [
      `${a} server is out`, `${a} passed its health`, `${a} server is back`]), steps.join('\n'))
    // Each switch found the new release's gunicorn started beside the live one (all at once, after
    // the migration): no cold start while its app server was out of the load balancer.
    for (const app of APPS) {
      const live = /release=(\S+)$/.exec((await on(app, `sudo -n ${ROOT}/bin/deploy status`)).stdout.trim())?.[1]
      const said = (await on(app, 'sudo -n journalctl -t example-deploy --no-pager -o cat')).stdout
      assert.match(said, new RegExp(`started example-\\w+ on ${live} \\(for its switch\\)`), `${app}: ${said.slice(-1500)}`)
      assert.match(said, new RegExp(`example-\\w+ runs ${live} already \\(started before the switch\\)`), `${app}: ${said.slice(-1500)}`)
    }
    assert.equal(await lbStatus(), 'app1 up\napp2 up')
    await noLockHeld()
  })

  test('a release that fails its health check on the first app server: the rollout stops there, the second keeps the old release, nothing fails', LONG, async () => {
    const app2Releases = await releasesOn('app2')
    const stoppedOnApp2 = async () => ((await on('app2', 'sudo -n journalctl -t example-deploy --no-pager -o cat')).stdout
      .match(/^stopped example-\w+, which ran \S+$/gm) ?? []).length
    const stoppedBefore = await stoppedOnApp2()
    const unhealthy = release('3.0.0-unhealthy', (app) => {
      const views = join(app, 'pages/views.py')
      writeFileSync(views, readFileSync(views, 'utf8').replace(
        'return HttpResponse(f"ok {VERSION}\\n", content_type="text/plain")',
        'return HttpResponse("not ready\\n", status=503, content_type="text/plain")'))
      assert.match(readFileSync(views, 'utf8'), /not ready/)
    })
    // Its health check fails for as long as it is given: 10 s, not the default minute, are enough to fail it.
    const { result } = await deployUnderLoad(unhealthy, { backend_health_timeout: 10 })
    assert.notEqual(result.code, 0)
    // The run's failures (the summary's list: the switch, then the stop it caused): on app1 alone,
    // the last naming the host that stopped the rollout and why.
    const failures = result.result.failures
    assert.deepEqual([...new Set(failures.map((f) => f.host))], ['app1'], JSON.stringify(failures))
    const stop = failures.at(-1)!.message
    assert.match(stop, /^rollout stopped at app1: task "The release passed its health check[^"]*" failed: example deploy: the new release \S+ failed its health check/, stop)
    assert.match(stop, /Not switched, still serving their live release: app2\./, stop)
    assert.equal(result.recap.app2?.failed, 0)
    assert.deepEqual(await versions(), { app1: '2.0.0', app2: '2.0.0' })
    assert.equal(await releasesOn('app2'), app2Releases, 'app2\'s new release was removed')
    assert.equal(await stoppedOnApp2(), stoppedBefore + 1, 'the gunicorn app2 had started for it stopped first')
    assert.equal(await lbStatus(), 'app1 up\napp2 up', 'app1 back in the load balancer with the release it serves')
    await noLockHeld()
  })


  test('an app server reset in the middle of its switch: the rollout stops there, nothing fails through the load balancer; it comes back serving its live release alone, and the next deploy takes both locks over and goes live', LONG, async () => {
    const status = async (app: string) => (await on(app, `sudo -n ${ROOT}/bin/deploy status`)).stdout.trim()
    const bootId = async () => (await on('app1', 'cat /proc/sys/kernel/random/boot_id')).stdout.trim()
    const before = /^live=(\w+) state=RUNNING release=(\S+)$/.exec(await status('app1'))
    assert.ok(before, 'app1 serves a release before the deploy')
    const [, live, liveRelease] = before
    const idle = live === 'blue' ? 'green' : 'blue'
    const app2Before = await status('app2')
    const liveVersions = await versions()
    const firstBoot = await bootId()

    // As in the backend role's test of a reset: a watcher on app1 resets it (no service stopped, as on a
    // power loss) the moment nginx's upstream names the new colour while the live colour is still the
    // old one. app1 is out of the load balancer then (drained for its switch); app2 serves alone.
    const watcher = resetMidSwitch(ROOT, live!, idle)
    const app = release('4.0.0-reset')
    let reset = { code: 0, stdout: '', stderr: '' }
    const { result } = await deployUnderLoad(app, {}, async () => {
      reset = await on('app1', `echo ${Buffer.from(watcher).toString('base64')} | base64 -d | sudo -n bash`, 20 * 60_000)
    })
    assert.match(reset.stdout, /switching: reset/, `${reset.stdout}${reset.stderr}`)
    assert.notEqual(result.code, 0, 'the deploy the reset cut short fails')
    assert.ok((result.recap.app1?.unreachable ?? 0) > 0, JSON.stringify(result.recap))
    assert.equal(result.recap.app2?.failed, 0)

    // Back: booted anew, app1 serves its live release alone; app2 was never switched.
    const end = Date.now() + 180_000
    let back = false
    while (!back && Date.now() < end) {
      const r = await on('app1', 'systemctl is-system-running --wait >/dev/null; cat /proc/sys/kernel/random/boot_id')
      back = r.code === 0 && r.stdout.trim() !== firstBoot && (await fromApp('app1', '/').then((p) => p.status === 200, () => false))
      if (!back) await new Promise((r) => setTimeout(r, 1000))
    }
    assert.ok(back, 'app1 came back from the reset and answers')
    assert.equal(await status('app1'), `live=${live} state=RUNNING release=${liveRelease}`)
    const journal = await on('app1', 'sudo -n journalctl -b -t example-deploy --no-pager -o cat')
    assert.match(journal.stdout, new RegExp(`boot: example-${idle} stays stopped: the switch to its release \\S+ did not finish`))
    assert.equal(await status('app2'), app2Before)
    assert.deepEqual(await versions(), liveVersions)

    // The next deploy: app1's lock, which the reset ended, and app2's, held for a switch that never
    // came (stale after a minute here, the team copy's setting below), are taken over; both go live.
    const again = await lab.runPlaybook('backend', { inventory, extraVars: { backend_archive_src: app, backend_lock_stale_after: 60 } })
    assert.equal(again.code, 0, again.output.slice(-3000))
    assert.match(again.output, /took over the stale deploy lock held since \S+ by a deploy that a reboot ended/)
    assert.match(again.output, /took over the stale deploy lock held since \S+ by a deploy that never released it/)
    assert.deepEqual(await versions(), { app1: '4.0.0-reset', app2: '4.0.0-reset' })
    await lbSettles('app1 up\napp2 up')
    await noLockHeld()
  })

  // --- The bundled action on the cluster, as a team runs it: faults during a rollout; an app server joins and leaves ---

  /** The team's copy of the repository (created by the first scenario that needs it), its commits by name. */
  let team = ''
  const commits: Record<string, string> = {}
  let lastPush = ''
  let runs = 0
  let teamSecrets: Contexts['secrets'] = {}
  const RUN_ENV = { GITHUB_SERVER_URL: 'https://github.example', GITHUB_REPOSITORY: 'team/site' }
  const TEAM_STATE = `/var/lib/django-deploy/${SITE}.json`
  const WORKFLOW = fileURLToPath(new URL('../../.github/workflows/deploy.yml', import.meta.url))
  /** The deploy workflow's inputs for an event, as GitHub evaluates them (Ansible: the system's, no PyPI here). */
  const teamInputs = (github: Contexts['github'], inputs: Contexts['inputs']) =>
    ({ ...actionInputs(WORKFLOW, { github, inputs, secrets: teamSecrets }), 'ansible-version': 'system' })

  after(() => {
    removeRunnerDirs()
    if (team) rmSync(team, { recursive: true, force: true })
  })

  /**
   * The team's copy: this repository's roles, playbooks and app, and the cluster's inventory without
   * the lab's SSH options (the action's key and known_hosts do the work). Its first commit is what
   * the cluster was deployed with, recorded on every host as the deploy state a deploy from it
   * writes (the deploy_state role's format), so that the pushes below plan from it. Made once.
   */
  async function teamCopy(): Promise<void> {
    if (team) return
    const root = fileURLToPath(new URL('../..', import.meta.url))
    team = mkdtempSync(join(tmpdir(), 'cluster-team-'))
    for (const p of ['ansible.cfg', 'README.md', 'playbooks', 'roles', 'app']) {
      cpSync(join(root, p), join(team, p), { recursive: true, filter: (src) => !src.includes('__pycache__') })
    }
    const vaultKey = userInventory(inventory, team)
    // A deploy lock left by a cancelled run is stale after a minute here (an hour by default).
    const varsFile = join(team, 'inventories/production/group_vars/all/vars.yml')
    writeFileSync(varsFile, '---\n' + stringify({ ...parse(readFileSync(varsFile, 'utf8')) as Record<string, unknown>, backend_lock_stale_after: 60 }))
    git(team, 'init', '-q', '-b', 'main')
    git(team, 'add', '-A')
    git(team, 'commit', '-qm', 'the site, as deployed')
    lastPush = 'deployed'
    commits.deployed = git(team, 'rev-parse', 'HEAD')
    const record = { commit: commits.deployed, dirty: false, finished: new Date().toISOString().replace(/\.\d+Z$/, 'Z'), run: 'https://github.example/team/site/actions/runs/0' }
    const state = JSON.stringify({ version: 1, playbooks: Object.fromEntries(['bootstrap', 'base', 'backend', 'frontend'].map((p) => [p, record])) }, null, 2)
    for (const host of HOSTS) {
      const r = await lab.ssh(host, `sudo -n install -d -m 0755 ${TEAM_STATE.replace(/\/[^/]+$/, '')} && sudo -n tee ${TEAM_STATE} >/dev/null`,
        { user: 'deploy', port: SSH_PORT, key: lab.keys.deploy, input: state + '\n' })
      assert.equal(r.code, 0, `${host}: ${r.stderr}`)
    }
    teamSecrets = {
      ANSIBLE_VAULT_KEY: vaultKey,
      SSH_PRIVATE_KEY: readFileSync(lab.keys.deploy, 'utf8'),
      SSH_KNOWN_HOSTS: readFileSync(lab.knownHosts, 'utf8'),
    }
  }

  /** Commits `tree` on the team's main and runs the action (main, then post) for that push. */
  async function push(name: string, tree: Record<string, string>, opts: { cancel?: AbortSignal } = {}): Promise<{ main: StepRun; post: StepRun }> {
    writeTree(team, tree)
    git(team, 'add', '-A')
    git(team, 'commit', '-qm', name)
    commits[name] = git(team, 'rev-parse', 'HEAD')
    const event = { name: 'push', payload: { ref: 'refs/heads/main', before: commits[lastPush], after: commits[name], forced: false, repository: { default_branch: 'main' } } }
    lastPush = name
    const started = Date.now()
    const r = await runAction(team, event, teamInputs({ event_name: 'push' }, {}), { env: { ...RUN_ENV, GITHUB_RUN_ID: String(++runs) }, ...opts })
    process.stdout.write(`# push ${name}: exit ${r.main.code}, ${r.main.outputs.playbooks || 'nothing'} in ${Math.round((Date.now() - started) / 1000)} s\n`)
    return r
  }
  /** The app at `version` (its stylesheet renamed with it, as in the releases above). */
  const appAt = (version: string) => ({
    'app/VERSION': `${version}\n`,
    'app/pages/static/pages/site.css': readFileSync(join(team, 'app/pages/static/pages/site.css'), 'utf8') + `/* version ${version} */\n`,
  })
  /** The commit each app server recorded for backend. */
  async function backendRecords(): Promise<Record<string, string>> {
    const out: Record<string, string> = {}
    for (const app of APPS) out[app] = (JSON.parse((await on(app, `cat ${TEAM_STATE}`)).stdout) as { playbooks: { backend: { commit: string } } }).playbooks.backend.commit
    return out
  }

  test('an app server unreachable during a push: the other is deployed, the run fails naming it and what it did not get; the next push catches it up', LONG, async () => {
    await teamCopy()
    const before = await versions()
    await lab.setLink('app2', false)
    let cut: { main: StepRun; post: StepRun }
    try {
      cut = await push('cut', appAt('4.0.0'))
      // app2 still cut off: the load balancer serves from app1.
      for (let i = 0; i < 6; i++) assert.equal((await lbGet('/')).status, 200)
    } finally {
      await lab.setLink('app2', true)
    }
    const { main, post } = cut
    assert.equal(main.code, 1, main.stdout.slice(-6000))
    assert.equal(post.code, 0, post.stdout)
    assert.equal(main.outputs.status, 'failure')
    assert.equal(main.outputs.playbooks, 'backend')
    const errors = main.stdout.split('\n').filter((l) => l.startsWith('::error'))
    assert.equal(errors.length, 1, errors.join('\n'))
    const error = new RegExp(`::app2 was not deployed: unreachable \\([^)]*\\): it did not get backend \\(${commits.cut!.slice(0, 7)}\\), which ran on ([^;]+); the next push deploys it once it answers$`).exec(errors[0]!)
    assert.ok(error, errors[0])
    assert.deepEqual(error[1]!.split(', ').sort(), [LB, 'app1', DB].sort())
    assert.match(main.summary, /#### Unreachable/)
    // Its only peer unreachable, app1 was not drained (that would leave the site no server): switched in place.
    assert.match(main.stdout, /app1 was not taken out: no other app server is up/)
    assert.deepEqual(await versions(), { app1: '4.0.0', app2: before.app2 })
    assert.deepEqual(await backendRecords(), { app1: commits.cut, app2: commits.deployed })
    await noLockHeld()

    const next = await push('back', { 'README.md': '# The site, its second server back\n' })
    assert.equal(next.main.code, 0, next.main.stdout.slice(-6000))
    assert.equal(next.main.outputs.playbooks, 'backend')
    assert.deepEqual(await versions(), { app1: '4.0.0', app2: '4.0.0' })
    assert.equal((await backendRecords()).app2, commits.back)
    assert.equal(await lbStatus(), 'app1 up\napp2 up')
    await noLockHeld()
  })

  test('the action cancelled mid-rollout (SIGTERM, then SIGKILL after 5 s): no failed request, every app server serving; the next push takes the stale lock over and completes the rollout', LONG, async () => {
    const css = stylesheetOf((await lbGet('/')).body)
    assert.ok(css, 'the page names its hashed stylesheet')
    const pages = startHey({ url: `http://${address(LB)}/`, host: NAME, ...PAGE_LOAD })
    const assets = startHey({ url: `http://${address(LB)}${css}`, host: NAME, concurrency: 2, qps: 20 })
    const watched = watchPages(lbGet)
    const cancel = new AbortController()
    let ended = false
    const running = push('cancelled', appAt('5.0.0'), { cancel: cancel.signal }).finally(() => { ended = true })
    // The rollout in a switch: app1 out of the load balancer (drained), its new release going live.
    const deadline = Date.now() + 30 * 60_000
    while (!ended && Date.now() < deadline && !(await lbStatus()).includes('app1 drained')) await new Promise((r) => setTimeout(r, 300))
    assert.ok(!ended, 'the run ended before app1 was drained')
    cancel.abort()
    const { main, post } = await running
    await new Promise((r) => setTimeout(r, 2000))
    const [load, static_, seen] = [await pages.stop(), await assets.stop(), await watched.stop()]
    process.stdout.write(`# cancelled: pages ${load.requests} requests, ${load.failed} failed; old stylesheet ${static_.requests}, ${static_.failed} failed; page + stylesheet ${seen.pages}, ${seen.failed.length} failed\n`)
    for (const l of [load, static_]) {
      assert.ok(l.requests > 0, l.report)
      assert.equal(l.failed, 0, l.report)
    }
    assert.deepEqual(seen.failed, [])
    assert.notEqual(main.code, 0)
    assert.equal(post.code, 0, post.stdout)
    // Every app server serves one release or the other; app1 is left drained, each holds the lock.
    for (const [app, version] of Object.entries(await versions())) assert.ok(['4.0.0', '5.0.0'].includes(version), `${app} serves ${version}`)
    assert.match(await lbStatus(), /^app1 drained$/m)
    for (const app of APPS) assert.notEqual((await on(app, `sudo -n cat ${ROOT}/run/deploy.lock.pid`)).stdout.trim(), '', `${app}: the cancelled run's lock`)

    const next = await push('resumed', { 'README.md': '# The site, after a cancelled deploy\n' })
    assert.equal(next.main.code, 0, next.main.stdout.slice(-6000))
    assert.equal(next.main.outputs.playbooks, 'backend')
    // The debug line of each app server (colours off: the action forces them on).
    const log = next.main.stdout.replace(new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, 'g'), '')
    for (const app of APPS) assert.match(log, new RegExp(`\\[${app}\\][^\\n]*\\n[^\\n]*"msg": "took over the stale deploy lock held since \\S+ by a deploy that never released it`), app)
    assert.deepEqual(await versions(), { app1: '5.0.0', app2: '5.0.0' })
    assert.equal(await lbStatus(), 'app1 up\napp2 up')
    assert.deepEqual(await backendRecords(), { app1: commits.resumed, app2: commits.resumed })
    await noLockHeld()
  })

  // The team's merges of a change of its app servers (no push deploy: [skip ci], as the README says).
  function commitAppServers(apps: string[]): void {
    setAppServers(join(team, 'inventories/production'), apps, { [JOINER]: address(JOINER) })
    git(team, 'commit', '-qam', `appservers: ${apps.join(', ')} [skip ci]`)
  }
  /** Actions → deploy → Run workflow with `playbooks` (and `limit`): the shipped workflow's inputs for a dispatch. */
  async function dispatch(playbooks: string, limit = ''): Promise<StepRun> {
    const inputs = { playbooks, environment: 'production', check: false, limit }
    const started = Date.now()
    const { main, post } = await runAction(team, { name: 'workflow_dispatch', payload: { inputs } },
      teamInputs({ event_name: 'workflow_dispatch', token: 'ghs_job' }, inputs), { env: { ...RUN_ENV, GITHUB_RUN_ID: String(++runs) } })
    process.stdout.write(`# dispatch ${playbooks}${limit ? ` (limit ${limit})` : ''}: ${main.outputs.playbooks} in ${Math.round((Date.now() - started) / 1000)} s, status ${main.outputs.status}\n`)
    assert.equal(main.code, 0, main.stdout.slice(-6000))
    assert.equal(post.code, 0, post.stdout)
    return main
  }
  /** Each host's changed count per playbook the run ran (the action's result output). */
  const changedBy = (run: StepRun) => (JSON.parse(run.outputs.result!) as { playbooks: { name: string; hosts: Record<string, { changed: number }> }[] }).playbooks
    .flatMap((p) => Object.entries(p.hosts).map(([h, r]) => `${p.name} ${h} ${r.changed}`))
  const dbPortFrom = async (host: string) => (await on(host, `timeout 5 bash -c '</dev/tcp/${address(DB)}/${PG_PORT}' && echo open || echo closed`)).stdout.trim()

  test('a third app server added to the inventory joins by a dispatch of bootstrap: the live release, the database, the load balancer once healthy', LONG, async () => {
    await teamCopy()
    // The team's code is what the app servers serve (the pushes above deployed it).
    const live = readFileSync(join(team, 'app/VERSION'), 'utf8').trim()
    assert.equal(versionOf((await fromApp(APPS[0]!, '/')).body), live)
    const releasesBefore = await Promise.all(APPS.map(releasesOn))
    // README: its initial root login accepts CI's deploy key (the provider's console).
    assert.equal((await lab.ssh(JOINER, 'cat >> /root/.ssh/authorized_keys', { input: readFileSync(`${lab.keys.deploy}.pub`, 'utf8') })).code, 0)
    commitAppServers([...APPS, JOINER])

    // The inventory changed since every host's records (a push would run every playbook): no other
    // release for all that, so the join goes ahead.
    const run = await dispatch('bootstrap')
    assert.equal(run.outputs.playbooks, 'bootstrap,base,backend,frontend')
    assert.match(run.stdout, new RegExp(`${JOINER} joins \\(no record from this copy\\)`))
    // The others kept their release; the new one built the same revision.
    assert.deepEqual(await Promise.all(APPS.map(releasesOn)), releasesBefore)
    const revision = async (h: string) => (await on(h, `sudo -n ${ROOT}/bin/deploy live | head -n 1`)).stdout.trim()
    assert.match(await revision(JOINER), /^archive-[0-9a-f]{64}$/)
    assert.equal(await revision(JOINER), await revision(APPS[0]!))

    await lbSettles([...APPS, JOINER].map((a) => `${a} up`).join('\n'))
    const direct = await fromApp(JOINER, '/')
    assert.equal(direct.status, 200, direct.body.slice(0, 300))
    assert.equal(versionOf(direct.body), live)
    // Through the load balancer: the same version from every page, some of them answered by the new server.
    const served = async () => Number((await on(JOINER, "sudo -n grep -c ' \"GET / HTTP' /var/log/nginx/access.log")).stdout.trim())
    const before = await served()
    for (let i = 0; i < 9; i++) assert.equal(versionOf((await lbGet('/')).body), live)
    assert.ok(await served() > before, `${JOINER} served pages through the load balancer`)

    assert.equal(await dbPortFrom(JOINER), 'open')
    const hba = await on(DB, `sudo -n sh -c 'grep -c "^host example example ${address(JOINER)}/32 scram-sha-256" /etc/postgresql/*/main/pg_hba.conf'`)
    assert.equal(hba.stdout.trim(), '1')

    // Dispatched again (on the new server alone: the cost of one host): it has its records now, so
    // bootstrap runs alone, as named, and changes nothing.
    const again = await dispatch('bootstrap', JOINER)
    assert.equal(again.outputs.playbooks, 'bootstrap')
    assert.deepEqual(changedBy(again), [`bootstrap ${JOINER} 0`])
  })

  test('the app server removed from the inventory: the load balancer drains it, then drops it, no request failing; then the database closes to it', LONG, async () => {
    commitAppServers(APPS)
    const pages = startHey({ url: `http://${address(LB)}/`, host: NAME, ...PAGE_LOAD })
    await new Promise((r) => setTimeout(r, 2000))
    let run: StepRun
    let load: Awaited<ReturnType<typeof pages.stop>>
    try {
      run = await dispatch('frontend')
      await new Promise((r) => setTimeout(r, 2000))
    } finally {
      load = await pages.stop()
    }
    process.stdout.write(`# ${JOINER} leaving: pages ${load.requests} requests, ${load.failed} failed\n`)
    assert.ok(load.requests > 0, load.report)
    assert.equal(load.failed, 0, load.report)
    // Drained (marked down, the requests in flight answered) before the upstream dropped it.
    const out = run.stdout.replace(new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, 'g'), '')
    assert.match(out, new RegExp(`An app server no longer in the inventory is drained before it leaves the upstream\\][^]*?changed: \\[${LB}\\] => \\(item=${JOINER}\\)`))
    assert.equal(await lbStatus(), APPS.map((a) => `${a} up`).join('\n'))
    const upstream = await on(LB, `cat /etc/nginx/django-deploy-lb/${SITE}.upstream`)
    assert.ok(!upstream.stdout.includes(`${address(JOINER)}:`), upstream.stdout)
    for (let i = 0; i < 4; i++) assert.equal((await lbGet('/')).status, 200)

    // README: then base, backend and frontend limited to the database server: its firewall and pg_hba close to it.
    await dispatch('base,backend,frontend', DB)
    assert.equal(await dbPortFrom(JOINER), 'closed')
    const hba = await on(DB, "sudo -n sh -c 'grep -h \"^host example example\" /etc/postgresql/*/main/pg_hba.conf'")
    assert.deepEqual(hba.stdout.trim().split('\n').sort(), APPS.map((a) => `host example example ${address(a)}/32 scram-sha-256`).sort())
  })
})

// Off-site backups on booted hosts, to a real S3 server (s3rver) on the lab's gateway: a PostgreSQL
// project (web1) and a SQLite project (web2) back up their data and media, encrypted, the bucket's
// keys out of settings.ini; a month of backups is pruned to the configured counts by the backend
// run (the daily job deletes nothing), by the store's dates; a forged future-dated backup, one
// without its checksum and a month named by a clock a year ahead are neither restored nor counted;
// a table with a hostile name runs nothing as postgres; an unreachable bucket fails loudly; a
// restore over newer data is refused. Then the drill: both hosts are destroyed, fresh ones deployed
// and restored, and their rows and media compared with the originals, served through nginx.
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync, execFileSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs'
import { hostname, tmpdir, userInfo } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { PLAIN_SITE_VARS, startLab, type Lab, type PlaybookResult } from '../../src/lab/index.ts'
import { get as httpGet } from '../support/http.ts'
import { BUCKET, offsiteBackup, S3_KEY, startS3, type S3Server } from '../support/s3.ts'
import { runName } from '../../src/core/plan/state-file.ts'

const repoRoot = fileURLToPath(new URL('../..', import.meta.url))
const ROOT = '/srv/example-org/example'
const LONG = { timeout: 20 * 60_000 }
// The drill boots and deploys two hosts again, then restores: under a loaded machine (load 35 on two
// cores) the deploys alone took 17 minutes.
const DRILL = { timeout: 45 * 60_000 }
const S3_PORT = 4569
const UNIT = 'django-deploy-backup-example-org-example'
const RECORD = '/var/lib/django-deploy/example-org-example.backup.json'
const INI = '/etc/django-deploy/example-org-example.backup.ini'
const BACKUP = `/usr/local/sbin/django-deploy-backup ${INI}`
// A table name that, pasted into SQL run by postgres, would run a shell command creating the canary.
const HOSTILE_TABLE = "x';COPY(SELECT(1))TO PROGRAM 'id>/tmp/p';--"
const CANARY = '/tmp/p'
const YEAR = 365 * 86400_000
const KEEP = { daily: 7, weekly: 4, monthly: 3 }
const PREFIX: Record<string, string> = { web1: 'pg/', web2: 'sqlite/' }

/** Keys in the bucket under a prefix, read from s3rver's data directory (objects are files there). */
function bucketKeys(dir: string, prefix: string): string[] {
  const base = join(dir, BUCKET, prefix)
  try {
    return readdirSync(base).filter((f) => f.endsWith('.tar.age._S3rver_object')).map((f) => prefix + f.replace(/\._S3rver_object$/, '')).sort()
  } catch { return [] }
}
const objectFile = (dir: string, key: string) => join(dir, BUCKET, `${key}._S3rver_object`)
/** Sets an object's (and its checksum's) LastModified: s3rver answers its file's modification time. */
const storedAt = (dir: string, key: string, when: Date) => {
  for (const k of [key, `${key}.sha256`]) {
    try { utimesSync(objectFile(dir, k), when, when) } catch (e) { if (k === key) throw e }
  }
}

const stampOf = (key: string) => {
  const m = key.match(/(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)Z\.tar\.age$/)!
  return new Date(Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!))
}
const stamp = (d: Date) => d.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')

/** What the retention should keep, written from its definition (newest per day, ISO week, month). */
function expectedKept(keys: string[]): string[] {
  const isoWeek = (d: Date) => {
    const t = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()))
    t.setUTCDate(t.getUTCDate() + 4 - (t.getUTCDay() || 7))
    const y0 = new Date(Date.UTC(t.getUTCFullYear(), 0, 1))
    return `${t.getUTCFullYear()}-W${Math.ceil(((t.getTime() - y0.getTime()) / 86400000 + 1) / 7)}`
  }
  const newestFirst = [...keys].sort((a, b) => stampOf(b).getTime() - stampOf(a).getTime())
  const kept = new Set<string>()
  const periods: [number, (d: Date) => string][] = [
    [KEEP.daily, (d) => d.toISOString().slice(0, 10)], [KEEP.weekly, isoWeek], [KEEP.monthly, (d) => d.toISOString().slice(0, 7)],
  ]
  for (const [count, period] of periods) {
    const seen = new Map<string, string>()
    for (const k of newestFirst) {
      const p = period(stampOf(k))
      if (!seen.has(p) && seen.size < count) seen.set(p, k)
    }
    for (const k of seen.values()) kept.add(k)
  }
  return [...kept].sort()
}

describe('off-site backups and the restore drill', () => {
  let lab: Lab | undefined
  let s3: S3Server | undefined
  let work: string
  let s3dir: string
  let identity: string
  let recipient: string
  let inventory: string
  const original: Record<string, string> = {}
  const media = 'uploads/drill.txt'
  const mediaBody = `media file ${Date.now()}\n`

  const ssh = (host: string, cmd: string) => lab!.ssh(host, cmd)
  const assertOk = (r: PlaybookResult) => assert.equal(r.code, 0, r.output.slice(-4000))
  const run = async (playbook: string, extraVars: Record<string, unknown> = {}) => {
    const t0 = Date.now()
    const r = await lab!.runPlaybook(playbook, { inventory, extraVars })
    console.log(`${playbook}: exit ${r.code} in ${Math.round((Date.now() - t0) / 1000)}s`)
    return r
  }
  const get = (address: string, path: string, host: string) => httpGet(`http://${address}${path}`, host, 30_000)
  const address = (host: string) => lab!.host(host).address

  /** The notes table, row by row, as the database holds it. */
  const rows = async (host: string) => {
    const sql = "SELECT id || '|' || text || '|' || created FROM pages_note ORDER BY id"
    const cmd = host === 'web1'
      ? `runuser -u postgres -- psql -tA -d example -c "${sql}"`
      : `python3 -c 'import sqlite3,sys; [print(r[0]) for r in sqlite3.connect("${ROOT}/shared/sqlite/db.sqlite3").execute(sys.argv[1])]' "${sql}"`
    const r = await ssh(host, cmd)
    assert.equal(r.code, 0, r.stderr)
    return r.stdout.trim()
  }

  /** A lab with web1 (PostgreSQL) and web2 (SQLite), both deployed with off-site backups to s3rver. */
  async function bootAndDeploy() {
    lab = await startLab({ hosts: ['web1', 'web2'] })
    const gateway = lab.hosts[0]!.gateway
    s3 = await startS3(gateway, S3_PORT, s3dir)
    const offsite = offsiteBackup(s3.endpoint, recipient, identity)
    inventory = await lab.writeInventory({
      vars: {
        ...lab.rootLogin,
        ...PLAIN_SITE_VARS,
        backend_gunicorn_workers: 1,
        backend_check_deploy_enabled: false,
        ...offsite.vars,
        backend_backup_keep_daily: KEEP.daily,
        backend_backup_keep_weekly: KEEP.weekly,
        backend_backup_keep_monthly: KEEP.monthly,
      },
      vault: offsite.vault,
    })
    for (const [host, prefix] of Object.entries(PREFIX)) {
      mkdirSync(join(inventory, 'host_vars'), { recursive: true })
      writeFileSync(join(inventory, 'host_vars', `${host}.yml`),
        `backend_backup_s3_prefix: ${prefix}\nbackend_database_engine: ${host === 'web1' ? 'postgresql' : 'sqlite'}\n`)
    }
    assertOk(await run('backend'))
    assertOk(await run('frontend'))
  }

  /** Runs the backup as its timer would (systemctl start of the unit). */
  const backupNow = (host: string) => ssh(host, `systemctl start ${UNIT}.service`)

  /** Copies an object of the bucket under other keys (with its checksum unless told), from the host. */
  const copyObjects = async (host: string, source: string, keys: string[], checksum = true) => {
    const py = [
      'import configparser, sys, boto3',
      `c = configparser.RawConfigParser(); c.read("${INI}"); s = c["s3"]`,
      'b = boto3.client("s3", endpoint_url=s["endpoint"], region_name=s["region"], aws_access_key_id=s["access_key"], aws_secret_access_key=s["secret_key"])',
      'for k in sys.argv[3:]:',
      `    for suffix in ("", ".sha256") if sys.argv[2] == "yes" else ("",):`,
      '        b.copy_object(Bucket=s["bucket"], Key=k + suffix, CopySource={"Bucket": s["bucket"], "Key": sys.argv[1] + suffix})',
    ].join('\n')
    const copied = await lab!.ssh(host, `python3 - ${source} ${checksum ? 'yes' : 'no'} ${keys.join(' ')}`, { input: py })
    assert.equal(copied.code, 0, copied.stderr)
  }
  /** What django-deploy-backup list says of each object (as the server sees the bucket). */
  const listing = async (host: string) => {
    const r = await ssh(host, `${BACKUP} list`)
    assert.equal(r.code, 0, r.stderr)
    return new Map(r.stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as { object: string; ignored?: string })
      .map((e) => [e.object, e]))
  }
  /** The pruning run the backend role makes, with the admin keys on stdin (s3rver's only key pair). */
  const pruneNow = (host: string) => lab!.ssh(host, `${BACKUP} prune --keys-from-stdin`, { input: `${S3_KEY}\n${S3_KEY}\n` })

  before(async () => {
    work = mkdtempSync(join(tmpdir(), 'backup-test-'))
    s3dir = join(work, 's3')
    mkdirSync(s3dir)
    execFileSync('age-keygen', ['-o', join(work, 'age.key')], { stdio: 'ignore' })
    identity = readFileSync(join(work, 'age.key'), 'utf8').split('\n').find((l) => l.startsWith('AGE-SECRET-KEY-'))!
    recipient = execFileSync('age-keygen', ['-y', join(work, 'age.key')]).toString().trim()
  })
  after(async () => {
    await s3?.stop()
    await lab?.destroy()
    if (work) rmSync(work, { recursive: true, force: true })
  })

  test('the daily job uploads an encrypted backup of the data and media, with its checksum', LONG, async () => {
    const t0 = Date.now()
    await bootAndDeploy()
    for (const host of ['web1', 'web2']) {
      const timer = await ssh(host, `systemctl is-enabled ${UNIT}.timer && systemctl is-active ${UNIT}.timer`)
      assert.equal(timer.stdout.trim(), 'enabled\nactive', `${host}: the daily timer`)
      const ini = await ssh(host, `stat -c '%a %U' ${INI}`)
      assert.equal(ini.stdout.trim(), '600 root', 'the credentials are root-only')
      const settings = await ssh(host, `cat ${ROOT}/etc/settings.ini`)
      assert.equal(settings.code, 0, settings.stderr)
      assert.doesNotMatch(settings.stdout, /s3_(access|secret)_key|S3RVER/, 'settings.ini (the app reads it) holds no bucket key')
      const notes = `from pages.models import Note\nfor t in ["first ${host}", "second ${host}", "secret-plaintext-${host}"]: Note.objects.create(text=t)`
      const created = await lab!.ssh(host, '/usr/local/bin/example-ctl shell', { input: notes })
      assert.equal(created.code, 0, created.stderr)
      await ssh(host, `runuser -u example -- sh -c 'mkdir -p ${ROOT}/shared/media/uploads && printf "%s" "${mediaBody}" > ${ROOT}/shared/media/${media}'`)
      original[host] = await rows(host)
      assert.equal(original[host]!.split('\n').length, 3)

      const job = await backupNow(host)
      assert.equal(job.code, 0, job.stderr + (await ssh(host, `journalctl -u ${UNIT} --no-pager -n 30`)).stdout)
      const keys = bucketKeys(s3dir, PREFIX[host]!)
      assert.equal(keys.length, 1, `${host}: one backup in the bucket`)
      const file = objectFile(s3dir, keys[0]!)
      const cipher = readFileSync(file)
      assert.match(cipher.subarray(0, 40).toString(), /^age-encryption\.org\/v1/)
      assert.ok(!cipher.includes(`secret-plaintext-${host}`), 'no plaintext in the object')
      // The checksum beside it is the object's; the record file says the same, with no secret.
      const sidecar = readFileSync(objectFile(s3dir, `${keys[0]}.sha256`), 'utf8').split(' ')[0]
      assert.equal(sidecar, execFileSync('sha256sum', [file]).toString().split(' ')[0])
      const record = JSON.parse((await ssh(host, `cat ${RECORD}`)).stdout)
      assert.equal(record.object, keys[0])
      assert.equal(record.sha256, sidecar)
      assert.equal(record.bytes, statSync(file).size)
      assert.equal(record.last_failure, null)
      assert.equal((await ssh(host, `stat -c '%a %U' ${RECORD}`)).stdout.trim(), '644 root')
      // Only the vault's key opens it: the archive holds the database and the media file.
      const listing = execFileSync('sh', ['-c', `age -d -i ${join(work, 'age.key')} ${file} | tar -t`]).toString()
      assert.match(listing, host === 'web1' ? /^database\.dump$/m : /^db\.sqlite3$/m)
      assert.match(listing, /^media\/uploads\/drill\.txt$/m)
    }
    console.log(`deploy of two hosts and first backups: ${Math.round((Date.now() - t0) / 1000)}s`)
  })

  test('a month of daily backups: the daily job deletes nothing, the backend run prunes by the store\'s dates', LONG, async () => {
    // 40 copies of the real backup (object and checksum), stored on each of the last 40 days.
    const [key] = bucketKeys(s3dir, PREFIX.web1!)
    const now = Date.now()
    const days = Array.from({ length: 40 }, (_, i) => new Date(now - (i + 1) * 86400_000))
    const copies = days.map((d) => `${PREFIX.web1}${stamp(d)}.tar.age`)
    await copyObjects('web1', key!, copies)
    copies.forEach((k, i) => storedAt(s3dir, k, days[i]!))
    assert.equal(bucketKeys(s3dir, PREFIX.web1!).length, 41)

    const job = await backupNow('web1')
    assert.equal(job.code, 0, job.stderr)
    assert.equal(bucketKeys(s3dir, PREFIX.web1!).length, 42, 'the daily job deletes nothing (its key may be write-only)')
    const t0 = Date.now()
    const r = await lab!.runPlaybook('backend', { inventory, tags: ['backend_backup'], limit: 'web1' })
    assertOk(r)
    const after = bucketKeys(s3dir, PREFIX.web1!)
    const all = [...copies, key!, ...after.filter((k) => k !== key && !copies.includes(k))]
    assert.deepEqual(after, expectedKept(all))
    console.log(`retention by the backend run (${Math.round((Date.now() - t0) / 1000)}s): ${all.length} backups over 41 days (two today) -> ${after.length} kept`)
    assert.ok(after.length >= KEEP.daily && after.length <= KEEP.daily + KEEP.weekly + KEEP.monthly)
    for (const k of after) assert.ok(readdirSync(join(s3dir, BUCKET, PREFIX.web1!)).includes(`${k.slice(PREFIX.web1!.length)}.sha256._S3rver_object`))
    assert.ok(r.output.includes(`${all.length - after.length} old backup(s) removed`), r.output.slice(-3000))
  })

  test('a forged future-dated backup, one without its checksum and a month named by a clock a year ahead are neither restored nor counted', LONG, async () => {
    const real = bucketKeys(s3dir, PREFIX.web1!)
    const newest = real[real.length - 1]!
    // What an attacker with the keys uploads: a copy named 2999, checksum included; a copy without its checksum, stored last.
    const forged = `${PREFIX.web1}29991231T000000Z.tar.age`
    const unchecked = `${PREFIX.web1}${stamp(new Date())}.tar.age`
    await copyObjects('web1', newest, [forged])
    await copyObjects('web1', newest, [unchecked], false)
    // A month with the server's clock a year ahead: the job names its backup a year ahead (its own
    // clock; S3's signatures keep the real time)...
    const ahead = await ssh('web1', `DJANGO_DEPLOY_BACKUP_CLOCK_OFFSET=${YEAR / 1000} ${BACKUP} backup`)
    assert.equal(ahead.code, 0, ahead.stderr)
    const aheadKey = bucketKeys(s3dir, PREFIX.web1!).find((k) => stampOf(k).getTime() > Date.now() + YEAR / 2 && k !== forged)
    assert.ok(aheadKey, `a backup named a year ahead: ${ahead.stderr}`)
    // ...as on each of the 29 days before: copies named a year after the day they were stored.
    const days = Array.from({ length: 29 }, (_, i) => new Date(Date.now() - (i + 1) * 86400_000))
    const aheadCopies = days.map((d) => `${PREFIX.web1}${stamp(new Date(d.getTime() + YEAR))}.tar.age`)
    await copyObjects('web1', aheadKey!, aheadCopies)
    aheadCopies.forEach((k, i) => storedAt(s3dir, k, days[i]!))
    const ignored = [forged, unchecked, aheadKey!, ...aheadCopies]

    const listed = await listing('web1')
    for (const k of ignored) assert.ok(listed.get(k)?.ignored, `${k} is listed as ignored: ${JSON.stringify(listed.get(k))}`)
    assert.match(listed.get(unchecked)!.ignored!, /no \.sha256/)
    assert.match(listed.get(forged)!.ignored!, /later than/)
    for (const k of real) assert.equal(listed.get(k)?.ignored, undefined, k)

    // The clock corrected: tonight's job, then the pruning run.
    const job = await backupNow('web1')
    assert.equal(job.code, 0, job.stderr)
    const tonight = bucketKeys(s3dir, PREFIX.web1!).find((k) => !real.includes(k) && !ignored.includes(k))!
    const pruned = await pruneNow('web1')
    assert.equal(pruned.code, 0, pruned.stderr)
    assert.match(pruned.stderr, new RegExp(`, ${ignored.length} ignored`))
    const after = bucketKeys(s3dir, PREFIX.web1!)
    assert.deepEqual(after.filter((k) => !ignored.includes(k)), expectedKept([...real, tonight]), 'the real backups kept by the rules')
    for (const k of ignored) assert.ok(after.includes(k), `${k}: ignored, so neither counted nor deleted`)

    // restore latest takes tonight's backup, not the forged, unchecked or mis-dated ones.
    const check = await ssh('web1', `${BACKUP} restore latest --check --force`)
    assert.equal(check.code, 0, check.stderr)
    assert.match(check.stderr, new RegExp(`s3://${BUCKET}/${tonight.replace(/\./g, '\\.')} can be restored`))
  })

  test('a table with a hostile name: the restore check quotes it and runs nothing as postgres', LONG, async () => {
    // Created by the app (the attacker's user), with a row.
    const make = `from django.db import connection\nname = ${JSON.stringify(HOSTILE_TABLE)}.replace('"', '""')\n` +
      'c = connection.cursor()\nc.execute(\'CREATE TABLE "%s" (v int)\' % name)\nc.execute(\'INSERT INTO "%s" VALUES (1)\' % name)'
    const made = await lab!.ssh('web1', '/usr/local/bin/example-ctl shell', { input: make })
    assert.equal(made.code, 0, made.stderr)
    const check = await ssh('web1', `${BACKUP} restore latest --check --force`)
    assert.equal(check.code, 0, check.stderr)
    assert.match(check.stderr, /can be restored \(the database was last written at/)
    assert.equal((await ssh('web1', `test -e ${CANARY} && echo exists || echo absent`)).stdout.trim(), 'absent', 'no command ran')
    // Tonight's backup holds the table: the drill restores it onto a fresh server.
    const job = await backupNow('web1')
    assert.equal(job.code, 0, job.stderr)
  })

  test('a backup whose bucket is unreachable fails loudly: exit code, journal, record file', LONG, async () => {
    await s3!.stop()
    try {
      const job = await backupNow('web2')
      assert.notEqual(job.code, 0)
      assert.equal((await ssh('web2', `systemctl is-failed ${UNIT}.service`)).stdout.trim(), 'failed')
      const journal = await ssh('web2', `journalctl -u ${UNIT} -u ${UNIT}-failed --no-pager -n 40`)
      assert.match(journal.stdout, /backup of example-org-example failed: .*(Connect|connect|Endpoint)/)
      assert.match(journal.stdout, /failed on web2: see journalctl/)
      const record = JSON.parse((await ssh('web2', `cat ${RECORD}`)).stdout)
      assert.ok(Date.now() - Date.parse(record.last_failure) < 10 * 60_000, JSON.stringify(record))
      assert.ok(record.last_success, 'the last success is kept')
    } finally {
      s3 = await startS3(lab!.hosts[0]!.gateway, S3_PORT, s3dir)
    }
  })

  test('django-deploy restore over data newer than the backup refuses before any downtime', LONG, async () => {
    const add = await lab!.ssh('web1', '/usr/local/bin/example-ctl shell', { input: 'from pages.models import Note\nNote.objects.create(text="after the backup")' })
    assert.equal(add.code, 0, add.stderr)
    const cli = spawnSync(process.execPath, ['--import', 'tsx', join(repoRoot, 'src/cli/index.ts'), 'restore', 'latest',
      '--dir', repoRoot, '--inventory', inventory, '--vault-key', join(inventory, 'vault.key'), '--limit', 'web1', '--verbose',
      // The CLI connects with its own SSH settings (as deploy does), not the inventory's.
      '--ssh-key', lab!.rootKey, '--known-hosts', lab!.knownHosts],
    { cwd: repoRoot, encoding: 'utf8', timeout: 15 * 60_000, env: { ...process.env, ANSIBLE_NOCOLOR: '1' } })
    const output = cli.stdout + cli.stderr
    assert.equal(cli.status, 1, output.slice(-3000))
    assert.match(output, /the database has data written at .*, after the backup .*backend_restore_force=true/)
    assert.match(output, /restore: FAILED/)
    assert.doesNotMatch(output, /TASK \[[^\]]*(maintenance page|Gunicorn is stopped)/, 'refused before the site went down')
    assert.ok(!output.includes(identity), 'the private key is never printed')
    assert.match((await rows('web1')), /after the backup/)
    const page = await get(address('web1'), '/', 'web1.test')
    assert.equal(page.status, 200)
    assert.match(page.body, /after the backup/)
  })

  // The operations commands, on the two deployed hosts, logged in with the lab's key as deploy does.
  const cli = (...args: string[]) => {
    const end = args.includes('--') ? args.indexOf('--') : args.length
    const own = ['--dir', repoRoot, '--inventory', inventory, '--vault-key', join(inventory, 'vault.key'), '--ssh-key', lab!.rootKey, '--known-hosts', lab!.knownHosts]
    return spawnSync(process.execPath, ['--import', 'tsx', join(repoRoot, 'src/cli/index.ts'), ...args.slice(0, end), ...own, ...args.slice(end)],
      { cwd: repoRoot, encoding: 'utf8', timeout: 5 * 60_000, env: { ...process.env, ANSIBLE_NOCOLOR: '1' } })
  }
  /** The journal's records of the operations on `host` (tag django-deploy-ops). */
  const opsJournal = async (host: string) => (await ssh(host, 'journalctl -t django-deploy-ops --no-pager -o cat')).stdout

  test('django-deploy manage runs manage.py on one host, its exit code passed through, and the journal records it', LONG, async () => {
    const check = cli('manage', '--host', 'web2', '--', 'check', '--deploy')
    assert.equal(check.status, 0, check.stdout + check.stderr)
    assert.match(check.stdout + check.stderr, /System check identified/)
    const unknown = cli('manage', '--host', 'web1', '--', 'no_such_command')
    assert.equal(unknown.status, 1, 'manage.py\'s own exit code')
    assert.match(unknown.stderr, /Unknown command: 'no_such_command'/)
    const record = await opsJournal('web2')
    const who = runName(process.env, `${userInfo().username}@${hostname()}`)
    assert.ok(record.includes(`project=example user=root by=${who} from=${lab!.host('web2').gateway} command=manage check --deploy`), record)
    assert.doesNotMatch(await opsJournal('web1'), /check --deploy/, 'only the host it ran on')
    const bad = cli('manage', '--host', 'web9', '--', 'check')
    assert.equal(bad.status, 2)
    assert.equal(bad.stderr, 'django-deploy manage: --host "web9" is not in the inventory\'s webservers (hosts: web1, web2)\n')
  })

  test('django-deploy manage -- shell gets a terminal: a line of Python typed in it answers, its exit code passed through', LONG, async () => {
    const end = ['manage', '--host', 'web1']
    const own = ['--dir', repoRoot, '--inventory', inventory, '--vault-key', join(inventory, 'vault.key'), '--ssh-key', lab!.rootKey, '--known-hosts', lab!.knownHosts]
    const session = spawnSync('python3', [join(repoRoot, 'test/e2e/fixtures/pty-session.py'), '>>> ', '240',
      process.execPath, '--import', 'tsx', join(repoRoot, 'src/cli/index.ts'), ...end, ...own, '--', 'shell'],
    { cwd: repoRoot, encoding: 'utf8', timeout: 5 * 60_000, input: 'import os, pwd\nprint(6 * 7, os.isatty(0), pwd.getpwuid(os.getuid()).pw_name)\nimport sys; sys.exit(3)\n' })
    assert.equal(session.status, 3, `the shell's exit code: ${session.stdout}${session.stderr}`)
    const answer = /^42 True (\S+)\r?$/m.exec(session.stdout)
    assert.ok(answer, `the answer, computed on a terminal: ${session.stdout}`)
    assert.notEqual(answer[1], 'root', 'run as the project\'s user')
    assert.match(await opsJournal('web1'), /command=manage shell/)
  })

  test('django-deploy logs --since 5m: both hosts\' gunicorn and nginx lines, merged by time', LONG, async () => {
    for (const host of ['web1', 'web2']) assert.equal((await get(address(host), `/?logs-${host}`, `${host}.test`)).status, 200)
    const r = cli('logs', '--since', '5m')
    assert.equal(r.status, 0, r.stderr)
    const lines = r.stdout.trim().split('\n')
    for (const host of ['web1', 'web2']) {
      assert.ok(lines.some((l) => new RegExp(`^\\S+ ${host} web +.*GET /\\?logs-${host}`).test(l)), `${host}: gunicorn's access line`)
      assert.ok(lines.some((l) => new RegExp(`^\\S+ ${host} nginx +.*GET /\\?logs-${host}`).test(l)), `${host}: nginx's access line`)
    }
    const times = lines.map((l) => Date.parse(l.split(' ')[0]!))
    assert.ok(times.every((t, i) => !Number.isNaN(t) && (i === 0 || t >= times[i - 1]!)), 'ordered by time')
    assert.ok(times.every((t) => t >= Date.now() - 6 * 60_000), 'nothing older than 5 minutes (and the clocks\' skew)')
    const deploys = cli('logs', '--since', '2d', '--process', 'deploy', '--host', 'web1')
    assert.equal(deploys.status, 0, deploys.stderr)
    assert.match(deploys.stdout, /^\S+ web1 deploy +live: example-(blue|green) on /m, 'the deploy script\'s switches')
    assert.doesNotMatch(deploys.stdout, / web2 | web +/)
    assert.match(await opsJournal('web1'), /command=logs --since 172800 --process deploy/)
    const bad = cli('logs', '--process', 'cron')
    assert.equal(bad.status, 2)
    assert.equal(bad.stderr.trim().split('\n').length, 1)
  })

  test('django-deploy maintenance on|off: the maintenance page on both hosts, then the site again', LONG, async () => {
    const on = cli('maintenance', 'on')
    assert.equal(on.status, 0, on.stderr)
    assert.equal(on.stdout, 'web1: maintenance page on\nweb2: maintenance page on\n')
    for (const host of ['web1', 'web2']) {
      const page = await get(address(host), '/', `${host}.test`)
      assert.equal(page.status, 503, `${host}: the maintenance page`)
      assert.ok(page.headers['retry-after'], 'Retry-After')
      assert.match(page.body, /Down for maintenance/)
    }
    const off = cli('maintenance', 'off', '--host', 'web2')
    assert.equal(off.status, 0, off.stderr)
    assert.match(off.stdout, /^web2: maintenance page off \(it was on for \d+\.\d s\)\n$/)
    assert.equal((await get(address('web2'), '/', 'web2.test')).status, 200)
    assert.equal((await get(address('web1'), '/', 'web1.test')).status, 503, 'web1 stays in maintenance')
    assert.equal(cli('maintenance', 'off').status, 0)
    assert.equal((await get(address('web1'), '/', 'web1.test')).status, 200)
    assert.match(await opsJournal('web1'), /command=maintenance on[\s\S]*command=maintenance off/)
    assert.doesNotMatch(await opsJournal('web1') + await opsJournal('web2'), new RegExp(identity.slice(0, 20)), 'no secret recorded')
  })

  test('drill: fresh servers deployed and restored serve the same rows and media', DRILL, async () => {
    const t0 = Date.now()
    await s3!.stop()
    await lab!.destroy()
    lab = undefined
    await bootAndDeploy()
    for (const host of ['web1', 'web2']) assert.equal(await rows(host), '', `${host} starts empty`)

    // Polls the site during the restore: the app answers the maintenance page, never a 502.
    const seen = new Map<number, string>()
    let polling = true
    const poll = (async () => {
      while (polling) {
        const r = await get(address('web1'), '/', 'web1.test').catch(() => ({ status: 0, body: '' }))
        if (!seen.has(r.status)) seen.set(r.status, r.body)
        await new Promise((res) => setTimeout(res, 50))
      }
    })()
    const r = await run('restore')
    polling = false
    await poll
    assertOk(r)
    assert.ok(!r.output.includes(identity), 'the private key is never printed')
    assert.match(seen.get(503) ?? '', /Down for maintenance/, `statuses seen: ${[...seen.keys()].join(', ')}`)
    assert.ok(!seen.has(502) && !seen.has(0), `statuses seen: ${[...seen.keys()].join(', ')}`)

    for (const host of ['web1', 'web2']) {
      assert.equal(await rows(host), original[host], `${host}: the rows are back`)
      const page = await get(address(host), '/', `${host}.test`)
      assert.equal(page.status, 200)
      assert.match(page.body, new RegExp(`second ${host}`))
      const file = await get(address(host), `/media/${media}`, `${host}.test`)
      assert.equal(file.status, 200)
      assert.equal(file.body, mediaBody)
      const owner = await ssh(host, `stat -c %U ${ROOT}/shared/media/${media}`)
      assert.equal(owner.stdout.trim(), 'example', 'restored media belong to the project user')
      assert.equal((await ssh(host, `ls /run /var/tmp | grep -c django-deploy-restore || true`)).stdout.trim(), '0', 'nothing left behind')
    }
    // The hostile table came back (restored as the owner role), and still runs nothing, restore check included.
    const table = await ssh('web1', `runuser -u postgres -- psql -tA -d example -c "SELECT count(*) FROM pg_class WHERE relname = '${HOSTILE_TABLE.replace(/'/g, "''")}'"`)
    assert.equal(table.stdout.trim(), '1', table.stderr)
    const recheck = await ssh('web1', `${BACKUP} restore latest --check --force`)
    assert.equal(recheck.code, 0, recheck.stderr)
    assert.equal((await ssh('web1', `test -e ${CANARY} && echo exists || echo absent`)).stdout.trim(), 'absent', 'no command ran')
    console.log(`drill (boot, deploy, restore two hosts): ${Math.round((Date.now() - t0) / 1000)}s`)
  })
})

// The app's unix user is the attacker's user. On one server through the four playbooks, the app user
// plants links at every name root's tasks use in the directories it may write, a table with a hostile
// name in its database, and tries to tamper with what root wrote; then a deploy that migrates, a
// rollback that restores the pre-migration dump, an off-site backup and a restore run. Nothing outside
// the app's tree changed, nothing planted reached a log, postgres never ran the hostile SQL, nginx
// serves no link; and every path of the backend README's ownership table has the owner, group and
// mode the table says.
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { PLAIN_SITE_VARS, startLab, type Lab, type PlaybookResult } from '../../src/lab/index.ts'
import { addExtraField, appCopy } from '../support/app.ts'
import { pageVersion } from '../support/cell.ts'
import { get as httpGet } from '../support/http.ts'
import { offsiteBackup, startS3, type S3Server } from '../support/s3.ts'

const repoRoot = fileURLToPath(new URL('../..', import.meta.url))
const LONG = { timeout: 30 * 60_000 }
const ORG = 'example-org'
const PROJECT = 'example'
const ROOT = `/srv/${ORG}/${PROJECT}`
const SSH_PORT = 2222
const S3_PORT = 4570
const UNIT = `django-deploy-backup-${ORG}-${PROJECT}`
/** Where the hostile SQL would make postgres write (its home: postgres may write there). */
const CANARY = '/var/lib/postgresql/boundary-canary'
const HOSTILE_TABLE = `x';COPY(SELECT(1))TO PROGRAM 'touch ${CANARY}';--`
/** Every name root's tasks and scripts create, open, follow or rotate (today or in a former layout). */
const ROOT_NAMES = ['media', 'static', 'backups', 'sqlite', 'db.sqlite3', 'db.sqlite3.restore', 'sockets', 'blue.sock', 'green.sock',
  '.revision', 'revision', '.pre-migrate.dump', '.pre-migrate.dump.tmp', 'venv', 'current', 'blue', 'green', 'live', 'live.tmp',
  'blue.on', 'green.on', 'deploy.lock', 'deploy.lock.pid', 'deploy.lock.since', 'nginx-upstream.conf', 'nginx-upstream.conf.tmp',
  'settings.ini', 'deploy.env', 'code.tar.gz', 'gunicorn-blue.log', 'backup.log', 'backup.log.1', 'backup.log.1.gz', 'requirements.txt',
  'uploads', 'known_hosts', 'deploy_key']

/** The backend README's ownership table: path → owner, group, mode, and whether the row applies here. */
function ownershipTable(): { path: string; owner: string; group: string; mode: string; sqliteOnly: boolean }[] {
  const readme = readFileSync(join(repoRoot, 'roles/backend/README.md'), 'utf8')
  const section = readme.slice(readme.indexOf('## Who owns what'))
  const rows = section.split('\n').filter((l) => /^\| `\//.test(l))
  return rows.map((l) => {
    const [path, owner, group, mode, writer] = l.split('|').slice(1).map((c) => c.trim().replace(/`/g, ''))
    return { path: path!, owner: owner!, group: group!, mode: mode!, sqliteOnly: /SQLite only/.test(writer!) }
  })
}

describe('the app user stays the app user', () => {
  let lab: Lab
  let s3: S3Server | undefined
  let work: string
  let inventory: string
  let address: string
  let identity: string
  const outputs: string[] = []
  /** /etc, /usr/local and /root before the attack. */
  let pristine = ''
  /** Content of the root-only files the planted links point at: it must never surface anywhere. */
  const secret = `boundary-secret-${randomBytes(12).toString('hex')}`

  /** A script run as root on the server (the deploy user's sudo: root cannot log in after bootstrap). */
  async function asRoot(script: string): Promise<string> {
    const r = await lab.ssh('web1', 'sudo -n bash -s', { user: 'deploy', port: SSH_PORT, key: lab.keys.deploy, input: `set -eu\n${script}\n` })
    assert.equal(r.code, 0, `${script.slice(0, 200)}: ${r.stderr}`)
    return r.stdout
  }
  /** A script run as the app user; its exit code and output. */
  const asApp = (script: string) => lab.ssh('web1', `sudo -n runuser -u ${PROJECT} -- sh -s`, { user: 'deploy', port: SSH_PORT, key: lab.keys.deploy, input: script })
  const run = async (playbook: string, extraVars: Record<string, unknown> = {}): Promise<PlaybookResult> => {
    const t0 = Date.now()
    const r = await lab.runPlaybook(playbook, { inventory, extraVars })
    outputs.push(r.output)
    console.log(`${playbook}: exit ${r.code} in ${Math.round((Date.now() - t0) / 1000)}s, ${JSON.stringify(r.recap.web1)}`)
    return r
  }
  const assertOk = (r: PlaybookResult) => assert.equal(r.code, 0, r.output.slice(-4000))
  const get = (path: string) => httpGet(`http://${address}${path}`, 'web1.test', 30_000)
  /** Owner, group, mode, type, link target and sha256 of every file under /etc, /usr/local and /root. */
  const snapshot = () => asRoot([
    'find /etc /usr/local /root -xdev \\( -path /root/.ansible -o -path /etc/.pwd.lock \\) -prune -o -printf "%p %u:%g %m %y %l\\n" | sort > /root/.snap-meta',
    'find /etc /usr/local /root -xdev \\( -path /root/.ansible \\) -prune -o -type f ! -name ".snap-*" -print0 | sort -z | xargs -0 sha256sum',
    'grep -v "^/root/.snap-" /root/.snap-meta',
  ].join('\n'))

  /** Nothing changed outside the app's tree; postgres never ran the hostile SQL; the secret surfaced nowhere. */
  async function assertNothingEscaped() {
    const now = await snapshot()
    const [b, a] = [new Set(pristine.split('\n')), new Set(now.split('\n'))]
    const changed = [...[...b].filter((l) => !a.has(l)).map((l) => `- ${l}`), ...[...a].filter((l) => !b.has(l)).map((l) => `+ ${l}`)]
    assert.deepEqual(changed, [], 'files of /etc, /usr/local or /root changed')
    const traces = await asRoot([
      `test ! -e ${CANARY} && echo no-canary`,
      'test ! -e /etc/boundary-pwned && echo no-pwned',
      `echo "in logs: $(grep -rlsF ${secret} /var/log | wc -l)"`,
      `echo "in journal: $(journalctl --no-pager -o cat | grep -cF ${secret} || true)"`,
      `echo "in the app's tree: $(grep -rlsF ${secret} /srv /var/lib/django-deploy /tmp /var/tmp | wc -l)"`,
    ].join('\n'))
    assert.equal(traces.trim(), 'no-canary\nno-pwned\nin logs: 0\nin journal: 0\nin the app\'s tree: 0')
    for (const o of outputs) assert.ok(!o.includes(secret), 'a playbook\'s output holds the secret')
  }

  before(async () => {
    work = mkdtempSync(join(tmpdir(), 'boundary-test-'))
    mkdirSync(join(work, 's3'))
    execFileSync('age-keygen', ['-o', join(work, 'age.key')], { stdio: 'ignore' })
    identity = readFileSync(join(work, 'age.key'), 'utf8').split('\n').find((l) => l.startsWith('AGE-SECRET-KEY-'))!
    const recipient = execFileSync('age-keygen', ['-y', join(work, 'age.key')]).toString().trim()
    lab = await startLab({ hosts: ['web1'] })
    address = lab.hosts[0]!.address
    s3 = await startS3(lab.hosts[0]!.gateway, S3_PORT, join(work, 's3'))
    const offsite = offsiteBackup(s3.endpoint, recipient, identity)
    inventory = await lab.writeInventory({
      vars: {
        ...PLAIN_SITE_VARS,
        backend_archive_src: appCopy(join(repoRoot, 'app'), work, '1.0.0'),
        backend_gunicorn_workers: 1,
        backend_check_deploy_enabled: false,
        ...offsite.vars,
      },
      vault: offsite.vault,
    })
  }, LONG)
  after(async () => {
    await s3?.stop()
    await lab?.destroy()
    if (work) rmSync(work, { recursive: true, force: true })
  })

  test('bootstrap, base, backend and frontend run once on a fresh server', LONG, async () => {
    for (const name of ['bootstrap', 'base', 'backend', 'frontend']) assertOk(await run(name))
    assert.equal(pageVersion((await get('/')).body), '1.0.0')
  })

  test('planted links, a hostile table and tampering; then a deploy that migrates and a rollback restoring its dump change nothing outside the app\'s tree', LONG, async () => {
    // Root-only files holding the secret, which every planted link points at (or at a file to create).
    await asRoot([
      `umask 077; printf '%s\\n' ${secret} > /root/boundary-secret; printf '%s\\n' ${secret} > /etc/boundary-secret`,
      `rm -f /etc/boundary-pwned ${CANARY}`,
      'grep -q www-data /etc/passwd',
    ].join('\n'))
    pristine = await snapshot()

    // The hostile table, created by the app through its own database connection.
    const hostile = await lab.ssh('web1', `sudo -n /usr/local/bin/${PROJECT}-ctl shell`, {
      user: 'deploy', port: SSH_PORT, key: lab.keys.deploy,
      input: [
        'from django.db import connection',
        `name = connection.ops.quote_name(${JSON.stringify(HOSTILE_TABLE)})`,
        'with connection.cursor() as c:',
        '    c.execute("CREATE TABLE " + name + " (id int)")',
        '    c.execute("INSERT INTO " + name + " VALUES (1)")',
        '',
      ].join('\n'),
    })
    assert.equal(hostile.code, 0, hostile.stderr)

    // Links at every name root uses, in every directory the app user may write.
    const plant = await asApp([
      `umask 027; mkdir -p ${ROOT}/shared/media/uploads && echo 'an upload' > ${ROOT}/shared/media/uploads/ok.txt`,
      `ln -s /etc/passwd ${ROOT}/shared/media/leak.txt`,
      `find / -xdev \\( -path /proc -o -path /sys -o -path /dev \\) -prune -o -type d -user ${PROJECT} -print > /tmp/boundary-dirs`,
      'i=0',
      'while read -r d; do',
      '  i=$((i + 1)); t=/etc/boundary-pwned; [ $((i % 3)) = 1 ] && t=/etc/boundary-secret; [ $((i % 3)) = 2 ] && t=/root/boundary-secret',
      `  for n in ${ROOT_NAMES.join(' ')}; do [ -e "$d/$n" ] || [ -L "$d/$n" ] || ln -s "$t" "$d/$n" 2>/dev/null || true; done`,
      'done < /tmp/boundary-dirs',
      'echo "dirs: $(wc -l < /tmp/boundary-dirs)"',
      'cat /tmp/boundary-dirs',
    ].join('\n'))
    assert.equal(plant.code, 0, plant.stderr)
    for (const d of [`${ROOT}/shared/media`, `${ROOT}/shared/backups`, `${ROOT}/sockets`, `/var/log/${ORG}/${PROJECT}/app`]) {
      assert.match(plant.stdout, new RegExp(`^${d}$`, 'm'), `${d} is the app's`)
    }
    for (const d of [ROOT, `${ROOT}/shared`, `${ROOT}/shared/static`, `${ROOT}/releases`, `${ROOT}/venvs`]) {
      assert.doesNotMatch(plant.stdout, new RegExp(`^${d}$`, 'm'), `${d} is root's`)
    }
    console.log(`planted in ${plant.stdout.split('\n')[0]}`)

    // Tampering with what root wrote: each attempt is refused.
    const attempts = [
      `printf evil > ${ROOT}/current/.revision`,
      `ln -sfn /etc/boundary-secret ${ROOT}/current/.revision`,
      `mv ${ROOT}/shared/media ${ROOT}/shared/media.old`,
      `ln -s /usr/local/sbin ${ROOT}/shared/elsewhere`,
      `mkdir ${ROOT}/releases/99990101T000000Z`,
      `touch ${ROOT}/current/manage.py`,
      `touch "$(readlink -f ${ROOT}/current/venv)/bin/python-evil"`,
      `touch ${ROOT}/shared/static/evil.css`,
      `rm -rf ${ROOT}/current/pages`,
    ]
    for (const a of attempts) {
      const r = await asApp(a)
      assert.notEqual(r.code, 0, `the app user could: ${a}`)
    }

    // A deploy that migrates (dump, switch, prune), then a rollback restoring the dump.
    const migrated = await run('backend', { backend_archive_src: appCopy(join(repoRoot, 'app'), work, '2.0.0', addExtraField) })
    assertOk(migrated)
    assert.match(migrated.output, /The database is dumped into the release before it migrates\] \**\nchanged/)
    assert.equal(pageVersion((await get('/')).body), '2.0.0')
    const dump = await asRoot(`stat -c '%U %G %a' ${ROOT}/current/.pre-migrate.dump`)
    assert.equal(dump.trim(), 'root root 600')
    const tamper = await asApp(`cat ${ROOT}/current/.pre-migrate.dump > /dev/null || echo refused; printf x >> ${ROOT}/current/.pre-migrate.dump`)
    assert.notEqual(tamper.code, 0)
    assert.match(tamper.stdout, /refused/)

    // A dump the app user could have written (as in a former layout) is never restored.
    const foreign = await lab.ssh('web1', [
      `sudo -n chown ${PROJECT} ${ROOT}/current/.pre-migrate.dump`,
      `sudo -n ${ROOT}/bin/deploy restore ${ROOT}/current; echo "exit $?"`,
      `sudo -n chown root ${ROOT}/current/.pre-migrate.dump`,
    ].join('\n'), { user: 'deploy', port: SSH_PORT, key: lab.keys.deploy })
    assert.match(foreign.stdout, /exit 1/)
    assert.match(foreign.stderr, /a dump the project user could write is never restored/)

    const rolled = await run('rollback', { backend_rollback_restore_database: true })
    assertOk(rolled)
    assert.equal(pageVersion((await get('/')).body), '1.0.0')
    const columns = await asRoot(`runuser -u postgres -- psql -tA -d ${PROJECT} -c "SELECT column_name FROM information_schema.columns WHERE table_name = 'pages_note'"`)
    assert.doesNotMatch(columns, /extra/, 'the dump was restored')
    const tables = await asRoot(`runuser -u postgres -- psql -tA -d ${PROJECT} -c "SELECT count(*) FROM pg_tables WHERE tablename LIKE 'x''%'"`)
    assert.equal(tables.trim(), '1', 'the hostile table came back with the dump')

    await assertNothingEscaped()

    // nginx: an upload is served, the link to a file www-data can read is not.
    const upload = await get('/media/uploads/ok.txt')
    assert.equal(upload.status, 200)
    assert.equal(upload.body, 'an upload\n')
    const leak = await get('/media/leak.txt')
    assert.ok([403, 404].includes(leak.status), `a link under /media/ answered ${leak.status}`)
    assert.doesNotMatch(leak.body, /root:x:0:0/)
    const css = (await get('/')).body.match(/href="(\/static\/[^"]+\.css)"/)?.[1]
    assert.ok(css)
    assert.equal((await get(css)).status, 200, 'published static files are served')
  })

  test('an off-site backup and a restore of that database and media change nothing outside the app\'s tree either', LONG, async () => {
    await asRoot(`systemctl start ${UNIT}.service`)
    // The site kept serving (and writing) since the backup: the freshness check would refuse.
    assertOk(await run('restore', { backend_restore_force: true }))
    assert.equal(pageVersion((await get('/')).body), '1.0.0')
    await assertNothingEscaped()
    const leak = await get('/media/leak.txt')
    assert.ok([403, 404].includes(leak.status), `a restored link under /media/ answered ${leak.status}`)
  })

  test('the app\'s processes run with umask 027; <project>-ctl run by root never holds root\'s terminal', LONG, async () => {
    const umasks = await asRoot(`for p in $(pgrep -u ${PROJECT} -f gunicorn); do grep ^Umask: /proc/$p/status; done | sort | uniq -c`)
    assert.match(umasks.trim(), /^\d+ Umask:\s+0027$/, umasks)
    assert.equal(umasks.trim().split('\n').length, 1, umasks)
    const ctl = `/usr/local/bin/${PROJECT}-ctl shell -c 'import os; print(os.ttyname(0) if os.isatty(0) else "no tty", oct(os.umask(0)), os.getsid(0) == os.getpid())'`
    // From a terminal (script gives the command one): the app's code gets a terminal of its own.
    // The terminal carries stderr too (the settings' warnings): only the two lines printed are read.
    const typescript = (await asRoot(`script -qec "tty; ${ctl.replace(/"/g, '\\"')}" /dev/null < /dev/null`)).replace(/\r/g, '')
    const inTerminal = typescript.split('\n').filter((l) => l.startsWith('/dev/pts/'))
    assert.equal(inTerminal.length, 2, typescript)
    assert.match(inTerminal[0]!, /^\/dev\/pts\/\d+$/)
    assert.match(inTerminal[1]!, /^\/dev\/pts\/\d+ 0o27 True$/)
    assert.notEqual(inTerminal[1]!.split(' ')[0], inTerminal[0], 'the app\'s code got the caller\'s terminal')
    // Without one: a session of its own, no controlling terminal to reach.
    assert.equal((await asRoot(`${ctl} < /dev/null`)).trim(), 'no tty 0o27 True')
  })

  test('every path of the backend README\'s ownership table has its owner, group and mode on the server', LONG, async () => {
    const table = ownershipTable()
    assert.ok(table.length >= 20, `${table.length} rows in the table`)
    const release = (await asRoot(`readlink -f ${ROOT}/current`)).trim()
    const venv = (await asRoot(`readlink -f ${ROOT}/current/venv`)).trim()
    // The rollback made the previous release live: the release that migrated holds the dump.
    const dumped = (await asRoot(`ls -1d ${ROOT}/releases/*/.pre-migrate.dump | tail -n 1`)).trim()
    const paths = table.filter((r) => !r.sqliteOnly).map((r) => {
      let p = r.path.replace(/<org>/g, ORG).replace(/<project>/g, PROJECT).replace(/<hash>/g, venv.split('/').pop()!)
      p = p.endsWith('/.pre-migrate.dump') ? dumped : p.replace(/^.*<release>/, release)
      return { ...r, real: p, expected: `${r.owner.replace('<project>', PROJECT)} ${r.group.replace('<project>', PROJECT)} ${r.mode}` }
    })
    const out = await asRoot(paths.map((p) => `printf '%s %s\\n' '${p.real}' "$(stat -c '%U %G %04a' '${p.real}')"`).join('\n'))
    const seen = Object.fromEntries(out.trim().split('\n').map((l) => { const [p, ...rest] = l.split(' '); return [p!, rest.join(' ')] }))
    for (const p of paths) assert.equal(seen[p.real], p.expected, `${p.path} (${p.real})`)
  })
})

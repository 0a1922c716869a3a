// The app's unix user is the attacker's user. On one server through the four playbooks, the app user
// plants links at every name root's tasks use in the directories it may write (the former layout's
// .ssh/ and repo/ included), a table with a hostile name and one using a superuser's extensions in
// its database, tries to tamper with what root wrote, and keeps trying to write into every release
// and venv while a deploy builds them; then a deploy from git that migrates, a rollback that restores
// the pre-migration dump, an off-site backup and a restore run. Nothing outside the app's tree
// changed, nothing planted reached a log, postgres never ran the hostile SQL, the database works with
// its extensions, nginx serves no link, nothing the app wrote reached a build; and every path of the
// backend README's ownership table has the owner, group and mode the table says.
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
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
const BUILD_USER = `${PROJECT}-build`
/** A repository on the server itself, root's: the deploy from git fetches it (file transport). */
const GIT_REPO = '/var/lib/boundary-git/example.git'
/** Written by the app user's process that tries to write into builds during the deploy. */
const ATTACKER_LOG = '/tmp/boundary-attacker.log'
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
  'uploads', 'known_hosts', 'deploy_key', '.git']

/** Version 2: the migration, and requirements of its own (a venv is built during the deploy too). */
function version2(app: string): void {
  addExtraField(app)
  writeFileSync(join(app, 'requirements.txt'), `${readFileSync(join(app, 'requirements.txt'), 'utf8')}# version 2\n`)
}

/**
 * Run as the app user in the background: every 0.3 s, tries to write into each release and venv and
 * the directories in them, and to read a build in progress; logs what it saw being built, and every
 * success. It stops when /tmp/boundary-attacker.stop exists.
 */
const ATTACKER = `
while [ ! -e /tmp/boundary-attacker.stop ]; do
  for d in ${ROOT}/releases/* ${ROOT}/venvs/*; do
    [ -d "$d" ] || continue
    owner=$(stat -c %U "$d" 2>/dev/null) || continue
    if [ "$owner" = ${BUILD_USER} ]; then
      grep -qsxF "building $d" ${ATTACKER_LOG} || echo "building $d" >> ${ATTACKER_LOG}
      ls -A "$d" > /dev/null 2>&1 && echo "read $d during its build" >> ${ATTACKER_LOG}
    fi
    for t in "$d" "$d"/*/; do
      if touch "$t/boundary-evil" 2>/dev/null || mkdir "$t/boundary-evil.d" 2>/dev/null; then echo "wrote in $t ($owner)" >> ${ATTACKER_LOG}; fi
    done
    [ -f "$d/manage.py" ] && (echo '# evil' >> "$d/manage.py") 2>/dev/null && echo "appended to $d/manage.py ($owner)" >> ${ATTACKER_LOG}
  done
  sleep 0.3
done
`

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

  /** Extensions a superuser created in the app's database are still there, the superuser's, and the app's table using them answers. */
  async function assertExtensionsWork() {
    const ext = await asRoot(`runuser -u postgres -- psql -tA -d ${PROJECT} -c "SELECT extname || ':' || pg_get_userbyid(extowner) FROM pg_extension WHERE extname IN ('citext', 'pg_trgm', 'dblink') ORDER BY 1" -c "SELECT count(*) FROM boundary_ext WHERE n = 'mixed case' AND n::text % 'Mixed Cas'"`)
    assert.equal(ext.trim(), 'citext:postgres\ndblink:postgres\npg_trgm:postgres\n1')
  }

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
    // The lab's hardening packages (src/lab/inventory.ts): aide and rkhunter add nothing the app user reaches.
    inventory = await lab.writeInventory({
      hardening: 'lab',
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
      // Extensions a superuser creates in the app's database (dblink: one the app could not create itself).
      `runuser -u postgres -- psql -q -d ${PROJECT} -c 'CREATE EXTENSION citext' -c 'CREATE EXTENSION pg_trgm' -c 'CREATE EXTENSION dblink'`,
      // git (which the deploy from git installs) before the snapshot; version 2 in a repository of root's.
      'DEBIAN_FRONTEND=noninteractive apt-get install -y -q git > /dev/null',
      'rm -rf /tmp/boundary-src && mkdir /tmp/boundary-src',
      `base64 -d <<'EOF' | tar -xz -C /tmp/boundary-src\n${execFileSync('tar', ['-C', appCopy(join(repoRoot, 'app'), work, '2.0.0', version2), '-cz', '.']).toString('base64')}\nEOF`,
      'cd /tmp/boundary-src && git init -q -b main && git add -A && git -c user.name=t -c user.email=t@t commit -qm v2 && cd /',
      `install -d -m 0755 /var/lib/boundary-git && rm -rf ${GIT_REPO} && git clone -q --bare /tmp/boundary-src ${GIT_REPO} && rm -rf /tmp/boundary-src`,
      // The former layout: git ran as the app user in these (planted in below).
      `install -d -o ${PROJECT} -g ${PROJECT} -m 0700 ${ROOT}/.ssh ${ROOT}/repo`,
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
        '    c.execute("CREATE TABLE boundary_ext (n citext)")',
        '    c.execute("CREATE INDEX boundary_ext_trgm ON boundary_ext USING gin ((n::text) gin_trgm_ops)")',
        '    c.execute("INSERT INTO boundary_ext VALUES (\'Mixed Case\')")',
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
    for (const d of [`${ROOT}/shared/media`, `${ROOT}/shared/backups`, `${ROOT}/sockets`, `/var/log/${ORG}/${PROJECT}/app`, `${ROOT}/.ssh`, `${ROOT}/repo`]) {
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

    // While the deploy builds, a process of the app user tries to write into every release and venv.
    const started = await asApp([
      `rm -f ${ATTACKER_LOG} /tmp/boundary-attacker.stop`,
      `cat > /tmp/boundary-attacker.sh <<'EOF'\n${ATTACKER}\nEOF`,
      'setsid nohup sh /tmp/boundary-attacker.sh < /dev/null > /dev/null 2>&1 &',
    ].join('\n'))
    assert.equal(started.code, 0, started.stderr)

    // A deploy from git that migrates (dump, switch, prune), then a rollback restoring the dump. The
    // deploy key and host keys are written by root where only root can write.
    const keyDir = mkdtempSync(join(work, 'deploy-key-'))
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'boundary', '-f', join(keyDir, 'id')])
    const deployKey = readFileSync(join(keyDir, 'id'), 'utf8')
    const hostKey = readFileSync(join(lab.hosts[0]!.rootfs, 'etc/ssh/ssh_host_ed25519_key.pub'), 'utf8').split(' ').slice(0, 2).join(' ')
    const migrated = await run('backend', {
      backend_code_source: 'git', backend_git_repo: GIT_REPO, backend_git_version: 'main',
      backend_git_deploy_key: deployKey, backend_git_known_hosts: [`localhost ${hostKey}`],
    })
    const stopped = await asApp(`touch /tmp/boundary-attacker.stop; sleep 2; cat ${ATTACKER_LOG}`)
    assertOk(migrated)
    assert.match(migrated.output, /The database is dumped into the release before it migrates\] \**\nchanged/)
    assert.equal(pageVersion((await get('/')).body), '2.0.0')
    assert.ok(!migrated.output.includes(deployKey.split('\n')[1]!), 'the deploy key is in the output')

    // The attacker saw the release and the venv being built and could neither read nor write them.
    console.log(`the app user's process during the deploy:\n${stopped.stdout}`)
    assert.match(stopped.stdout, new RegExp(`^building ${ROOT}/releases/\\d{8}T\\d{6}Z$`, 'm'))
    assert.match(stopped.stdout, new RegExp(`^building ${ROOT}/venvs/[0-9a-f]{16}\\.tmp$`, 'm'))
    assert.doesNotMatch(stopped.stdout, /^(read|wrote|appended)/m)
    const evil = await asRoot(`find ${ROOT}/releases ${ROOT}/venvs -name 'boundary-evil*' | wc -l; grep -rlsF '# evil' ${ROOT}/releases | wc -l`)
    assert.equal(evil.trim(), '0\n0')

    // git: root's clone and keys in root's git/; the former layout's .ssh/ and repo/ are gone.
    const git = await asRoot([
      `stat -c '%n %U %G %a' ${ROOT}/git ${ROOT}/git/.ssh ${ROOT}/git/.ssh/deploy_key ${ROOT}/git/.ssh/known_hosts ${ROOT}/git/repo`,
      `ls -d ${ROOT}/.ssh ${ROOT}/repo 2>&1 | grep -c 'No such file' || true`,
    ].join('\n'))
    assert.equal(git.trim(), [`${ROOT}/git root root 700`, `${ROOT}/git/.ssh root root 700`, `${ROOT}/git/.ssh/deploy_key root root 600`,
      `${ROOT}/git/.ssh/known_hosts root root 644`, `${ROOT}/git/repo root root 755`, '2'].join('\n'))
    for (const a of [`ls ${ROOT}/git`, `cat ${ROOT}/git/.ssh/deploy_key`, `touch ${ROOT}/git/evil`, `mkdir ${ROOT}/.ssh`]) {
      const r = await asApp(a)
      assert.notEqual(r.code, 0, `the app user could: ${a}`)
    }
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
    await assertExtensionsWork()

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
    await assertExtensionsWork()
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

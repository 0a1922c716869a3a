// The whole story on one fresh server, as a team lives it: bootstrap, base, backend and frontend in
// order (site.yml), then the example app answers over HTTPS for each of its names with a certificate
// from an ACME CA (pebble, validating http-01 for real), and a second run of all four changes nothing.
// The server's own mail (cron's) goes out through a real SMTP relay on this machine (STARTTLS and a
// login, as Mailgun's), and Lynis rates the deployed server's hardening. It is also the version
// matrix's Ansible 2.14 → Debian 12 cell (test/support/cell.ts; the other cells: matrix.test.ts).
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { DEBIAN_PYTHON_VARS, startLab, type Lab, type PlaybookResult } from '../../src/lab/index.ts'
import { startAcme, type Acme } from '../support/acme.ts'
import { appCopy } from '../support/app.ts'
import { assertRoleTaskNames, assertSshdAlgorithmOrder, assertUnchanged, pageVersion } from '../support/cell.ts'
import { curl } from '../support/curl.ts'
import { run } from '../../src/core/exec.ts'

const LONG = { timeout: 30 * 60_000 }
const NAMES = ['web1.test', 'www.web1.test']
const ROOT = '/srv/example-org/example'
const SSH_PORT = 2222
const SMTP_PORT = 2525
const LYNIS_MIN = 85

/** A CA and a certificate for the relay's address, made with openssl. */
async function relayCertificate(dir: string, address: string): Promise<{ ca: string; cert: string; key: string }> {
  const f = (n: string) => join(dir, n)
  const ok = async (args: string[]) => assert.equal((await run('openssl', args, { timeoutMs: 60_000 })).code, 0, args.join(' '))
  await ok(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=lab SMTP CA',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-keyout', f('smtp-ca.key'), '-out', f('smtp-ca.pem')])
  await ok(['req', '-newkey', 'rsa:2048', '-nodes', '-subj', `/CN=${address}`, '-keyout', f('smtp.key'), '-out', f('smtp.csr')])
  writeFileSync(f('smtp.ext'), `subjectAltName=IP:${address}\n`)
  await ok(['x509', '-req', '-in', f('smtp.csr'), '-CA', f('smtp-ca.pem'), '-CAkey', f('smtp-ca.key'), '-CAcreateserial',
    '-days', '2', '-extfile', f('smtp.ext'), '-out', f('smtp.pem')])
  return { ca: f('smtp-ca.pem'), cert: f('smtp.pem'), key: f('smtp.key') }
}

describe('site: a fresh server through the four playbooks', () => {
  let lab: Lab
  let acme: Acme
  let inventory: string
  let address: string
  let caFile: string
  let relay: ChildProcess | undefined
  let mailDir: string
  const relayPassword = `relay-${randomBytes(12).toString('hex')}`

  /** curl from this machine, the name resolving to the server as public DNS would. */
  const get = (url: string, args: string[] = []) => curl(url, { address, caFile, args })

  /** A command on the server as the deploy user on the new SSH port (root cannot log in any more). */
  async function onServer(cmd: string) {
    const r = await lab.ssh('web1', cmd, { user: 'deploy', port: SSH_PORT, key: lab.keys.deploy })
    assert.equal(r.code, 0, `${cmd}: ${r.stderr}`)
    return r.stdout
  }

  async function playbook(name: string, extraVars?: Record<string, unknown>): Promise<PlaybookResult> {
    const started = Date.now()
    const r = await lab.runPlaybook(name, { inventory, extraVars })
    process.stdout.write(`# ${name}: ${((Date.now() - started) / 1000).toFixed(0)} s, ${JSON.stringify(r.recap.web1)}\n`)
    assert.equal(r.code, 0, r.output.slice(-4000))
    return r
  }

  before(async () => {
    lab = await startLab({ hosts: ['web1'] })
    address = lab.hosts[0]!.address
    acme = await startAcme(lab, { names: Object.fromEntries(NAMES.map((n) => [n, address])) })
    caFile = join(lab.dir, 'acme-root.pem')
    writeFileSync(caFile, await acme.issuerRootPem())
    // The SMTP relay (Debian's python3-aiosmtpd) listens on the lab's gateway, as Mailgun would on the Internet.
    const gateway = lab.hosts[0]!.gateway
    const tls = await relayCertificate(lab.dir, gateway)
    mailDir = join(lab.dir, 'mail')
    relay = spawn('/usr/bin/python3', [fileURLToPath(new URL('fixtures/smtp-relay.py', import.meta.url)), gateway, String(SMTP_PORT), tls.cert, tls.key,
      'postmaster@mg.web1.test', mailDir], { stdio: ['pipe', 'pipe', 'inherit'] })
    relay.stdin!.end(`${relayPassword}\n`)
    await new Promise<void>((resolve, reject) => {
      relay!.stdout!.once('data', () => resolve())
      relay!.once('exit', (code) => reject(new Error(`the SMTP relay exited (${code})`)))
    })
    inventory = await lab.writeInventory({
      vars: {
        server_ssh_port: SSH_PORT,
        public_hostnames: NAMES,
        frontend_acme_directory_url: acme.directoryUrl,
        frontend_acme_ca_bundle: acme.caBundlePem,
        frontend_acme_email: 'ops@web1.test',
        base_mail_relay_host: gateway,
        base_mail_relay_port: SMTP_PORT,
        base_mail_relay_ca_bundle: readFileSync(tls.ca, 'utf8'),
        base_unattended_upgrades_mail: 'ops@web1.test',
        ...DEBIAN_PYTHON_VARS,
      },
      vault: { vault_mailgun_domain: 'mg.web1.test', vault_mailgun_smtp_password: relayPassword },
    })
  }, LONG)

  after(async () => {
    relay?.kill()
    await acme?.stop()
    await lab?.destroy()
  })

  test('bootstrap, base, backend and frontend run in order on a fresh server', LONG, async () => {
    for (const name of ['bootstrap', 'base', 'backend', 'frontend']) await playbook(name)
  })

  test('the example page answers over HTTPS for each name, with a certificate from the ACME CA', LONG, async () => {
    for (const name of NAMES) {
      const page = await get(`https://${name}/`)
      assert.equal(page.exit, 0, `https://${name}/: curl exit ${page.exit}`)
      assert.equal(page.status, 200)
      assert.match(page.body, /id="version">/)
      assert.match(page.headers['strict-transport-security'] ?? '', /^max-age=/)
    }
    const health = await get(`https://${NAMES[0]}/health/`)
    assert.equal(health.status, 200)
  })

  test('plain HTTP redirects to HTTPS', LONG, async () => {
    const r = await get(`http://${NAMES[0]}/some/page`)
    assert.equal(r.status, 301)
    assert.equal(r.headers.location, `https://${NAMES[0]}/some/page`)
  })

  test('a request for any other Host gets no answer', LONG, async () => {
    for (const url of [`http://${address}/`, 'http://evil.test/', 'https://evil.test/']) {
      const r = await get(url, ['-k'])
      // 52: empty reply (nginx's 444 closes the connection); 56: reset while receiving; 35: TLS closed.
      assert.ok([52, 56, 35].includes(r.exit), `${url}: curl exit ${r.exit}, status ${r.status}`)
      assert.equal(r.status, 0)
    }
  })

  test('static files come from nginx, not gunicorn', LONG, async () => {
    const css = await get(`https://${NAMES[0]}/static/pages/site.css`)
    assert.equal(css.status, 200)
    assert.match(css.body, /example-project stylesheet/)
    assert.ok(css.lines.includes('cache-control: public, max-age=31536000, immutable'), css.lines.join('\n'))
    const logs = await onServer(`sudo -n sh -c 'cat /var/log/example-org/example/gunicorn-*.log'`)
    assert.match(logs, /"GET \/ HTTP/, 'gunicorn logs the page requests')
    assert.doesNotMatch(logs, /GET \/static\//, 'a static file reached gunicorn')
  })

  test('the admin login page renders', LONG, async () => {
    const admin = await get(`https://${NAMES[0]}/admin/login/`)
    assert.equal(admin.status, 200)
    assert.match(admin.body, /Django administration/)
  })

  test('sshd prefers the algorithms in the bootstrap role\'s order', LONG, async () => {
    assertSshdAlgorithmOrder(await onServer('cat /etc/ssh/sshd_config'))
  })

  test('settings.ini is root\'s, readable by the project\'s group only; the daily backup is in cron; the ctl wrapper runs manage.py', LONG, async () => {
    assert.equal((await onServer(`sudo -n stat -c '%a %U %G' ${ROOT}/etc/settings.ini`)).trim(), '640 root example')
    const other = await lab.ssh('web1', `cat ${ROOT}/etc/settings.ini`, { user: 'deploy', port: SSH_PORT, key: lab.keys.deploy })
    assert.notEqual(other.code, 0, 'settings.ini is readable by another user')
    assert.match(await onServer('sudo -n crontab -u example -l'), /\/usr\/local\/bin\/example-ctl backup_db backup/)
    assert.match(await onServer('sudo -n -u example /usr/local/bin/example-ctl showmigrations pages'), /\[X\] 0001_initial/)
  })

  test('a second run of all four playbooks changes nothing; the results name every role\'s task "role : name"', LONG, async () => {
    const r = await playbook('site')
    assertUnchanged(r)
    assert.equal(r.recap.web1?.failed, 0)
    assertRoleTaskNames(r)
  })

  test('mail from root\'s cron reaches the SMTP relay; the app user can neither run msmtp nor read its password', LONG, async () => {
    const token = randomBytes(6).toString('hex')
    await onServer(`echo '* * * * * root echo cron-root-${token}' | sudo -n tee /etc/cron.d/mail-probe >/dev/null`)
    try {
      const deadline = Date.now() + 4 * 60_000
      let mails: string[] = []
      while (Date.now() < deadline) {
        mails = existsSync(mailDir) ? readdirSync(mailDir).map((f) => readFileSync(join(mailDir, f), 'utf8')) : []
        if (mails.some((m) => m.includes(`cron-root-${token}`))) break
        await new Promise((r) => setTimeout(r, 5000))
      }
      const root = mails.find((m) => m.includes(`cron-root-${token}`))
      assert.ok(root, `no mail from root's cron job came (${mails.length} mails)`)
      assert.match(root, /^X-Test-Rcpt-To: ops@web1\.test$/m)
      assert.match(root, /^X-Test-Mail-From: web1@mg\.web1\.test$/m)
    } finally {
      await onServer('sudo -n rm -f /etc/cron.d/mail-probe')
    }
    assert.equal((await onServer('stat -c "%a %U %G" /etc/msmtprc /usr/bin/msmtp')).trim(), '640 root msmtp\n750 root msmtp')
    // The app's user (the attacker's, once the app is compromised) and the deploy user are not in the
    // msmtp group: msmtp --debug would print the password to them; they cannot run it, nor read its file.
    const probe = 'for c in "cat /etc/msmtprc" "/usr/bin/msmtp --debug --serverinfo" "/usr/sbin/sendmail -t"; do '
      + '$c </dev/null >/dev/null 2>&1; echo "$c: $?"; done; id -nG'
    const asApp = await onServer(`sudo -n -u example sh -c '${probe}'`)
    const [cat, msmtp, sendmail, groups] = asApp.trim().split('\n')
    assert.deepEqual([cat, msmtp, sendmail], ['cat /etc/msmtprc: 1', '/usr/bin/msmtp --debug --serverinfo: 126', '/usr/sbin/sendmail -t: 126'])
    assert.ok(!groups!.split(' ').includes('msmtp'), `the app user is in the msmtp group: ${groups}`)
    const other = await lab.ssh('web1', `sh -c '${probe}'`, { user: 'deploy', port: SSH_PORT, key: lab.keys.deploy })
    assert.match(other.stdout, /^cat \/etc\/msmtprc: 1\n\/usr\/bin\/msmtp --debug --serverinfo: 126\n/, '/etc/msmtprc or msmtp is open to another user')
    assert.ok(!other.stdout.includes(relayPassword) && !asApp.includes(relayPassword))
  })

  test(`Lynis rates the deployed server's hardening at ${LYNIS_MIN} or more`, LONG, async (t) => {
    // Lynis itself is a test tool, installed for the audit only (Debian's package, through the lab's apt cache).
    await onServer('sudo -n env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends lynis >/dev/null')
    await onServer('sudo -n lynis audit system --quick --no-colors >/dev/null 2>&1 || true')
    const report = await onServer('sudo -n cat /var/log/lynis-report.dat')
    const index = Number(/^hardening_index=(\d+)$/m.exec(report)?.[1] ?? NaN)
    const suggestions = report.split('\n').filter((l) => l.startsWith('suggestion[]=')).map((l) => l.slice(13).split('|')[0])
    t.diagnostic(`Lynis hardening index ${index}; suggestions: ${suggestions.join(' ')}`)
    process.stdout.write(`# lynis hardening index: ${index}\n`)
    assert.ok(index >= LYNIS_MIN, `hardening index ${index} < ${LYNIS_MIN}; suggestions: ${suggestions.join(' ')}`)
  })

  test('a code-only deploy (backend) serves the new version', LONG, async () => {
    const app = appCopy(fileURLToPath(new URL('../../app', import.meta.url)), join(lab.dir, 'releases'), '1.0.1')
    const r = await playbook('backend', { backend_archive_src: app })
    assert.equal(r.recap.web1?.failed, 0)
    assert.equal(pageVersion((await get(`https://${NAMES[0]}/`)).body), '1.0.1')
  })
})

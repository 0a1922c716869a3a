// The whole story on one fresh server, as a team lives it: bootstrap, base, backend and frontend in
// order (site.yml), then the example app answers over HTTPS for each of its names with a certificate
// from an ACME CA (pebble, validating http-01 for real), and a second run of all four changes nothing.
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { DEBIAN_PYTHON_VARS, startLab, type Lab, type PlaybookResult } from '../../src/lab/index.ts'
import { startAcme, type Acme } from '../support/acme.ts'
import { curl } from '../support/curl.ts'

const LONG = { timeout: 30 * 60_000 }
const NAMES = ['web1.test', 'www.web1.test']
const ROOT = '/srv/example-org/example'
const SSH_PORT = 2222

describe('site: a fresh server through the four playbooks', () => {
  let lab: Lab
  let acme: Acme
  let inventory: string
  let address: string
  let caFile: string

  /** curl from this machine, the name resolving to the server as public DNS would. */
  const get = (url: string, args: string[] = []) => curl(url, { address, caFile, args })

  /** A command on the server as the deploy user on the new SSH port (root cannot log in any more). */
  async function onServer(cmd: string) {
    const r = await lab.ssh('web1', cmd, { user: 'deploy', port: SSH_PORT, key: lab.keys.deploy })
    assert.equal(r.code, 0, `${cmd}: ${r.stderr}`)
    return r.stdout
  }

  async function playbook(name: string): Promise<PlaybookResult> {
    const started = Date.now()
    const r = await lab.runPlaybook(name, { inventory })
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
    inventory = await lab.writeInventory({
      vars: {
        server_ssh_port: SSH_PORT,
        public_hostnames: NAMES,
        frontend_acme_directory_url: acme.directoryUrl,
        frontend_acme_ca_bundle: acme.caBundlePem,
        frontend_acme_email: 'ops@web1.test',
        ...DEBIAN_PYTHON_VARS,
      },
    })
  }, LONG)

  after(async () => {
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

  test('settings.ini is root\'s, readable by the project\'s group only; the daily backup is in cron; the ctl wrapper runs manage.py', LONG, async () => {
    assert.equal((await onServer(`sudo -n stat -c '%a %U %G' ${ROOT}/etc/settings.ini`)).trim(), '640 root example')
    const other = await lab.ssh('web1', `cat ${ROOT}/etc/settings.ini`, { user: 'deploy', port: SSH_PORT, key: lab.keys.deploy })
    assert.notEqual(other.code, 0, 'settings.ini is readable by another user')
    assert.match(await onServer('sudo -n crontab -u example -l'), /\/usr\/local\/bin\/example-ctl backup_db backup/)
    assert.match(await onServer('sudo -n -u example /usr/local/bin/example-ctl showmigrations pages'), /\[X\] 0001_initial/)
  })

  test('a second run of all four playbooks changes nothing', LONG, async () => {
    const r = await playbook('site')
    assert.equal(r.recap.web1?.changed, 0, r.output.slice(-4000))
    assert.equal(r.recap.web1?.failed, 0)
  })
})

// The frontend role on a real host, checked from this machine: nginx serves each project's names
// over HTTPS with certificates from a local ACME CA (pebble, validating http-01 for real), redirects
// HTTP, closes connections for unknown hosts (refusing their TLS handshake), speaks TLS 1.2+ only, serves static files itself, keeps serving when a
// configuration is bad, renews through certbot's timer unit, and changes nothing on a second run.
// The backend is stood in for by a fixture (a small HTTP application and its nginx-upstream.conf).
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { connect, type PeerCertificate } from 'node:tls'
import { startLab, type Lab, type PlaybookResult } from '../../src/lab/index.ts'
import { startAcme, type Acme } from '../support/acme.ts'
import { curl as curlResolved, type CurlReply } from '../support/curl.ts'
import { run } from '../../src/core/exec.ts'

const LONG = { timeout: 15 * 60_000 }

interface Project {
  org: string
  slug: string
  names: string[]
  port: number
}

const fixtureApp = readFileSync(new URL('fixtures/frontend-app.sh', import.meta.url), 'utf8')

const shop: Project = { org: 'example-org', slug: 'shop', names: ['web1.test', 'www.web1.test'], port: 8001 }
const blog: Project = { org: 'other-org', slug: 'blog', names: ['blog.test'], port: 8002 }
const blogRenamed: Project = { ...blog, names: ['blog.test', 'www.blog.test'] }

describe('frontend', () => {
  let lab: Lab
  let acme: Acme
  let inventory: string
  let address: string
  let rootFile: string
  let issuerRoot: string

  const projectVars = (p: Project) => ({ organization_slug: p.org, project_slug: p.slug, public_hostnames: p.names })
  const siteFile = (p: Project) => `/etc/nginx/sites-enabled/${p.org}-${p.slug}.conf`

  async function playbook(name: string, p: Project, extraVars: Record<string, unknown> = {}): Promise<PlaybookResult> {
    const started = Date.now()
    const r = await lab.runPlaybook(name, { inventory, extraVars: { ...projectVars(p), ...extraVars } })
    const recap = r.recap.web1
    process.stdout.write(`# ${name} for ${p.slug}: ${((Date.now() - started) / 1000).toFixed(1)} s, ${JSON.stringify(recap)}\n`)
    return r
  }

  async function deploy(p: Project): Promise<void> {
    const app = await lab.ssh('web1', `bash -s -- ${p.org} ${p.slug} ${p.port}`, { input: fixtureApp })
    assert.equal(app.code, 0, app.stderr)
    const r = await playbook('frontend', p)
    assert.equal(r.code, 0, r.output)
  }

  /** curl from this machine; `name` resolves to the host's address, as public DNS would. */
  const curl = (url: string, opts: { name?: string; args?: string[] } = {}): Promise<CurlReply> => curlResolved(url, { address, caFile: rootFile, ...opts })

  /** The certificate nginx presents for `name` (verified against the ACME CA's root). */
  function servedCert(name: string): Promise<PeerCertificate> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host: address, port: 443, servername: name, ca: issuerRoot, timeout: 20_000 }, () => {
        const cert = socket.getPeerCertificate()
        socket.end()
        resolve(cert)
      })
      socket.on('timeout', () => socket.destroy(new Error(`TLS to ${name}: timeout`)))
      socket.on('error', reject)
    })
  }

  const ssh = async (cmd: string) => {
    const r = await lab.ssh('web1', cmd)
    assert.equal(r.code, 0, `${cmd}: ${r.stderr}`)
    return r.stdout
  }

  before(async () => {
    lab = await startLab({ hosts: ['web1'] })
    address = lab.hosts[0]!.address
    acme = await startAcme(lab, { names: Object.fromEntries([...shop.names, ...blogRenamed.names].map((n) => [n, address])) })
    issuerRoot = await acme.issuerRootPem()
    rootFile = join(lab.dir, 'acme', 'issuer-root.pem')
    writeFileSync(rootFile, issuerRoot)
    inventory = await lab.writeInventory({
      vars: {
        // bootstrap is not run here: connect as root on port 22, as on a fresh server.
        ...lab.rootLogin,
        frontend_acme_directory_url: acme.directoryUrl,
        frontend_acme_ca_bundle: acme.caBundlePem,
        frontend_acme_email: 'ops@web1.test',
      },
    })
  }, LONG)

  after(async () => {
    await acme?.stop()
    await lab?.destroy()
  })

  test('the first run installs nginx, gets a certificate from the ACME CA and serves the site over HTTPS', LONG, async () => {
    await deploy(shop)
    for (const name of shop.names) {
      const r = await curl(`https://${name}/some/page?x=1`)
      assert.equal(r.exit, 0, `curl https://${name}: exit ${r.exit}`)
      assert.equal(r.status, 200)
      const app = JSON.parse(r.body) as { project: string; path: string; headers: Record<string, string> }
      assert.equal(app.project, 'shop')
      assert.equal(app.path, '/some/page?x=1')
      // The application sees the public request through the proxy headers.
      assert.equal(app.headers.host, name)
      assert.equal(app.headers['x-forwarded-proto'], 'https')
      assert.equal(app.headers['x-real-ip'], lab.hosts[0]!.gateway)
      assert.equal(app.headers['x-forwarded-for'], lab.hosts[0]!.gateway)
      assert.match(r.headers['strict-transport-security'] ?? '', /^max-age=\d+/)
      assert.equal(r.headers['x-content-type-options'], 'nosniff')
      // The application's own X-Frame-Options wins; nginx adds the headers it did not send.
      assert.deepEqual(r.lines.filter((l) => l.startsWith('x-frame-options:')), ['x-frame-options: DENY'])
      assert.equal(r.headers['referrer-policy'], 'strict-origin-when-cross-origin')
      assert.equal(r.headers.server, 'nginx', 'no version in the Server header')
    }
    const cert = await servedCert('www.web1.test')
    assert.match(String(cert.issuer.CN), /^Pebble Intermediate CA/)
    assert.equal(cert.subjectaltname, 'DNS:web1.test, DNS:www.web1.test')
  })

  test('HTTP redirects to HTTPS, except the ACME challenge path', async () => {
    const r = await curl('http://www.web1.test/a/b?c=d')
    assert.equal(r.status, 301)
    assert.equal(r.headers.location, 'https://www.web1.test/a/b?c=d')
    const challenge = await curl('http://web1.test/.well-known/acme-challenge/no-such-token')
    assert.equal(challenge.status, 404)
  })

  test('a request for an unknown host name gets no answer, over HTTP and HTTPS', async () => {
    const cases = [
      await curl('http://unknown.test/'),
      await curl(`http://${address}/`, { name: '' }),
      // Right certificate name, wrong Host header.
      await curl('https://web1.test/', { args: ['-H', 'Host: other.test'] }),
    ]
    for (const r of cases) {
      assert.equal(r.status, 0, 'an HTTP status came back')
      assert.ok([52, 56].includes(r.exit), `curl exit ${r.exit} (52: empty reply expected)`)
    }
    // TLS for an unknown name (or none) is refused in the handshake: no certificate at all is shown.
    for (const servername of ['unknown.test', '']) {
      const shown = await new Promise<string>((resolve) => {
        const socket = connect({ host: address, port: 443, servername, rejectUnauthorized: false, timeout: 20_000 }, () => {
          resolve(`a certificate: ${socket.getPeerCertificate().subject?.CN ?? '?'}`)
          socket.end()
        })
        socket.on('timeout', () => socket.destroy(new Error('timeout')))
        socket.on('error', (e) => resolve(e.message))
      })
      assert.match(shown, /alert|unrecognized name|handshake failure/i, `TLS for "${servername}": ${shown}`)
    }
  })

  test('nginx speaks TLS 1.2 and 1.3 only and hides its version everywhere', async () => {
    const attempt = async (version: string) => run('openssl', [
      's_client', '-connect', `${address}:443`, '-servername', 'web1.test', version, '-cipher', 'DEFAULT:@SECLEVEL=0',
    ], { input: '', timeoutMs: 30_000 })
    assert.notEqual((await attempt('-tls1_1')).code, 0, 'TLS 1.1 was accepted')
    assert.notEqual((await attempt('-tls1')).code, 0, 'TLS 1.0 was accepted')
    assert.equal((await attempt('-tls1_2')).code, 0, 'TLS 1.2 was refused')
    // An error page nginx writes itself (not the application's): no version in the header or the body.
    const missing = await curl('https://web1.test/static/nope.css')
    assert.equal(missing.headers.server, 'nginx')
    assert.doesNotMatch(missing.body, /nginx\/\d/)
    const main = await ssh('grep -E "^\\s*(server_tokens|ssl_protocols)" /etc/nginx/nginx.conf')
    assert.deepEqual(main.trim().split('\n').map((l) => l.trim()).sort(), ['server_tokens off;', 'ssl_protocols TLSv1.2 TLSv1.3;'])
  })

  test('static files and media are served by nginx with cache headers, compressed', async () => {
    const css = await curl('https://web1.test/static/css/site.css', { args: ['-H', 'Accept-Encoding: gzip', '--compressed'] })
    assert.equal(css.status, 200)
    assert.match(css.body, /^\/\* shop \*\/ body \{ margin: 0;/)
    assert.equal(css.headers['x-served-by'], undefined, 'the application answered a static file')
    assert.equal(css.headers['cache-control'], 'public, max-age=31536000, immutable')
    assert.equal(css.headers['content-encoding'], 'gzip')
    assert.equal(css.headers['x-content-type-options'], 'nosniff')
    assert.equal(css.headers['x-frame-options'], 'SAMEORIGIN')
    assert.match(css.headers['strict-transport-security'] ?? '', /^max-age=\d+/)
    const media = await curl('https://web1.test/media/hello.txt')
    assert.equal(media.status, 200)
    assert.equal(media.body, 'media of shop\n')
    assert.match(media.headers['cache-control'] ?? '', /max-age=/)
    assert.equal(media.headers['x-served-by'], undefined)
    // Uploads run sandboxed when opened: no scripts, no access to the site's origin.
    assert.match(media.headers['content-security-policy'] ?? '', /^sandbox; default-src 'none'/)
    assert.equal(css.headers['content-security-policy'], undefined, 'static files got the uploads\' policy')
    // The previous release's hashed files answer too (shared/static/), for pages it rendered during a switch.
    const previous = await curl('https://web1.test/static/css/site.0a1b2c.css')
    assert.equal(previous.status, 200)
    assert.equal(previous.body, '/* shop, release 0 */\n')
    const missing = await curl('https://web1.test/static/nope.css')
    assert.equal(missing.status, 404)
    assert.equal(missing.headers['x-served-by'], undefined)
  })

  test('a second project on the same host gets its own site and certificate; both answer', LONG, async () => {
    await deploy(blog)
    const b = await curl('https://blog.test/')
    assert.equal(b.status, 200)
    assert.equal((JSON.parse(b.body) as { project: string }).project, 'blog')
    assert.equal((await servedCert('blog.test')).subjectaltname, 'DNS:blog.test')
    const a = await curl('https://web1.test/')
    assert.equal(a.status, 200)
    assert.equal((JSON.parse(a.body) as { project: string }).project, 'shop')
    assert.equal((await curl('https://blog.test/static/css/site.css')).body.slice(0, 10), '/* blog */')
  })

  test('a second run changes nothing', LONG, async () => {
    const r = await playbook('frontend', shop)
    assert.equal(r.code, 0, r.output)
    assert.equal(r.recap.web1?.changed, 0, r.output)
  })

  test('a bad configuration is refused and the live site keeps serving', LONG, async () => {
    const before = await ssh(`sha256sum ${siteFile(shop)}`)
    const masterPid = await ssh('cat /run/nginx.pid')
    // Valid in the site's file, wrong with the rest of the configuration (the default server has
    // it): only a test of the whole configuration with the candidate in place catches it.
    const r = await playbook('frontend', shop, { frontend_site_extra_directives: ['listen 80 default_server;'] })
    assert.notEqual(r.code, 0, 'a duplicate default server was accepted')
    assert.match(r.output, /failed to validate/)
    assert.match(r.output, /a duplicate default server for 0\.0\.0\.0:80/)
    assert.equal(await ssh(`sha256sum ${siteFile(shop)}`), before, 'the live site file changed')
    await ssh('nginx -t -q')
    assert.equal(await ssh('ls /tmp | grep -c frontend-nginx-check || true'), '0\n', 'the checker left its copy behind')
    const page = await curl('https://web1.test/')
    assert.equal(page.status, 200)
    assert.equal(await ssh('cat /run/nginx.pid'), masterPid, 'nginx was restarted')
  })

  test('changed settings: new names get a certificate; an SPA at / with only /api/ proxied', LONG, async () => {
    const r = await playbook('frontend', blogRenamed, {
      frontend_spa_root: `/srv/${blog.org}/${blog.slug}/spa`,
      frontend_proxy_paths: ['/api/'],
    })
    assert.equal(r.code, 0, r.output)
    assert.match(r.output, /TASK \[frontend : Certbot holds a certificate for the site's names\] \*+\nchanged/)
    assert.equal((await servedCert('www.blog.test')).subjectaltname, 'DNS:blog.test, DNS:www.blog.test')
    const api = await curl('https://www.blog.test/api/items/')
    assert.equal(api.status, 200)
    const app = JSON.parse(api.body) as { project: string; path: string }
    assert.equal(app.project, 'blog')
    assert.equal(app.path, '/api/items/')
    for (const route of ['/', '/some/client/route']) {
      const page = await curl(`https://www.blog.test${route}`)
      assert.equal(page.status, 200)
      assert.match(page.body, /<title>spa of blog<\/title>/)
      assert.equal(page.headers['x-served-by'], undefined)
    }
    assert.equal((await curl('https://blog.test/assets/app.js')).body, "console.log('blog')\n")
    assert.equal((await curl('https://blog.test/static/css/site.css')).status, 200)
  })

  test('renewal by certbot\'s timer unit gets a new certificate from the CA and reloads nginx', LONG, async () => {
    const old = await servedCert('web1.test')
    const masterPid = await ssh('cat /run/nginx.pid')
    assert.match(await ssh('systemctl is-enabled certbot.timer'), /enabled/)
    // Make the certificate due (it is valid for years), then run what the timer runs.
    await ssh(`sed -i 's/^#* *renew_before_expiry = .*/renew_before_expiry = 100000 days/' /etc/letsencrypt/renewal/${shop.org}-${shop.slug}.conf`)
    const r = await lab.ssh('web1', 'systemctl start certbot.service', { timeoutMs: 300_000 })
    assert.equal(r.code, 0, (await lab.ssh('web1', 'journalctl -u certbot --no-pager | tail -30')).stdout)
    const renewed = await servedCert('web1.test')
    assert.notEqual(renewed.serialNumber, old.serialNumber, 'nginx still serves the old certificate')
    assert.equal(renewed.subjectaltname, old.subjectaltname)
    assert.equal(await ssh('cat /run/nginx.pid'), masterPid, 'nginx was restarted rather than reloaded')
  })
})

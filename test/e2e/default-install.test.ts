// The backend role's default install path on a fresh Debian 12 and a fresh Debian 13 server: a venv
// that does not see the system's packages, pip installing the example app's requirements from a
// package index (the lab's local PEP 503 index of the server's suite, built from Debian's archive:
// on Debian 12 Django from its upstream sdist, built on the server; the rest re-packed wheels). The
// index URL holds a password, from the vault. Then a rerun changes nothing. On Debian 12 also: a
// requirements file with hashes deploys, one whose hash does not match is refused with the live
// release untouched, and a missing requirements file stops the deploy. One booted host per suite.
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createHash } from 'node:crypto'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { startLab, type Lab } from '../../src/lab/index.ts'
import { servePackageIndex, type RunningIndex } from '../../src/lab/pyindex.ts'
import { appCopy } from '../support/app.ts'
import { assertPlaybookOk, sshOk, timedPlaybook } from '../support/lab-steps.ts'

const repoRoot = fileURLToPath(new URL('../..', import.meta.url))
const ROOT = '/srv/example-org/example'
const LONG = { timeout: 25 * 60_000 }
const BUILD_PACKAGES = ['gcc', 'python3-dev', 'libpq-dev']

/** The servers tested: Debian 12 runs every case, Debian 13 the fresh install and its rerun. */
const SUITES = [
  { suite: 'bookworm', debian: 12, allCases: true },
  { suite: 'trixie', debian: 13, allCases: false },
] as const

for (const { suite, debian, allCases } of SUITES) describe(`backend role, default install path (pip from a package index), Debian ${debian}`, () => {
  let lab: Lab
  let inventory: string
  let work: string
  let index: RunningIndex
  const password = randomBytes(12).toString('hex')

  const run = (extraVars: Record<string, unknown> = {}) => timedPlaybook(lab, 'backend', { inventory, extraVars })
  const assertOk = assertPlaybookOk
  const ssh = (cmd: string) => sshOk(lab, 'web1', cmd)
  const liveVersion = () => ssh(`cat ${ROOT}/current/VERSION`)
  /** The live release's Django, as its venv imports it: version and where it comes from. */
  const liveDjango = () => ssh(`/usr/local/bin/example-ctl shell -c "import django; print(django.get_version(), django.__file__)"`)
  /** requirements.txt pinning every requirement to the index's file, with its sha256 (`bad`: one wrong). */
  const hashedRequirements = (bad?: string) => index.index.files
    .filter((f) => ['Django', 'asgiref', 'sqlparse', 'pytz', 'gunicorn', 'psycopg2'].includes(f.name))
    .map((f) => {
      const sha = createHash('sha256').update(readFileSync(join(index.index.dir, 'files', f.file))).digest('hex')
      return `${f.name}==${f.version} --hash=sha256:${f.name === bad ? '0'.repeat(64) : sha}\n`
    }).join('')

  before(async () => {
    work = mkdtempSync(join(tmpdir(), 'default-install-test-'))
    lab = await startLab({ hosts: ['web1'], suite })
    index = await servePackageIndex(lab.hosts[0]!.gateway, join(lab.dir, 'logs'), suite)
    const url = new URL(index.url)
    url.username = 'deploy'
    url.password = password
    inventory = await lab.writeInventory({
      vars: {
        ...lab.rootLogin,
        backend_gunicorn_workers: 2,
        backend_https: false,
        backend_archive_src: appCopy(join(repoRoot, 'app'), work, '1.0.0'),
        backend_pip_index_url: '{{ vault_pip_index_url }}',
        backend_pip_trusted_hosts: [url.hostname],
      },
      vault: { vault_pip_index_url: url.href },
    })
  })
  after(async () => {
    await index?.stop()
    await lab?.destroy()
    if (work) rmSync(work, { recursive: true, force: true })
  })

  test('a fresh server installs the build packages, then pip installs the requirements from the index', LONG, async () => {
    // Every command line seen during the deploy, to look for the index's password.
    await ssh(`rm -f /root/.cmdlines /root/.stop; setsid sh -c 'while [ ! -e /root/.stop ]; do cat /proc/[0-9]*/cmdline 2>/dev/null | tr "\\0" " "; echo; done | awk "!seen[\\$0]++" > /root/.cmdlines' </dev/null >/dev/null 2>&1 &`)
    const r = await run()
    assertOk(r)
    await ssh('touch /root/.stop; sleep 1')
    assert.equal(await ssh(`grep -c -F ${password} /root/.cmdlines || true`), '0', 'the index password on a command line')
    assert.ok(Number(await ssh('wc -l < /root/.cmdlines')) > 100, 'command lines were captured')
    assert.equal(await ssh(`journalctl --no-pager | grep -c -F ${password} || true`), '0', 'the index password in the journal')
    assert.doesNotMatch(r.output, new RegExp(password))

    assert.equal(await liveVersion(), '1.0.0')
    for (const p of BUILD_PACKAGES) assert.match(await ssh(`dpkg-query -W -f '\${Status}' ${p}`), /install ok installed/, p)
    assert.notEqual((await lab.ssh('web1', 'dpkg-query -W -f "${Status}" python3-django')).stdout, 'install ok installed')
    assert.match(await ssh(`cat ${ROOT}/current/venv/pyvenv.cfg`), /include-system-site-packages = false/)
    // Django as the index holds it (on Debian 12 the upstream sdist, built on the server with the venv's
    // own setuptools, nothing more fetched for it), installed into the release's venv.
    const file = (name: string) => {
      const f = index.index.files.find((x) => x.name === name)
      assert.ok(f, `the ${suite} index holds ${name}`)
      return f
    }
    const django = file('Django')
    if (suite === 'bookworm') assert.equal(django.kind, 'sdist')
    assert.match(await liveDjango(), new RegExp(`^${django.version.replace(/\./g, '\\.')} ${ROOT}/releases/\\d{8}T\\d{6}Z/venv/lib/python3\\.\\d+/site-packages/django/__init__\\.py$`))
    assert.match(await ssh(`readlink ${ROOT}/current/venv`), new RegExp(`^${ROOT}/venvs/[0-9a-f]{16}$`))
    const served = readFileSync(index.log, 'utf8')
    const address = lab.hosts[0]!.address
    for (const { file: f } of ['Django', 'psycopg2', 'sqlparse', 'gunicorn'].map(file)) {
      assert.match(served, new RegExp(`^${address.replace(/\./g, '\\.')} .*"GET /files/${f.replace(/\./g, '\\.')} HTTP/1\\.1" 200`, 'm'), f)
    }
    assert.equal(await ssh(`curl -s -o /dev/null -w '%{http_code}' --unix-socket "$(ls ${ROOT}/sockets/*.sock | head -1)" -H 'Host: web1.test' http://localhost/health/`), '200')
  })

  test('a second run changes nothing', LONG, async () => {
    const r = await run()
    assertOk(r)
    assert.equal(r.recap.web1?.changed, 0, r.output.slice(-3000))
  })

  if (allCases) test('a requirements file with hashes deploys; one whose hash does not match is refused, the live release untouched', LONG, async () => {
    const hashed = appCopy(join(repoRoot, 'app'), work, '2.0.0', (app) => writeFileSync(join(app, 'requirements.txt'), hashedRequirements()))
    assertOk(await run({ backend_archive_src: hashed }))
    assert.equal(await liveVersion(), '2.0.0')
    assert.match(await liveDjango(), /^3\.2\.25 /)

    const wrong = appCopy(join(repoRoot, 'app'), work, '3.0.0', (app) => writeFileSync(join(app, 'requirements.txt'), hashedRequirements('sqlparse')))
    const r = await run({ backend_archive_src: wrong })
    assert.notEqual(r.code, 0)
    assert.match(r.output, /was not deployed: task \\?"The venv holds the release's requirements\\?" failed/)
    assert.match(r.output, /DO NOT MATCH THE HASHES/)
    assert.match(r.output, /The previous release keeps serving/)
    assert.equal(await liveVersion(), '2.0.0')
    assert.equal(await ssh(`ls ${ROOT}/releases | wc -l`), '2', 'the refused release is removed')
  })

  if (allCases) test('a requirements file that does not exist stops the deploy with one line, the live release untouched', LONG, async () => {
    const r = await run({ backend_archive_src: appCopy(join(repoRoot, 'app'), work, '4.0.0'), backend_requirements_file: 'requirements/production.txt' })
    assert.notEqual(r.code, 0)
    assert.match(r.output, /the release has no requirements\/production\.txt \(backend_requirements_file\)/)
    assert.equal(await liveVersion(), '2.0.0')
  })
})

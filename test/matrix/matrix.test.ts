// The same playbooks from each Debian's own Ansible to each Debian: for every cell (controller suite
// → target suite) a fresh server gets the four playbooks, answers from outside (the site through
// nginx, the admin over SSH on the new port), reruns with changed=0, then takes a code-only deploy.
// Cells are cheap (SQLite, plain HTTP: PostgreSQL and TLS have their own tests) and run
// concurrently: the controllers mostly wait on their servers. The 2.14 → Debian 12 cell is
// site.test.ts (this machine's Ansible is Debian 12's), with the same checks (test/support/cell.ts).
import { after, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { writeFileSync } from 'node:fs'
import { request } from 'node:http'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import {
  ansibleVersion, debianController, DEBIAN_PYTHON_VARS, startLab, type Controller, type Lab, type PlaybookResult,
} from '../../src/lab/index.ts'
import { appCopy } from '../support/app.ts'
import { assertRoleTaskNames, assertSshdAlgorithmOrder, assertUnchanged, pageVersion } from '../support/cell.ts'

const repoRoot = fileURLToPath(new URL('../..', import.meta.url))
const LONG = { timeout: 40 * 60_000 }
const SSH_PORT = 2222
const HOST = 'web1.test'

/**
 * Controller suite → target suite: each Debian's Ansible on its own Debian, and the newest on the
 * oldest. base's hardening packages: the role's list where a suite is the target first; the newest
 * controller on the oldest Debian takes the lab's (src/lab/inventory.ts: without aide and rkhunter,
 * whose install on Debian 11 the first cell proves), about a minute of CPU less.
 */
const CELLS: ReadonlyArray<{ controller: string; target: string; hardening: 'role' | 'lab' }> = [
  { controller: 'bullseye', target: 'bullseye', hardening: 'role' },
  { controller: 'trixie', target: 'trixie', hardening: 'role' },
  { controller: 'trixie', target: 'bullseye', hardening: 'lab' },
]
const DEBIAN_VERSION: Record<string, string> = { bullseye: '11', bookworm: '12', trixie: '13' }

/**
 * A copy of app/ with its VERSION set, inside the lab directory (the controller sees it there).
 * Debian 11 ships Django 2.2, which the example app runs on but its requirements.txt (3.2 and later,
 * as PyPI serves it) does not admit: with no PyPI here, the copy for those servers admits it.
 */
function release(lab: Lab, target: string, version: string): string {
  return appCopy(join(repoRoot, 'app'), lab.dir, version, (dir) => {
    if (target === 'bullseye') writeFileSync(join(dir, 'requirements.txt'), 'Django>=2.2,<4.3\ngunicorn>=20.1\npsycopg2>=2.8\n')
  })
}

/** GET through nginx from this machine with the site's Host header (plain HTTP). */
function get(address: string, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: address, port: 80, path, headers: { Host: HOST }, timeout: 30_000 }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (c: string) => { body += c })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }))
    })
    req.on('timeout', () => req.destroy(new Error(`GET ${HOST}${path}: timeout`)))
    req.on('error', reject)
    req.end()
  })
}

const labs: Lab[] = []
after(async () => {
  await Promise.all(labs.map((l) => l.destroy()))
})

describe('matrix: controller × target', { concurrency: true }, () => {
  for (const cell of CELLS) {
    const name = `Ansible of Debian ${DEBIAN_VERSION[cell.controller]} (${cell.controller}) → Debian ${DEBIAN_VERSION[cell.target]} (${cell.target})`
    test(name, LONG, async (t) => {
      const started = Date.now()
      const controller: Controller = await debianController(cell.controller)
      const lab = await startLab({ hosts: ['web1'], suite: cell.target })
      labs.push(lab)
      const version = await ansibleVersion(controller, join(lab.dir, 'controller'))
      const address = lab.hosts[0]!.address
      const inventory = await lab.writeInventory({
        hardening: cell.hardening,
        vars: {
          server_ssh_port: SSH_PORT,
          public_hostnames: [HOST],
          ...DEBIAN_PYTHON_VARS,
          backend_archive_src: release(lab, cell.target, '1.0.0'),
          backend_database_engine: 'sqlite',
          backend_gunicorn_workers: 2,
          backend_https: false,
          frontend_tls_enabled: false,
        },
      })
      const times: string[] = []
      const playbook = async (playbook: string, extraVars?: Record<string, unknown>, env?: Record<string, string>): Promise<PlaybookResult> => {
        const t0 = Date.now()
        const r = await lab.runPlaybook(playbook, { inventory, extraVars, controller, env })
        times.push(`${playbook} ${((Date.now() - t0) / 1000).toFixed(0)} s`)
        assert.equal(r.code, 0, `${name}: ${playbook}\n${r.output.slice(-4000)}`)
        assert.equal(r.recap.web1?.failed, 0)
        return r
      }

      // A failed step skips the later ones: they would only repeat its failure.
      let failed = false
      const step = (title: string, fn: () => Promise<void>) => t.test(title, { skip: failed && 'an earlier step failed' }, async () => {
        try {
          await fn()
        } catch (e) {
          failed = true
          throw e
        }
      })

      await step('the four playbooks deploy a fresh server', async () => {
        for (const p of ['bootstrap', 'base', 'backend', 'frontend']) await playbook(p)
      })

      await step('the site answers through nginx; the admin logs in on the new SSH port', async () => {
        const page = await get(address, '/')
        assert.equal(page.status, 200)
        assert.equal(pageVersion(page.body), '1.0.0')
        const admin = await get(address, '/admin/login/')
        assert.equal(admin.status, 200)
        assert.match(admin.body, /Django administration/)
        const alice = await lab.ssh('web1', 'id -un && . /etc/os-release && echo "$VERSION_ID"', {
          user: 'alice', port: SSH_PORT, key: lab.keys.admin,
        })
        assert.equal(alice.code, 0, alice.stderr)
        assert.equal(alice.stdout.split('\n')[0], 'alice')
        assert.match(alice.stdout, new RegExp(`^${DEBIAN_VERSION[cell.target]}$`, 'm'), 'the server runs the target suite')
        const sshd = await lab.ssh('web1', 'cat /etc/ssh/sshd_config', { user: 'alice', port: SSH_PORT, key: lab.keys.admin })
        assertSshdAlgorithmOrder(sshd.stdout)
        const root = await lab.ssh('web1', 'true', { port: 22, timeoutMs: 30_000 })
        assert.notEqual(root.code, 0, 'root still logs in on port 22')
      })

      await step('a second run of the four playbooks changes nothing; the results name every role\'s task "role : name"', async () => {
        const r = await playbook('site')
        assertUnchanged(r)
        assertRoleTaskNames(r)
      })

      await step('a code-only deploy (backend) serves the new version', async () => {
        await playbook('backend', { backend_archive_src: release(lab, cell.target, '1.0.1') })
        assert.equal(pageVersion((await get(address, '/')).body), '1.0.1')
      })

      console.log(`# ${name}, ${version}: ${times.join(', ')}; cell ${((Date.now() - started) / 1000).toFixed(0)} s`)
    })
  }
})

// Several servers, one site: an app server and a database server of its own (inventory groups
// appservers and dbservers), from fresh hosts through the four playbooks. Booted once; the scenarios
// share the hosts. PostgreSQL runs on the database server only, listens on its private address,
// and answers the app server only (pg_hba and base's firewall); the site answers from the app server
// with its data in that database; a second run changes nothing.
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { PLAIN_SITE_VARS, startLab, type Lab, type PlaybookResult } from '../../src/lab/index.ts'
import { assertUnchanged } from '../support/cell.ts'
import { curl } from '../support/curl.ts'

const LONG = { timeout: 40 * 60_000 }
const SSH_PORT = 2222
const NAME = 'app1.test'
const PG_PORT = 5432
const HOSTS = ['app1', 'db1']

describe('cluster: an app server and a database server, from fresh hosts', () => {
  let lab: Lab
  let inventory: string
  const address = (name: string) => lab.hosts.find((h) => h.name === name)!.address

  /** A command as the deploy user on the new SSH port (root cannot log in any more). */
  async function on(host: string, cmd: string): Promise<{ code: number; stdout: string; stderr: string }> {
    return lab.ssh(host, cmd, { user: 'deploy', port: SSH_PORT, key: lab.keys.deploy })
  }

  async function playbook(name: string): Promise<PlaybookResult> {
    const started = Date.now()
    const r = await lab.runPlaybook(name, { inventory })
    process.stdout.write(`# ${name}: ${((Date.now() - started) / 1000).toFixed(0)} s, ${HOSTS.map((h) => `${h} ${JSON.stringify(r.recap[h])}`).join(', ')}\n`)
    assert.equal(r.code, 0, r.output.slice(-4000))
    return r
  }

  before(async () => {
    lab = await startLab({ hosts: HOSTS })
    inventory = await lab.writeInventory({
      groups: { appservers: ['app1'], dbservers: ['db1'] },
      vars: { server_ssh_port: SSH_PORT, public_hostnames: [NAME], ...PLAIN_SITE_VARS },
    })
  }, LONG)

  after(async () => {
    await lab?.destroy()
  })

  test('bootstrap, base, backend and frontend run in order on fresh hosts', LONG, async () => {
    for (const name of ['bootstrap', 'base', 'backend', 'frontend']) await playbook(name)
  })

  test('PostgreSQL runs on the database server only, listening on its private address and localhost', LONG, async () => {
    const listening = await on('db1', `ss -Hltn 'sport = :${PG_PORT}'`)
    assert.equal(listening.code, 0, listening.stderr)
    const local = listening.stdout.trim().split('\n').map((l) => l.trim().split(/\s+/)[3]).sort()
    assert.deepEqual(local, [`${address('db1')}:${PG_PORT}`, `127.0.0.1:${PG_PORT}`, `[::1]:${PG_PORT}`].sort(), listening.stdout)
    const app = await on('app1', "dpkg-query -W -f='${Status}' 'postgresql-1*' 2>/dev/null; systemctl is-active postgresql")
    assert.doesNotMatch(app.stdout, /install ok installed/, 'no PostgreSQL server on the app server')
  })

  test('the database port answers the app server only (probes from this machine are dropped)', LONG, async () => {
    const fromApp = await on('app1', `timeout 5 bash -c '</dev/tcp/${address('db1')}/${PG_PORT}' && echo open`)
    assert.equal(fromApp.stdout.trim(), 'open', fromApp.stderr)
    assert.equal(await lab.tcpOpen('db1', PG_PORT), false, 'the database port from this machine')
    // pg_hba names the app server's address, with SCRAM, for the project's role and database only.
    const hba = await on('db1', "sudo -n sh -c 'grep -h \"^host example example\" /etc/postgresql/*/main/pg_hba.conf'")
    assert.equal(hba.stdout.trim(), `host example example ${address('app1')}/32 scram-sha-256`)
    const scram = await on('db1', "sudo -n -u postgres psql -X -qtA -c \"SELECT left(rolpassword, 13) FROM pg_authid WHERE rolname = 'example'\"")
    assert.equal(scram.stdout.trim(), 'SCRAM-SHA-256')
  })

  test('the site answers from the app server, its data in the database server', LONG, async () => {
    const page = await curl(`http://${NAME}/`, { address: address('app1') })
    assert.equal(page.status, 200, page.body.slice(0, 500))
    assert.match(page.body, /id="version">/)
    const health = await curl(`http://${NAME}/health/`, { address: address('app1') })
    assert.equal(health.status, 200)
    const migrated = await on('db1', "sudo -n -u postgres psql -X -qtA -d example -c 'SELECT count(*) > 0 FROM django_migrations'")
    assert.equal(migrated.stdout.trim(), 't', migrated.stderr)
  })

  test('a second run of backend and frontend changes nothing on either host', LONG, async () => {
    for (const name of ['backend', 'frontend']) {
      const r = await playbook(name)
      for (const h of HOSTS) assertUnchanged(r, h)
    }
  })
})

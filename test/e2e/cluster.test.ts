// Several servers, one site: a load balancer, two app servers and a database server of its own
// (inventory groups loadbalancers, appservers, dbservers), from fresh hosts through the four
// playbooks. Booted once; the scenarios share the hosts. PostgreSQL runs on the database server only,
// listens on its private address, and answers the app servers only (pg_hba and base's firewall); the
// site answers through the load balancer, from both app servers, with its data in that database; the
// app servers' web ports answer the load balancer only, which takes a failing one out; a second run
// changes nothing.
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { PLAIN_SITE_VARS, startLab, type Lab, type PlaybookResult } from '../../src/lab/index.ts'
import { assertUnchanged } from '../support/cell.ts'
import { curl } from '../support/curl.ts'

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
const SITE = 'example-org-example'

describe('cluster: a load balancer, two app servers and a database server, from fresh hosts', () => {
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
      groups: GROUPS,
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

  test('the load balancer takes an app server that fails its health check out, and back once it passes', LONG, async () => {
    const status = async () => (await on(LB, `sudo -n /usr/local/sbin/frontend-lb-check ${SITE} status`)).stdout.trim()
    const until = async (want: string) => {
      const deadline = Date.now() + 60_000
      let now = ''
      while (Date.now() < deadline) {
        if ((now = await status()) === want) return
        await new Promise((r) => setTimeout(r, 1000))
      }
      assert.fail(`the load balancer's view stayed "${now}", expected "${want}"`)
    }
    assert.equal(await status(), 'app1 up\napp2 up')
    const stop = await on('app2', 'sudo -n systemctl stop nginx')
    assert.equal(stop.code, 0, stop.stderr)
    try {
      await until('app1 up\napp2 failing')
      const upstream = await on(LB, `cat /etc/nginx/django-deploy-lb/${SITE}.upstream`)
      assert.ok(upstream.stdout.includes(`server ${address('app2')}:80 max_fails=2 fail_timeout=10s down;`), upstream.stdout)
      for (let i = 0; i < 6; i++) assert.equal((await curl(`http://${NAME}/`, { address: address(LB) })).status, 200)
    } finally {
      await on('app2', 'sudo -n systemctl start nginx')
    }
    await until('app1 up\napp2 up')
  })

  test('a second run of backend and frontend changes nothing on any host', LONG, async () => {
    for (const name of ['backend', 'frontend']) {
      const r = await playbook(name)
      for (const h of HOSTS) assertUnchanged(r, h)
    }
  })
})

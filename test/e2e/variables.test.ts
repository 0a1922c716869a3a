// The playbooks' variable checks, with the real ansible-playbook and the real roles: each bad value
// stops the playbook on the controller, before any connection (the inventory's host is an address
// nothing answers on), with one failed task whose message names the variable, its value and what is
// expected, and no vault value in the output.
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parse } from 'yaml'
import { readLayout } from '../../src/core/layout-read.ts'
import { runPlaybook } from '../../src/core/run.ts'
import type { Playbook } from '../../src/core/playbooks.ts'

const repoRoot = fileURLToPath(new URL('../..', import.meta.url))

interface Case { playbook: Playbook; vars: Record<string, unknown>; message: RegExp }

const cases: Case[] = [
  { playbook: 'base', vars: { base_fail2ban_maxretry: 'many' }, message: /^base_fail2ban_maxretry is "many": expected a whole number/ },
  { playbook: 'base', vars: { base_firewall_allowed_ports: [8080, 70000] }, message: /^base_firewall_allowed_ports\[1\] is 70000: expected a port number from 1 to 65535/ },
  { playbook: 'base', vars: { base_unattended_upgrades_mail_report: 'weekly' }, message: /^base_unattended_upgrades_mail_report is "weekly": expected one of always, only-on-error, on-change/ },
  { playbook: 'base', vars: { base_firewall_enabled: 'maybe' }, message: /^base_firewall_enabled is "maybe": expected true or false/ },
  { playbook: 'bootstrap', vars: { server_ssh_port: 0 }, message: /^bootstrap_ssh_port is "?0"?: expected a port number from 1 to 65535/ },
  { playbook: 'backend', vars: { server_ssh_port: 'ssh' }, message: /^server_ssh_port is "ssh": expected a whole number/ },
  { playbook: 'backend', vars: { public_hostnames: ['https://example.com/'] }, message: /^public_hostnames\[0\] is "https:\/\/example\.com\/": expected a host name/ },
  { playbook: 'backend', vars: { project_slug: 'My_Project' }, message: /^backend_project_slug is "My_Project": expected a slug/ },
  { playbook: 'backend', vars: { backend_keep_releases: 'two' }, message: /^backend_keep_releases is "two": expected a whole number/ },
  { playbook: 'frontend', vars: { organization_slug: 'example_org' }, message: /^frontend_organization_slug is "example_org": expected a slug/ },
  { playbook: 'frontend', vars: { public_hostnames: 'example.com' }, message: /^public_hostnames is "example\.com": expected a list/ },
  // Two bad values: the first is the line, the other not glued on with a literal backslash-n.
  { playbook: 'base', vars: { base_fail2ban_maxretry: 'many', base_firewall_allowed_ports: [70000] }, message: /^base_(fail2ban_maxretry is "many": expected a whole number|firewall_allowed_ports\[0\] is 70000: expected a port number from 1 to 65535): fix it in group_vars/ },
]

/**
 * Layouts that cannot work, one per rule of roles/layout/tasks/validate.yml, in its order: given to
 * ansible-playbook directly (no action, so no preflight), each stops with the line the action's own
 * check (src/core/layout.ts, through readLayout) says for the same inventory. Hosts: 192.0.2.x.
 */
const children = (groups: Record<string, string[]>) => Object.entries(groups)
  .map(([g, hosts]) => `        ${g}:\n          hosts:\n${hosts.map((h) => `            ${h}:\n              ansible_host: 192.0.2.${h.replace(/\D/g, '') || 1}\n`).join('')}`).join('')
const layouts: Array<{ name: string; hosts: string }> = [
  { name: 'an app server outside webservers', hosts: `all:\n  children:\n    webservers:\n      hosts:\n        app1:\n          ansible_host: 192.0.2.1\n    appservers:\n      hosts:\n        app1:\n        app9:\n          ansible_host: 192.0.2.9\n    dbservers:\n      hosts:\n        app1:\n` },
  { name: 'a server in no role group', hosts: `all:\n  children:\n    webservers:\n      hosts:\n        web5:\n          ansible_host: 192.0.2.5\n      children:\n${children({ appservers: ['app1'], dbservers: ['db2'] })}` },
  { name: 'a load balancer that is an app server', hosts: `all:\n  children:\n    webservers:\n      children:\n${children({ appservers: ['app1', 'app3'], dbservers: ['db2'], loadbalancers: ['app1'] })}` },
  { name: 'a load balancer and no app server', hosts: `all:\n  children:\n    webservers:\n      children:\n${children({ dbservers: ['db2'], loadbalancers: ['lb4'] })}` },
  { name: 'app servers and no database server', hosts: `all:\n  children:\n    webservers:\n      children:\n${children({ appservers: ['app1'] })}` },
  { name: 'two database servers', hosts: `all:\n  children:\n    webservers:\n      children:\n${children({ appservers: ['app1'], dbservers: ['db2', 'db3'] })}` },
  { name: 'two load balancers', hosts: `all:\n  children:\n    webservers:\n      children:\n${children({ appservers: ['app1', 'app3'], dbservers: ['db2'], loadbalancers: ['lb4', 'lb5'] })}` },
  { name: 'two app servers and no load balancer', hosts: `all:\n  children:\n    webservers:\n      children:\n${children({ appservers: ['app1', 'app3'], dbservers: ['db2'] })}` },
]

describe('variable checks on the controller, before any connection', { concurrency: 3 }, () => {
  let dir: string
  let inventory: string
  let secrets: string[]

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'variables-test-'))
    inventory = join(dir, 'inventory')
    cpSync(join(repoRoot, 'inventories/production'), inventory, { recursive: true })
    // 192.0.2.1 (TEST-NET-1) answers nothing: a connection attempt would show as unreachable.
    writeFileSync(join(inventory, 'hosts.yml'), 'all:\n  children:\n    webservers:\n      hosts:\n        web1:\n          ansible_host: 192.0.2.1\n          ansible_ssh_common_args: -o ConnectTimeout=3\n')
    const keys = Object.keys(parse(readFileSync(join(repoRoot, 'inventories/vault.example.yml'), 'utf8')) as Record<string, unknown>)
    const vault = Object.fromEntries(keys.map((k) => [k, `${k}-value-0123456789abcdefghij`]))
    secrets = Object.values(vault)
    writeFileSync(join(inventory, 'group_vars/all/vault.yml'), JSON.stringify(vault))
    writeFileSync(join(dir, 'vault.key'), 'unused\n', { mode: 0o600 })
  })
  after(() => rmSync(dir, { recursive: true, force: true }))

  for (const c of cases) {
    test(`${c.playbook} with ${JSON.stringify(c.vars)}: stopped with one line`, { timeout: 5 * 60_000 }, async () => {
      let output = ''
      const r = await runPlaybook(c.playbook, {
        cwd: repoRoot, ansiblePlaybook: 'ansible-playbook', inventory, check: false, diff: false, tags: [],
        extraVars: JSON.stringify(c.vars), env: { ANSIBLE_VAULT_PASSWORD_FILE: join(dir, 'vault.key'), ANSIBLE_NOCOLOR: '1' },
      }, (b) => { output += b.toString() })
      assert.equal(r.exitCode, 2, output.slice(-2000))
      assert.equal(r.failures.length, 1, output.slice(-2000))
      const [failure] = r.failures
      assert.match(failure!.message, c.message)
      assert.ok(!failure!.message.includes('\n') && !failure!.message.includes('\\n'), `one line: ${failure!.message}`)
      assert.equal(r.hosts.web1?.unreachable ?? 0, 0, 'nothing connected')
      for (const s of secrets) assert.ok(!output.includes(s.slice(0, 20)), 'no vault value in the output')
    })
  }

  for (const l of layouts) {
    test(`a layout with ${l.name}: the playbook stops with the line the action's check says`, { timeout: 5 * 60_000 }, async () => {
      const own = join(dir, l.name.replace(/\W+/g, '-'))
      cpSync(inventory, own, { recursive: true })
      writeFileSync(join(own, 'hosts.yml'), l.hosts)
      const settings = { cwd: repoRoot, ansiblePlaybook: 'ansible-playbook', inventory: own, env: { ANSIBLE_VAULT_PASSWORD_FILE: join(dir, 'vault.key'), ANSIBLE_NOCOLOR: '1' } }
      const expected = await readLayout(settings).then(() => assert.fail('the action\'s check accepts the layout'), (e: Error) => e.message)
      let output = ''
      const r = await runPlaybook('base', { ...settings, check: false, diff: false, tags: [], extraVars: '{}' }, (b) => { output += b.toString() })
      assert.equal(r.exitCode, 2, output.slice(-2000))
      assert.deepEqual([...new Set(r.failures.map((f) => f.message))], [expected], output.slice(-2000))
      assert.ok(Object.values(r.hosts).every((h) => (h.unreachable ?? 0) === 0), 'nothing connected')
    })
  }
})

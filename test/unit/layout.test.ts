// The layout from the inventory's groups: one server by default, app + database (+ load balancer)
// when the role groups are filled, and one line naming the groups and the fix for a layout that
// cannot work. The same table runs through the TypeScript check (the action and the CLI, before the
// state read connects) and through the real bootstrap playbook (roles/layout, before its first
// connection: the hosts are addresses nothing answers on), and both must say the same line.
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { stringify } from 'yaml'
import { checkLayout, hostRole, layoutNote, layoutText, LayoutError, parseInventoryGraph, type Groups } from '../../src/core/layout.ts'
import { inventoryBinary, readLayout } from '../../src/core/layout-read.ts'
import { DEFAULT_PLAN_CONFIG } from '../../src/core/plan/config.ts'
import { makePlan } from '../../src/core/plan/make.ts'
import { runPlaybook } from '../../src/core/run.ts'
import { planText } from '../../src/core/summary.ts'

const repoRoot = fileURLToPath(new URL('../..', import.meta.url))

/** An inventory: the role groups as children of webservers; `extra` hosts directly under webservers. */
interface Inv { app?: string[]; db?: string[]; lb?: string[]; extra?: string[]; top?: Record<string, string[]> }

function hostsYaml(inv: Inv): string {
  const hosts = (names: string[]) => Object.fromEntries(names.map((n, i) => [n, { ansible_host: `192.0.2.${i + 1}`, ansible_ssh_common_args: '-o ConnectTimeout=2' }]))
  const children: Record<string, unknown> = {}
  for (const [g, names] of [['appservers', inv.app], ['dbservers', inv.db], ['loadbalancers', inv.lb]] as const) if (names) children[g] = { hosts: hosts(names) }
  const top = Object.fromEntries(Object.entries(inv.top ?? {}).map(([g, names]) => [g, { hosts: hosts(names) }]))
  return stringify({ all: { children: { webservers: { hosts: hosts(inv.extra ?? []), children }, ...top } } })
}

function groupsOf(inv: Inv): Groups {
  const web = [...new Set([...(inv.extra ?? []), ...(inv.app ?? []), ...(inv.db ?? []), ...(inv.lb ?? [])])]
  return { webservers: web, appservers: inv.app ?? [], dbservers: inv.db ?? [], loadbalancers: inv.lb ?? [], ...(inv.top ?? {}) }
}

const bad: { name: string; inv: Inv; line: string }[] = [
  { name: 'two database servers', inv: { app: ['web1'], db: ['db1', 'db2'] }, line: 'inventory layout: dbservers has db1, db2: the roles run one database server (no replication): keep one in dbservers' },
  { name: 'app servers without a database host', inv: { app: ['web1', 'web2'], lb: ['lb1'] }, line: 'inventory layout: appservers has web1, web2 but dbservers is empty: list the database server under dbservers (an app server itself when it runs PostgreSQL)' },
  { name: 'a load balancer without app servers', inv: { lb: ['lb1'], db: ['db1'] }, line: 'inventory layout: loadbalancers has lb1 but appservers is empty: list the app servers under appservers' },
  { name: 'a host in two roles that exclude each other', inv: { app: ['web1'], db: ['db1'], lb: ['web1'] }, line: 'inventory layout: web1 is in loadbalancers and appservers, which exclude each other (the load balancer alone faces the internet): give the load balancer a host of its own' },
  { name: 'the load balancer on the database server', inv: { app: ['web1'], db: ['db1'], lb: ['db1'] }, line: 'inventory layout: db1 is in loadbalancers and dbservers, which exclude each other (the load balancer alone faces the internet): give the load balancer a host of its own' },
  { name: 'two app servers without a load balancer', inv: { app: ['web1', 'web2'], db: ['db1'] }, line: 'inventory layout: appservers has web1, web2 but loadbalancers is empty: several app servers need a load balancer in front (a host under loadbalancers), or keep one app server' },
  { name: 'two load balancers', inv: { app: ['web1'], db: ['db1'], lb: ['lb1', 'lb2'] }, line: 'inventory layout: loadbalancers has lb1, lb2: the roles run one load balancer: keep one in loadbalancers' },
  { name: 'a server in no role group', inv: { app: ['web1'], db: ['db1'], extra: ['web9'] }, line: 'inventory layout: web9 is in webservers but in none of appservers, dbservers, loadbalancers: once one role group is filled, put every server in one' },
  { name: 'a role group outside webservers', inv: { app: ['web1'], top: { dbservers: ['db1'] } }, line: 'inventory layout: db1 in dbservers is not in webservers: make appservers, dbservers and loadbalancers child groups of webservers (webservers: children:)' },
]
const check = (g: Groups) => checkLayout(g)

describe('the layout check (TypeScript)', () => {
  test('webservers alone: one server runs every role, as before the role groups', () => {
    assert.deepEqual(check({ all: ['web1'], webservers: ['web1'] }), { kind: 'single', servers: ['web1'] })
    assert.equal(layoutNote({ kind: 'single', servers: ['web1'] }), undefined)
  })
  test('webservers alone with several servers: deployed as before, with a note that they are separate sites', () => {
    const l = check({ webservers: ['web1', 'web2'] })
    assert.match(layoutNote(l)!, /^webservers has web1, web2 and no role group: each server runs the whole site with its own database and media/)
  })
  test('every role group on one host: the one-server layout', () => {
    assert.deepEqual(check(groupsOf({ app: ['web1'], db: ['web1'] })), { kind: 'split', app: ['web1'], db: 'web1' })
  })
  test('app server and database server: deployed', () => {
    assert.deepEqual(check(groupsOf({ app: ['web1'], db: ['db1'] })), { kind: 'split', app: ['web1'], db: 'db1' })
  })
  test('the database on the app server', () => {
    assert.deepEqual(checkLayout(groupsOf({ app: ['web1'], db: ['web1'] })), { kind: 'split', app: ['web1'], db: 'web1' })
  })
  test('load balancer, two app servers, database server: deployed', () => {
    const l = check(groupsOf({ app: ['web1', 'web2'], db: ['db1'], lb: ['lb1'] }))
    assert.deepEqual(l, { kind: 'split', app: ['web1', 'web2'], db: 'db1', lb: 'lb1' })
    assert.equal(layoutText(l), 'load balancer lb1 → app servers web1, web2 → database db1')
  })
  test('each host of a split layout is named by what it runs; one server runs everything and is not', () => {
    const l = check(groupsOf({ app: ['web1', 'web2'], db: ['db1'], lb: ['lb1'] }))
    assert.deepEqual(['lb1', 'web1', 'web2', 'db1', 'other'].map((h) => hostRole(l, h)),
      ['load balancer', 'app server', 'app server', 'database server', undefined])
    assert.equal(hostRole(check(groupsOf({ app: ['web1'], db: ['web1'] })), 'web1'), 'app and database server')
    assert.equal(hostRole(check(groupsOf({ extra: ['web1'] })), 'web1'), undefined)
    assert.equal(hostRole(undefined, 'web1'), undefined)
  })
  for (const c of bad) {
    test(`${c.name}: one line`, () => {
      assert.throws(() => check(groupsOf(c.inv)), (e: Error) => e instanceof LayoutError && e.message === c.line)
    })
  }

  test("ansible-inventory --graph: a group holds its children's hosts", () => {
    const graph = [
      '@all:', '  |--@ungrouped:', '  |--@webservers:', '  |  |--@appservers:', '  |  |  |--web1', '  |  |  |--web2',
      '  |  |--@dbservers:', '  |  |  |--2001:db8::5', '  |  |--web1', '  |--@monitoring:', '  |  |--mon1', '',
    ].join('\n')
    assert.deepEqual(parseInventoryGraph(graph), {
      all: ['2001:db8::5', 'mon1', 'web1', 'web2'], ungrouped: [], webservers: ['2001:db8::5', 'web1', 'web2'], appservers: ['web1', 'web2'], dbservers: ['2001:db8::5'], monitoring: ['mon1'],
    })
  })

  test('ansible-inventory beside the ansible-playbook the runs use', () => {
    assert.equal(inventoryBinary('/opt/ansible29/bin/ansible-playbook'), '/opt/ansible29/bin/ansible-inventory')
    assert.equal(inventoryBinary('ansible-playbook'), 'ansible-inventory')
  })
})

describe('the layout check before anything connects (ansible-inventory, the bootstrap playbook)', { concurrency: 4 }, () => {
  let dir: string
  const inventory = (name: string, inv: Inv) => {
    const d = join(dir, name.replace(/\W+/g, '-'))
    mkdirSync(d, { recursive: true })
    writeFileSync(join(d, 'hosts.yml'), hostsYaml(inv))
    return d
  }
  before(() => { dir = mkdtempSync(join(tmpdir(), 'layout-test-')) })
  after(() => rmSync(dir, { recursive: true, force: true }))

  test('the production inventory is the one-server layout, and the plan says so', async () => {
    const r = await readLayout({ cwd: repoRoot, ansiblePlaybook: 'ansible-playbook', inventory: 'inventories/production', env: {} })
    assert.deepEqual(r, { ok: true, layout: { kind: 'single', servers: ['web1'] } })
    const planned = await makePlan({
      root: repoRoot, config: DEFAULT_PLAN_CONFIG, selection: ['base'], namedSource: 'named', event: 'test',
      changes: { kind: 'none', description: 'none' },
      readLayoutWith: { cwd: repoRoot, ansiblePlaybook: 'ansible-playbook', inventory: 'inventories/production', env: {} },
    })
    assert.match(planText(planned.plan), /^ {2}layout: one server: web1$/m)
  })

  test('every role group on one host: the role lets the run go on to its first connection', async () => {
    const inv = inventory('one-host', { app: ['web1'], db: ['web1'] })
    const r = await readLayout({ cwd: repoRoot, ansiblePlaybook: 'ansible-playbook', inventory: inv, env: {} })
    assert.deepEqual(r, { ok: true, layout: { kind: 'split', app: ['web1'], db: 'web1' } })
    const playbook = join(dir, 'layout-then-ping.yml')
    writeFileSync(playbook, stringify([
      { name: 'Layout', hosts: 'webservers', gather_facts: false, tasks: [{ name: 'Layout', 'ansible.builtin.include_role': { name: 'layout', tasks_from: 'validate' } }] },
      { name: 'Connects', hosts: 'webservers', gather_facts: false, tasks: [{ name: 'Ping', 'ansible.builtin.ping': {} }] },
    ]))
    let output = ''
    const run = await runPlaybook(playbook, {
      cwd: repoRoot, ansiblePlaybook: 'ansible-playbook', inventory: inv, check: false, diff: false, tags: [],
      env: { ANSIBLE_NOCOLOR: '1', ANSIBLE_ROLES_PATH: join(repoRoot, 'roles') },
    }, (b) => { output += b.toString() })
    assert.deepEqual(run.failures.map((f) => [f.task, f.status]), [['Ping', 'unreachable']], output.slice(-2000))
  })

  for (const c of bad) {
    test(`${c.name}: the action and the CLI stop before the state read, with the same line as the playbook`, async () => {
      const inv = inventory(c.name, c.inv)
      // The state read's `ansible` (a stand-in) leaves a mark if it ever starts.
      const bin = join(dir, `bin-${c.name.replace(/\W+/g, '-')}`)
      mkdirSync(bin)
      writeFileSync(join(bin, 'ansible'), `#!/bin/sh\ntouch ${join(bin, 'started')}\nexit 1\n`, { mode: 0o755 })
      await assert.rejects(makePlan({
        root: repoRoot, config: DEFAULT_PLAN_CONFIG, selection: 'auto', namedSource: '', event: 'test',
        changes: { kind: 'none', description: 'none' },
        readLayoutWith: { cwd: repoRoot, ansiblePlaybook: 'ansible-playbook', inventory: inv, env: {} },
        readStateWith: { cwd: repoRoot, ansiblePlaybook: join(bin, 'ansible-playbook'), inventory: inv, env: {} },
      }), (e: Error) => e instanceof LayoutError && e.message === c.line)
      assert.ok(!existsSync(join(bin, 'started')), 'no state read')

      let output = ''
      const r = await runPlaybook('bootstrap', {
        cwd: repoRoot, ansiblePlaybook: 'ansible-playbook', inventory: inv, check: false, diff: false, tags: [],
        env: { ANSIBLE_NOCOLOR: '1' },
      }, (b) => { output += b.toString() })
      assert.equal(r.exitCode, 2, output.slice(-2000))
      assert.deepEqual(r.failures.map((f) => f.message), [c.line], output.slice(-2000))
      for (const [h, s] of Object.entries(r.hosts)) assert.equal(s.unreachable, 0, `${h}: nothing connected`)
    })
  }
})

// The test servers themselves: booted hosts answer SSH with the lab's key only, are distinct
// machines, reach each other and Debian's archive (through the cache), run playbooks, and leave
// nothing behind.
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync, readFileSync, statSync } from 'node:fs'
import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { cleanupStale, startLab, type Lab } from '../../src/lab/index.ts'
import { parseRecap } from '../support/recap.ts'

const netnsList = () => execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' })
const mountinfo = () => readFileSync('/proc/self/mountinfo', 'utf8')

/** What a destroyed lab must no longer have, captured while it runs. */
function traces(lab: Lab) {
  const slot = lab.slot
  return {
    netns: lab.hosts.map((_, i) => `dad${slot}-${i}`),
    dir: lab.dir,
    // systemd-nspawn itself, and every process inside the hosts (their init and its children).
    pids: [
      execFileSync('pgrep', ['-f', '--', `--machine=lab${slot}-`], { encoding: 'utf8' }),
      ...lab.hosts.map((_, i) => execFileSync('ip', ['netns', 'pids', `dad${slot}-${i}`], { encoding: 'utf8' })),
    ].join('\n').split(/\s+/).filter(Boolean).map(Number),
  }
}

function assertGone(t: ReturnType<typeof traces>) {
  const ns = netnsList()
  for (const n of t.netns) assert.ok(!new RegExp(`^${n}\\b`, 'm').test(ns), `netns ${n} left behind`)
  assert.ok(!mountinfo().includes(t.dir), 'a mount under the lab directory is left behind')
  assert.ok(!existsSync(t.dir), 'lab directory left behind')
  for (const pid of t.pids) assert.ok(!existsSync(`/proc/${pid}`) || /\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8')), `process ${pid} left behind`)
}

describe('lab', () => {
  let lab: Lab
  let other: Lab

  before(async () => {
    // Two labs at once: they must not collide on slots, addresses or names.
    ;[lab, other] = await Promise.all([startLab({ hosts: ['web1', 'web2'] }), startLab({ hosts: ['web1'] })])
  })
  after(async () => {
    await lab?.destroy()
    await other?.destroy()
  })

  test('concurrent labs get different slots and addresses', () => {
    assert.notEqual(lab.slot, other.slot)
    const addresses = [...lab.hosts, ...other.hosts].map((h) => h.address)
    assert.equal(new Set(addresses).size, 3)
    for (const a of addresses) assert.match(a, /^198\.1[89]\.\d+\.\d+$/)
  })

  test('hosts answer SSH with the lab root key and are distinct machines', async () => {
    const ids = await Promise.all(lab.hosts.map((h) => lab.ssh(h, 'hostname; cat /etc/machine-id; systemctl is-system-running || true')))
    for (const [i, r] of ids.entries()) {
      assert.equal(r.code, 0, r.stderr)
      const [name, , state] = r.stdout.trim().split('\n')
      assert.equal(name, lab.hosts[i]!.name)
      assert.match(state!, /^(running|degraded)$/)
    }
    assert.notEqual(ids[0]!.stdout.split('\n')[1], ids[1]!.stdout.split('\n')[1], 'same machine-id')
    const keys = lab.hosts.map((h) => readFileSync(`${h.rootfs}/etc/ssh/ssh_host_ed25519_key.pub`, 'utf8').split(' ')[1])
    assert.notEqual(keys[0], keys[1], 'hosts share a host key')
  })

  test('SSH refuses a wrong key, and the other lab refuses this lab\'s key', async () => {
    const wrong = await lab.ssh('web1', 'true', { key: lab.keys.admin })
    assert.equal(wrong.code, 255)
    assert.match(wrong.stderr, /Permission denied/)
    const foreign = await other.ssh('web1', 'true', { key: lab.rootKey })
    assert.equal(foreign.code, 255)
  })

  test('an unknown host key is refused (strict checking against the lab known_hosts)', async () => {
    // The other lab's web1 presents its own key; this lab's known_hosts does not list it.
    const spoof = { ...other.hosts[0]!, name: 'web1' }
    const r = await lab.ssh(spoof, 'true', { key: other.rootKey })
    assert.equal(r.code, 255)
    assert.match(r.stderr, /[Hh]ost key/)
  })

  test('hosts reach each other and the apt cache, nothing else is needed', async () => {
    const [web1, web2] = lab.hosts
    const r = await lab.ssh(web1!, `timeout 3 bash -c 'echo > /dev/tcp/${web2!.address}/22' && echo reached`)
    assert.equal(r.stdout.trim(), 'reached', r.stderr)
    const apt = await lab.ssh(web2!, 'apt-get update -q && apt-get install -y -q --no-install-recommends hello >/dev/null && hello')
    assert.equal(apt.code, 0, apt.stderr)
    assert.equal(apt.stdout.trim().split('\n').pop(), 'Hello, world!')
  })

  test('a playbook runs through the inventory, vault included, and a second run changes nothing', async () => {
    const inventory = await lab.writeInventory({ vars: { lab_marker: 'm1' } })
    assert.equal(statSync(`${inventory}/vault.key`).mode & 0o777, 0o600)
    assert.match(readFileSync(`${inventory}/group_vars/all/vault.yml`, 'utf8'), /^\$ANSIBLE_VAULT;1\.1;AES256/)
    const first = await lab.runPlaybook('test/e2e/fixtures/lab-smoke.yml', { inventory })
    assert.equal(first.code, 0, first.output)
    assert.deepEqual(Object.keys(first.recap).sort(), ['web1', 'web2'])
    for (const r of Object.values(first.recap)) assert.deepEqual([r.changed, r.failed, r.unreachable], [1, 0, 0])
    // The counts come from the callback plugin the action ships; Ansible's own recap agrees.
    assert.deepEqual(first.recap, parseRecap(first.output))
    assert.deepEqual(first.result.changed.map((t) => [t.host, t.task]).sort(), [['web1', 'A marker file names the host and the lab variable'], ['web2', 'A marker file names the host and the lab variable']])
    const marked = first.result.tasks.filter((t) => t.task === 'A marker file names the host and the lab variable')
    assert.deepEqual(marked.map((t) => [t.file, t.status, t.seconds >= 0]), Array(2).fill(['test/e2e/fixtures/lab-smoke.yml', 'changed', true]))
    const marker = await lab.ssh('web2', 'cat /root/lab-marker')
    assert.equal(marker.stdout, `web2 m1 ${lab.hosts[1]!.address}\n`)
    const second = await lab.runPlaybook('test/e2e/fixtures/lab-smoke.yml', { inventory })
    assert.equal(second.code, 0, second.output)
    for (const r of Object.values(second.recap)) assert.equal(r.changed, 0)
  })

  test('a host that reboots comes back with its files', async () => {
    const bootId = async () => (await lab.ssh('web2', 'cat /proc/sys/kernel/random/boot_id')).stdout
    const before = await bootId()
    await lab.ssh('web2', 'systemctl reboot')
    const end = Date.now() + 60_000
    let state = ''
    while (Date.now() < end) {
      const r = await lab.ssh('web2', 'systemctl is-system-running --wait; cat /proc/sys/kernel/random/boot_id', { timeoutMs: 30_000 })
      if (r.code !== 255 && !r.stdout.endsWith(before)) {
        state = r.stdout.split('\n')[0]!
        break
      }
      await new Promise((r) => setTimeout(r, 200))
    }
    assert.match(state, /^(running|degraded)$/, 'web2 did not come back after reboot')
    assert.notEqual(await bootId(), before)
    assert.equal((await lab.ssh('web2', 'cat /root/lab-marker')).code, 0)
  })

  test('destroy leaves no namespace, mount, process or file behind, and is idempotent', async () => {
    for (const l of [other, lab]) {
      const t = traces(l)
      assert.ok(t.pids.length >= 2 * l.hosts.length, `only ${t.pids.length} processes found`)
      await l.destroy()
      assertGone(t)
      await l.destroy()
    }
  })
})

/** Starts `cli.ts up web1` and resolves with its JSON once the lab is up. */
async function cliUp(): Promise<{ child: ChildProcess; info: { slot: number; dir: string } }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/lab/cli.ts', 'up', 'web1'], { stdio: ['ignore', 'pipe', 'inherit'] })
  let out = ''
  for await (const chunk of child.stdout!) {
    out += chunk
    try {
      return { child, info: JSON.parse(out) }
    } catch {
      // not complete yet
    }
  }
  throw new Error(`cli.ts up exited without printing the lab: ${out}`)
}

function labTraces(info: { slot: number; dir: string }) {
  return {
    netns: [`dad${info.slot}-0`],
    dir: info.dir,
    pids: execFileSync('ip', ['netns', 'pids', `dad${info.slot}-0`], { encoding: 'utf8' }).split(/\s+/).filter(Boolean).map(Number),
  }
}

describe('lab owned by another process', () => {
  test('SIGTERM to the owner tears its lab down', async () => {
    const { child, info } = await cliUp()
    const t = labTraces(info)
    assert.ok(t.pids.length > 0)
    child.kill('SIGTERM')
    const [code] = await once(child, 'exit')
    assert.equal(code, 0)
    assertGone(t)
  })

  test('cleanupStale() tears down the lab of an owner killed with SIGKILL', async () => {
    const { child, info } = await cliUp()
    const t = labTraces(info)
    child.kill('SIGKILL')
    await once(child, 'exit')
    assert.ok(existsSync(info.dir), 'nothing ran after SIGKILL, so the lab must still be there')
    assert.ok(await cleanupStale() >= 1)
    assertGone(t)
  })
})

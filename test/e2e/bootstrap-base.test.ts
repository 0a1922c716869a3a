// bootstrap then base on a fresh Debian host, checked from outside: the admin logs in on the new
// port with her key and sudoes with her password; root, passwords, port 22 and every port not
// allowed are refused; fail2ban guards the new port; reruns change nothing; a removed admin is
// locked out. web3 has socket-activated ssh (ssh.socket, as on Ubuntu 22.10+) and is bootstrapped
// alongside web1. web2 receives runs with bad variables and must never be contacted.
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { createHash, randomBytes } from 'node:crypto'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { startLab, type Lab } from '../../src/lab/index.ts'
import { run } from '../../src/lab/exec.ts'

const PORT = 2222 // server_ssh_port in inventories/production (the lab's known_hosts lists it)
const STEP = { timeout: 20 * 60_000 }

describe('bootstrap and base', () => {
  let lab: Lab
  let inventory: string
  let bobKey: string
  const sudoPassword = `lab-sudo-${randomBytes(9).toString('hex')}`
  const pub = (key: string) => readFileSync(`${key}.pub`, 'utf8').trim()
  const admins = (bobState: 'present' | 'absent') => [
    { name: 'alice', keys: [pub(lab.keys.admin)] },
    bobState === 'present' ? { name: 'bob', shell: '/bin/sh', keys: [pub(bobKey)] } : { name: 'bob', state: 'absent' },
  ]
  const asAlice = (cmd: string, input?: string) => lab.ssh('web1', cmd, { user: 'alice', port: PORT, key: lab.keys.admin, input })
  const asDeploy = (cmd: string) => lab.ssh('web1', cmd, { user: 'deploy', port: PORT, key: lab.keys.deploy })
  const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`
  const timed = async (playbook: string, limit: string, extraVars?: Record<string, unknown>) => {
    const start = Date.now()
    const r = await lab.runPlaybook(playbook, { inventory, limit, extraVars })
    return { ...r, ms: Date.now() - start }
  }

  before(async () => {
    lab = await startLab({ hosts: ['web1', 'web2', 'web3'] })
    // web3: sshd started by systemd's ssh.socket instead of ssh.service (the session survives).
    const socket = await lab.ssh('web3', 'systemctl disable --now ssh.service && systemctl enable --now ssh.socket 2>&1')
    assert.equal(socket.code, 0, socket.stdout)
    bobKey = join(lab.dir, 'keys', 'bob')
    await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'bob', '-f', bobKey])
    inventory = await lab.writeInventory({
      vars: { bootstrap_admins: admins('present'), base_firewall_allowed_ports: [8443] },
      vault: { vault_admin_sudo_password: sudoPassword },
    })
  }, { timeout: 10 * 60_000 })
  after(() => lab?.destroy())

  test('bad variables stop the run with one clear message before the host is contacted', STEP, async () => {
    const web2 = lab.host('web2')
    const fingerprint = () => ['etc/ssh/sshd_config', 'etc/passwd', 'etc/group']
      .map((f) => createHash('sha256').update(readFileSync(join(web2.rootfs, f))).digest('hex')).join(' ')
    const before = fingerprint()
    const cases: [string, Record<string, unknown>, RegExp][] = [
      ['bootstrap', { server_ssh_port: 'abc' }, /bootstrap_ssh_port \(abc\) and bootstrap_initial_port \(22\) must be port numbers/],
      ['bootstrap', { bootstrap_admins: [{ name: 'carol', keys: [] }, { name: 'dave' }] }, /bootstrap_admins: carol, dave has no public key in 'keys'/],
      ['base', { server_ssh_port: 'abc' }, /base_ssh_port \(abc\) must be a port number/],
    ]
    for (const [playbook, extraVars, message] of cases) {
      const r = await lab.runPlaybook(playbook, { inventory, limit: 'web2', extraVars })
      assert.notEqual(r.code, 0, `${playbook} with ${JSON.stringify(extraVars)} succeeded:\n${r.output}`)
      assert.match(r.output, message)
      assert.equal(r.recap.web2?.failed, 1, r.output)
      assert.equal(r.recap.web2?.changed, 0, r.output)
      assert.doesNotMatch(r.output, /Gathering Facts|Facts about the server/, 'the run went past validation')
    }
    // Ansible keeps every SSH connection it opens in the lab's ControlPath directory for 60 s:
    // none was opened, and nothing on web2 changed.
    const cp = join(lab.dir, 'cp')
    assert.deepEqual(existsSync(cp) ? readdirSync(cp) : [], [], 'Ansible connected to a host')
    assert.equal(fingerprint(), before)
  })

  const figures: string[] = []

  test('bootstrap then base succeed on a fresh host', STEP, async (t) => {
    const bootstrap = await timed('bootstrap', 'web1:web3')
    assert.equal(bootstrap.code, 0, bootstrap.output)
    assert.deepEqual(Object.keys(bootstrap.recap).sort(), ['web1', 'web3'])
    const base = await timed('base', 'web1')
    assert.equal(base.code, 0, base.output)
    assert.equal(base.recap.web1?.failed, 0)
    figures.push(`fresh bootstrap ${seconds(bootstrap.ms)} + base ${seconds(base.ms)} = ${seconds(bootstrap.ms + base.ms)}`)
    t.diagnostic(figures.at(-1)!)
  })

  test('admins log in on the new port with their key; sudo takes the admin password; deploy sudoes without one', STEP, async () => {
    const id = await asAlice('id -nG')
    assert.equal(id.code, 0, id.stderr)
    assert.deepEqual(id.stdout.trim().split(' ').sort(), ['admins', 'alice', 'ssh-users'])
    const sudo = await asAlice("sudo -S -p '' id -u", `${sudoPassword}\n`)
    assert.equal(sudo.code, 0, sudo.stderr)
    assert.equal(sudo.stdout.trim(), '0')
    const wrong = await asAlice("sudo -S -p '' id -u", 'not-the-password\n')
    assert.notEqual(wrong.code, 0)
    const bob = await lab.ssh('web1', 'echo "$SHELL"', { user: 'bob', port: PORT, key: bobKey })
    assert.equal(bob.stdout.trim(), '/bin/sh', bob.stderr)
    const deploy = await asDeploy('sudo -n id -u')
    assert.equal(deploy.stdout.trim(), '0', deploy.stderr)
  })

  test('root login, password login and the old port are refused', STEP, async () => {
    const root = await lab.ssh('web1', 'true', { port: PORT })
    assert.equal(root.code, 255)
    assert.match(root.stderr, /Permission denied/)
    // The server offers public keys only: a client asking for passwords gets nothing else.
    const h = lab.host('web1')
    const password = await run('ssh', [
      '-F', '/dev/null', '-o', 'BatchMode=yes', '-o', 'StrictHostKeyChecking=yes', '-o', `UserKnownHostsFile=${lab.knownHosts}`,
      '-o', 'PreferredAuthentications=password,keyboard-interactive', '-o', 'PubkeyAuthentication=no',
      '-o', 'ConnectTimeout=5', '-p', String(PORT), '-l', 'alice', h.address, 'true',
    ], { timeoutMs: 60_000 })
    assert.equal(password.code, 255)
    assert.match(password.stderr, /Permission denied \(publickey\)/)
    assert.equal(await lab.tcpOpen('web1', 22), false, 'port 22 still answers')
    const config = await asDeploy('sudo -n sshd -T')
    assert.match(config.stdout, /^permitrootlogin no$/m)
    assert.match(config.stdout, /^passwordauthentication no$/m)
    assert.match(config.stdout, /^allowgroups ssh-users$/m)
    assert.deepEqual(config.stdout.match(/^port \d+$/gm), [`port ${PORT}`])
  })

  test('the firewall admits SSH, the web ports and the allowed ports only', STEP, async () => {
    // Listeners on an allowed port (8443), a web port (80) and a port nobody allowed (8080).
    const ports = [80, 8443, 8080]
    const start = ports.map((p) => `sudo -n systemd-run --quiet --unit=probe-${p} python3 -m http.server ${p}`).join(' && ')
    const wait = ports.map((p) => `until ss -Htln "sport = :${p}" | grep -q .; do sleep 0.2; done`).join('; ')
    const up = await asDeploy(`${start} && timeout 30 bash -c '${wait}'`)
    assert.equal(up.code, 0, up.stderr)
    try {
      assert.equal(await lab.tcpOpen('web1', 80), true, 'port 80 is closed')
      assert.equal(await lab.tcpOpen('web1', 8443), true, 'port 8443 (base_firewall_allowed_ports) is closed')
      assert.equal(await lab.tcpOpen('web1', 8080), false, 'port 8080 is open to the outside')
      const inside = await asDeploy("timeout 5 bash -c 'echo > /dev/tcp/127.0.0.1/8080' && echo reached")
      assert.equal(inside.stdout.trim(), 'reached', 'the listener on 8080 is not running')
      const rules = await asDeploy('sudo -n nft list table inet base_firewall')
      assert.match(rules.stdout, /policy drop/)
    } finally {
      await asDeploy(ports.map((p) => `sudo -n systemctl stop probe-${p}`).join('; '))
    }
  })

  test('fail2ban guards sshd on the new port, reading the journal', STEP, async () => {
    const status = await asDeploy('sudo -n fail2ban-client status sshd')
    assert.equal(status.code, 0, status.stderr)
    assert.match(status.stdout, /Journal matches:.*sshd/)
    const port = await asDeploy('sudo -n fail2ban-client get sshd action nftables-multiport port')
    assert.equal(port.stdout.trim(), String(PORT), port.stderr)
  })

  test('socket-activated ssh moves to the new port too', STEP, async () => {
    const r = await lab.ssh('web3', 'systemctl show -p Listen --value ssh.socket; systemctl is-enabled ssh.service || true',
      { user: 'alice', port: PORT, key: lab.keys.admin })
    assert.equal(r.code, 0, r.stderr)
    assert.match(r.stdout, new RegExp(`^\\S*:${PORT} \\(Stream\\)$`, 'm'))
    assert.doesNotMatch(r.stdout, /:22 \(Stream\)/)
    assert.equal(await lab.tcpOpen('web3', 22), false, 'port 22 still answers on web3')
    const root = await lab.ssh('web3', 'true', { port: PORT })
    assert.match(root.stderr, /Permission denied/)
  })

  test('a second run of each playbook changes nothing', STEP, async (t) => {
    const bootstrap = await timed('bootstrap', 'web1:web3')
    assert.equal(bootstrap.code, 0, bootstrap.output)
    assert.equal(bootstrap.recap.web1?.changed, 0, bootstrap.output)
    assert.equal(bootstrap.recap.web3?.changed, 0, bootstrap.output)
    const base = await timed('base', 'web1')
    assert.equal(base.code, 0, base.output)
    assert.equal(base.recap.web1?.changed, 0, base.output)
    figures.push(`no-op rerun: bootstrap ${seconds(bootstrap.ms)} + base ${seconds(base.ms)} = ${seconds(bootstrap.ms + base.ms)}`)
    t.diagnostic(figures.at(-1)!)
  })

  test('an admin marked absent can no longer log in', STEP, async () => {
    const r = await timed('bootstrap', 'web1', { bootstrap_admins: admins('absent') })
    assert.equal(r.code, 0, r.output)
    const bob = await lab.ssh('web1', 'true', { user: 'bob', port: PORT, key: bobKey })
    assert.equal(bob.code, 255)
    assert.match(bob.stderr, /Permission denied/)
    const gone = await asAlice('getent passwd bob; echo "getent=$?"; test -e /home/bob && echo home-left; true')
    assert.match(gone.stdout, /^getent=2$/m, 'bob still exists')
    assert.doesNotMatch(gone.stdout, /home-left/)
    assert.equal((await asAlice('true')).code, 0, 'alice was locked out too')
  })

  after(() => {
    if (figures.length) console.log(`bootstrap-base figures: ${figures.join('; ')}`)
  })
})

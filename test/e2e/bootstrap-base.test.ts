// bootstrap then base on a fresh Debian host, checked from outside: the admin logs in on the new
// port with her key and sudoes with her password; root, passwords, port 22 and every port not
// allowed are refused; fail2ban guards the new port; reruns change nothing; an admin marked absent
// loses the account, one deleted from the list is locked out (home kept), and is back once listed again. web3 has socket-activated ssh (ssh.socket, as on Ubuntu 22.10+) and is bootstrapped
// alongside web1. web2 receives runs with bad variables and must never be contacted, then a run
// without a deploy user that cannot prove the new port and must leave the old one open. sshd passes
// ssh-audit, and web1 moves 22 -> 2222 -> 2223 while a probe checks every second that an admin logs in.
// web3, a server only bootstrap has run on, also gets a preview (check mode with diff) of base,
// backend and frontend, as a pull request on a new server shows it: each playbook succeeds, says what
// it would install, and the server's files are byte for byte the same afterwards.
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { createHash, randomBytes } from 'node:crypto'
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { PLAIN_SITE_VARS, startLab, type Lab } from '../../src/lab/index.ts'
import { run } from '../../src/core/exec.ts'

const PORT = 2222 // server_ssh_port in inventories/production (the lab's known_hosts lists it)
const NEXT_PORT = 2223
const STEP = { timeout: 20 * 60_000 }
// Names the packaged ssh-audit (2.5.0, Debian 12) reports but judges by outdated knowledge:
// kex-strict-s-v00@openssh.com is OpenSSH's Terrapin countermeasure, unknown to it ("unknown algorithm");
// sntrup761x25519-sha512 is OpenSSH's default since 9.0 and the first KEX of ssh-audit's own hardening
// guide, still "experimental" in 2.5.0.
const SSH_AUDIT_OUTDATED = new Set(['kex-strict-s-v00@openssh.com', 'sntrup761x25519-sha512@openssh.com'])

/** ssh-audit's findings: the algorithms it flags [fail] or [warn], from its plain-text report. */
function sshAuditFindings(report: string): { algorithm: string; level: string; note: string }[] {
  const findings: { algorithm: string; level: string; note: string }[] = []
  let current = ''
  for (const line of report.split('\n')) {
    const head = /^\((?:kex|key|enc|mac|gen|fin|cve|sec)\) (\S+)/.exec(line)
    if (head) current = head[1]!
    else if (!/^\s+`-/.test(line)) current = ''
    const flag = /\[(fail|warn)\] (.*)$/.exec(line)
    if (flag && current) findings.push({ algorithm: current, level: flag[1]!, note: flag[2]! })
  }
  return findings
}

/**
 * Tries an admin login every second until stopped; records each second's outcome. sshd's reload
 * re-executes the daemon, which closes its listening sockets for some milliseconds (32 ms at most
 * on an idle lab host, measured over five reloads): a connection in that window is refused or reset,
 * and a client retrying gets in. So a second whose logins all fail tries them again, twice, a second
 * apart (as ssh -o ConnectionAttempts=3 would); it counts as locked out only when the retries fail too.
 */
function startLoginProbe(lab: Lab, logins: { user: string; port: number; key?: string }[]) {
  const outcomes: { at: number; via: string; retried: boolean; errors: string[] }[] = []
  let running = true
  const attempt = async (errors: string[]) => {
    for (const l of logins) {
      const r = await lab.ssh('web1', 'true', { ...l, timeoutMs: 15_000 })
      if (r.code === 0) return `${l.user}@${l.port}`
      errors.push(`${l.user}@${l.port}: ${r.stderr.trim().split('\n').at(-1) ?? `exit ${r.code}`}`)
    }
    return ''
  }
  const loop = (async () => {
    while (running) {
      const at = Date.now()
      const errors: string[] = []
      let via = await attempt(errors)
      const retried = !via
      for (let retry = 0; retry < 2 && !via; retry++) {
        await new Promise((r) => setTimeout(r, 1000))
        via = await attempt(errors)
      }
      outcomes.push({ at, via, retried, errors })
      await new Promise((r) => setTimeout(r, Math.max(0, 1000 - (Date.now() - at))))
    }
  })()
  return {
    async stop() {
      running = false
      await loop
      return outcomes
    },
  }
}

/** The probe's figures: how many seconds, and how many needed a retry (with what the first try met). */
function probeFigures(outcomes: { retried: boolean; errors: string[] }[]): string {
  const retried = outcomes.filter((o) => o.retried)
  return `${outcomes.length} probes, ${retried.length} logged in on a retry${retried.length ? ` (${retried.map((o) => o.errors[0]).join('; ')})` : ''}`
}

describe('bootstrap and base', () => {
  let lab: Lab
  let inventory: string
  let bobKey: string
  let carolKey: string
  const sudoPassword = `lab-sudo-${randomBytes(9).toString('hex')}`
  const pub = (key: string) => readFileSync(`${key}.pub`, 'utf8').trim()
  // 'removed': bob marked absent, carol deleted from the list.
  const admins = (state: 'present' | 'removed') => [
    { name: 'alice', keys: [pub(lab.keys.admin)] },
    state === 'present' ? { name: 'bob', shell: '/bin/sh', keys: [pub(bobKey)] } : { name: 'bob', state: 'absent' },
    ...(state === 'present' ? [{ name: 'carol', keys: [pub(carolKey)] }] : []),
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
    carolKey = join(lab.dir, 'keys', 'carol')
    await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'carol', '-f', carolKey])
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
      ['bootstrap', { server_ssh_port: 'abc' }, /bootstrap_ssh_port is \\?"abc\\?": expected a whole number/],
      ['bootstrap', { bootstrap_admins: [{ name: 'carol', keys: [] }, { name: 'dave' }] }, /bootstrap_admins: carol, dave has no public key in 'keys'/],
      ['base', { server_ssh_port: 'abc' }, /base_ssh_port is \\?"abc\\?": expected a whole number/],
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

  test('without a deploy user, bootstrap refuses the final SSH step unless an admin logs in on the new port', STEP, async () => {
    // alice's key is not the initial (root) key: nothing proves the new port, so the old one stays.
    const r = await lab.runPlaybook('bootstrap', { inventory, limit: 'web2', extraVars: { bootstrap_deploy_enabled: false, bootstrap_ssh_move_timeout: 10 } })
    assert.notEqual(r.code, 0, r.output)
    assert.match(r.output, /alice cannot log in on port 2222 .*the server still accepts the initial login on port 22/s)
    const root = await lab.ssh('web2', 'sshd -T | grep -E "^(port|permitrootlogin) "')
    assert.equal(root.code, 0, 'root no longer logs in on port 22')
    assert.deepEqual(root.stdout.trim().split('\n').sort(), ['permitrootlogin without-password', 'port 22', 'port 2222'])
  })

  // Two fresh runs back to back: the longest step, given room on a loaded machine.
  test('bootstrap then base succeed on a fresh host', { timeout: 45 * 60_000 }, async (t) => {
    // 22 -> 2222: until alice exists, root on 22 is the admin who must keep logging in.
    const probe = startLoginProbe(lab, [{ user: 'root', port: 22 }, { user: 'alice', port: PORT, key: lab.keys.admin }])
    const bootstrap = await timed('bootstrap', 'web1:web3')
    const outcomes = await probe.stop()
    assert.equal(bootstrap.code, 0, bootstrap.output)
    t.diagnostic(`port move 22 -> ${PORT}: ${probeFigures(outcomes)}`)
    assert.deepEqual(outcomes.filter((o) => !o.via), [], 'seconds when no admin could log in')
    assert.ok(outcomes.some((o) => o.via === `alice@${PORT}`), 'the probe never saw alice on the new port')
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

  test('ssh-audit finds nothing to fail or warn about on the new port', STEP, async (t) => {
    const r = await run('ssh-audit', ['-n', '-p', String(PORT), lab.host('web1').address], { timeoutMs: 120_000 })
    assert.match(r.stdout, /\(kex\) curve25519-sha256 /, r.stdout)
    const findings = sshAuditFindings(r.stdout)
    t.diagnostic(`ssh-audit: ${findings.length} findings, ${findings.filter((f) => !SSH_AUDIT_OUTDATED.has(f.algorithm)).length} outside the outdated names`)
    assert.deepEqual(findings.filter((f) => !SSH_AUDIT_OUTDATED.has(f.algorithm)), [], r.stdout)
    assert.match(r.stdout, /\(kex\) sntrup761x25519-sha512@openssh\.com/)
    // What the server offers (ssh-audit's "(rec)" lines only name algorithms it could add or drop).
    const offered = r.stdout.split('\n').filter((l) => /^\((kex|key|enc|mac)\) /.test(l)).join('\n')
    assert.doesNotMatch(offered, /ecdsa|nistp|ssh-dss|sha1|group14|-cbc|umac-64/)
    const config = await asDeploy('sudo -n sshd -T; sudo -n awk \'$1 ~ /^[0-9]+$/ && $5 < 3071\' /etc/ssh/moduli | wc -l')
    for (const line of ['maxstartups 10:30:60', 'persourcemaxstartups 5', 'requiredrsasize 3072', 'maxsessions 2', 'tcpkeepalive no', 'compression no']) {
      assert.match(config.stdout, new RegExp(`^${line}$`, 'm'))
    }
    assert.match(config.stdout, /^0$/m, 'moduli under 3072 bits are left')
    const rules = await asDeploy('sudo -n nft list table inet base_firewall')
    assert.match(rules.stdout, /tcp dport @ssh_ports ct state new meter ssh_rate_ipv4/)
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

  test('on web3, which only bootstrap has run on, previews of base, backend and frontend succeed, say what they would install, and change nothing', STEP, async () => {
    const asDeployOnWeb3 = (cmd: string) => lab.ssh('web3', cmd, { user: 'deploy', port: PORT, key: lab.keys.deploy })
    /** sha256, mode and owner of every file under the directories the roles write to. */
    const fingerprint = async () => {
      const dirs = '/etc /srv /usr/local /var/www /var/lib/django-deploy'
      const r = await asDeployOnWeb3(`sudo -n sh -c 'find ${dirs} -xdev -type f -printf "%p %m %u\\n" 2>/dev/null | sort; find ${dirs} -xdev -type f -exec sha256sum {} + 2>/dev/null | sort'`)
      assert.equal(r.code, 0, r.stderr)
      return r.stdout
    }
    // The site's settings a pull request's preview runs with (plain HTTP, Debian's Python packages).
    const preview = await lab.writeInventory({
      name: 'preview',
      vars: { ...PLAIN_SITE_VARS, bootstrap_admins: admins('present'), base_firewall_allowed_ports: [8443], public_hostnames: [lab.host('web3').address] },
      vault: { vault_admin_sudo_password: sudoPassword },
    })
    const before = await fingerprint()
    for (const playbook of ['base', 'backend', 'frontend']) {
      const r = await lab.runPlaybook(playbook, { inventory: preview, limit: 'web3', check: true, diff: true })
      assert.equal(r.code, 0, `${playbook}: ${r.output.slice(-4000)}`)
      assert.equal(r.recap.web3?.failed, 0, r.output.slice(-4000))
      assert.match(r.output, /Would install: /, `${playbook} says what it would install`)
    }
    assert.equal(await fingerprint(), before, 'the previews changed a file on the server')
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

  test('an admin marked absent loses the account; one deleted from the list can no longer log in nor sudo', STEP, async (t) => {
    const asCarol = (port = PORT) => lab.ssh('web1', 'true', { user: 'carol', port, key: carolKey })
    assert.equal((await asCarol()).code, 0, 'carol cannot log in before she is removed')
    const r = await timed('bootstrap', 'web1', { bootstrap_admins: admins('removed') })
    assert.equal(r.code, 0, r.output)
    const bob = await lab.ssh('web1', 'true', { user: 'bob', port: PORT, key: bobKey })
    assert.equal(bob.code, 255)
    assert.match(bob.stderr, /Permission denied/)
    const gone = await asAlice('getent passwd bob; echo "getent=$?"; test -e /home/bob && echo home-left; true')
    assert.match(gone.stdout, /^getent=2$/m, 'bob still exists')
    assert.doesNotMatch(gone.stdout, /home-left/)
    // carol: out of both groups, locked and expired, her home kept.
    const carol = await asCarol()
    assert.equal(carol.code, 255, 'carol still logs in')
    assert.match(carol.stderr, /Permission denied/)
    const state = await asDeploy('id -nG carol; sudo -n passwd -S carol; sudo -n sudo -l -U carol; sudo -n test -s /home/carol/.ssh/authorized_keys && echo home-kept')
    assert.equal(state.code, 0, state.stderr)
    const [groups, status] = state.stdout.split('\n')
    assert.equal(groups, 'carol')
    assert.match(status!, /^carol L /, 'the password is not locked')
    assert.match(state.stdout, /User carol is not allowed to run sudo/)
    assert.match(state.stdout, /^home-kept$/m)
    assert.equal((await asAlice('true')).code, 0, 'alice was locked out too')
    assert.equal((await asDeploy('true')).code, 0, 'deploy was locked out')
    const rerun = await timed('bootstrap', 'web1', { bootstrap_admins: admins('removed') })
    assert.equal(rerun.code, 0, rerun.output)
    assert.equal(rerun.recap.web1?.changed, 0, rerun.output)
    t.diagnostic(`removal ${seconds(r.ms)}, rerun ${seconds(rerun.ms)}`)
    // Put back in the SSH group by hand, carol is still refused: the account itself is expired.
    assert.equal((await asDeploy('sudo -n gpasswd --add carol ssh-users')).code, 0)
    const expired = await asCarol()
    assert.equal(expired.code, 255, 'an expired carol logs in once back in the SSH group')
  })

  test('the SSH port moves again, 2222 -> 2223, and an admin logs in every second of the move', STEP, async (t) => {
    // The lab's known_hosts pins 22 and 2222; the host keeps its keys on the next port.
    const known = readFileSync(lab.knownHosts, 'utf8')
    const address = lab.host('web1').address
    const next = known.split('\n').filter((l) => l.startsWith(`[${address}]:${PORT} `)).map((l) => l.replace(`:${PORT} `, `:${NEXT_PORT} `))
    writeFileSync(lab.knownHosts, known + next.join('\n') + '\n')
    const alice = (port: number) => ({ user: 'alice', port, key: lab.keys.admin })
    const probe = startLoginProbe(lab, [alice(NEXT_PORT), alice(PORT)])
    const moved = { server_ssh_port: NEXT_PORT, bootstrap_ssh_previous_ports: [PORT] }
    const bootstrap = await timed('bootstrap', 'web1', moved)
    const base = await timed('base', 'web1', moved)
    const outcomes = await probe.stop()
    assert.equal(bootstrap.code, 0, bootstrap.output)
    assert.equal(base.code, 0, base.output)
    figures.push(`port move ${PORT} -> ${NEXT_PORT}: bootstrap ${seconds(bootstrap.ms)} + base ${seconds(base.ms)}, ${probeFigures(outcomes)}`)
    t.diagnostic(figures.at(-1)!)
    assert.deepEqual(outcomes.filter((o) => !o.via), [], 'seconds when no admin could log in')
    assert.ok(outcomes.some((o) => o.via === `alice@${NEXT_PORT}`), 'the probe never saw alice on the new port')
    assert.equal(await lab.tcpOpen('web1', PORT), false, `port ${PORT} still answers`)
    const state = await lab.ssh('web1', 'sudo -n sshd -T | grep "^port "; sudo -n nft list set inet base_firewall ssh_ports',
      { user: 'deploy', port: NEXT_PORT, key: lab.keys.deploy })
    assert.equal(state.code, 0, state.stderr)
    assert.deepEqual(state.stdout.match(/^port \d+$/gm), [`port ${NEXT_PORT}`])
    assert.match(state.stdout, new RegExp(`elements = \\{ ${NEXT_PORT} \\}`))
    const rerun = await timed('bootstrap', 'web1', moved)
    assert.equal(rerun.code, 0, rerun.output)
    assert.equal(rerun.recap.web1?.changed, 0, rerun.output)
    // The inventory lists carol again: she has her account back.
    const carol = await lab.ssh('web1', 'true', { user: 'carol', port: NEXT_PORT, key: carolKey })
    assert.equal(carol.code, 0, `carol, listed again, cannot log in: ${carol.stderr}`)
  })

  after(() => {
    if (figures.length) console.log(`bootstrap-base figures: ${figures.join('; ')}`)
  })
})

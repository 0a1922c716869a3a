// One host: an overlay over the image, a network namespace on the lab's bridge, systemd-nspawn.
import { spawn } from 'node:child_process'
import { chmodSync, closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { randomBytes } from 'node:crypto'
import { connect } from 'node:net'
import { join } from 'node:path'
import { childEnv, lastLine, runOk } from '../core/exec.ts'
import { sleep } from './wait.ts'
import { isAlive, procId } from './proc.ts'
import { APT_PROXY_PORT } from './paths.ts'
import { saveState, type HostState, type LabState } from './resources.ts'

/**
 * Hosts may only talk to each other and to this machine. With ip_forward=0 (Debian's default) the
 * kernel already drops everything else; machines that forward (Docker sets ip_forward=1) get an
 * nftables rule dropping what would be forwarded between a lab bridge and any other interface.
 */
const FORWARD_GUARD = `table inet django_ansible_deploy_lab
delete table inet django_ansible_deploy_lab
table inet django_ansible_deploy_lab {
  chain forward {
    type filter hook forward priority filter - 10; policy accept;
    iifname "dadbr*" oifname != "dadbr*" drop
    iifname != "dadbr*" oifname "dadbr*" drop
  }
}
`
let guarded: Promise<void> | undefined

function ensureForwardGuard(): Promise<void> {
  guarded ??= (async () => {
    const forwarding = readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8').trim() !== '0'
    try {
      await runOk('nft', ['-f', '-'], { input: FORWARD_GUARD })
    } catch (e) {
      if (forwarding) {
        throw new Error(`lab: this machine forwards IPv4 and the guard rule failed (install nftables): ${(e as Error).message}`, { cause: e })
      }
    }
  })()
  return guarded
}

/** The lab's bridge carries the gateway address, where apt-cacher-ng answers the hosts. */
export async function createBridge(state: LabState): Promise<void> {
  await ensureForwardGuard()
  await runOk('ip', ['link', 'add', state.bridge, 'type', 'bridge'])
  await runOk('ip', ['addr', 'add', `${state.gateway}/24`, 'dev', state.bridge])
  await runOk('ip', ['link', 'set', state.bridge, 'up'])
}

export async function createNetns(state: LabState, h: HostState): Promise<void> {
  await runOk('ip', ['netns', 'add', h.netns])
  await runOk('ip', ['link', 'add', h.veth, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', h.netns])
  await runOk('ip', ['link', 'set', h.veth, 'master', state.bridge, 'up'])
  await runOk('ip', ['-n', h.netns, 'addr', 'add', `${h.address}/24`, 'dev', 'eth0'])
  await runOk('ip', ['-n', h.netns, 'link', 'set', 'lo', 'up'])
  await runOk('ip', ['-n', h.netns, 'link', 'set', 'eth0', 'up'])
  // A default route like a real server's (facts such as ansible_default_ipv4 need one). This machine
  // does not forward (net.ipv4.ip_forward=0), so nothing beyond the lab's own addresses is reached.
  await runOk('ip', ['-n', h.netns, 'route', 'add', 'default', 'via', state.gateway])
}

/** Mounts the host's overlay and writes what makes it a distinct machine before its first boot. */
export async function prepareRootfs(
  image: string, state: LabState, h: HostState, authorizedKey: string,
): Promise<void> {
  const base = join(state.dir, 'hosts', h.name)
  for (const d of ['upper', 'work', 'merged']) mkdirSync(join(base, d), { recursive: true })
  await runOk('mount', [
    '-t', 'overlay', 'overlay', '-o',
    `lowerdir=${image},upperdir=${join(base, 'upper')},workdir=${join(base, 'work')}`, h.merged,
  ])
  const root = h.merged
  const peers = state.hosts.map((p) => `${p.address}\t${p.name}`).join('\n')
  writeFileSync(join(root, 'etc/hostname'), `${h.name}\n`)
  writeFileSync(join(root, 'etc/hosts'), `127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost\n${peers}\n`)
  writeFileSync(join(root, 'etc/machine-id'), `${randomBytes(16).toString('hex')}\n`)
  // No resolver is reachable: a local one that answers "refused" at once beats a 5 s timeout.
  rmSync(join(root, 'etc/resolv.conf'), { force: true })
  writeFileSync(join(root, 'etc/resolv.conf'), 'nameserver 127.0.0.1\noptions timeout:1 attempts:1\n')
  // Test fixture only: Debian's archive through apt-cacher-ng on the lab gateway.
  writeFileSync(
    join(root, 'etc/apt/apt.conf.d/01proxy'),
    `Acquire::http::Proxy "http://${state.gateway}:${APT_PROXY_PORT}";\n`,
  )
  mkdirSync(join(root, 'root/.ssh'), { recursive: true, mode: 0o700 })
  chmodSync(join(root, 'root/.ssh'), 0o700)
  writeFileSync(join(root, 'root/.ssh/authorized_keys'), authorizedKey, { mode: 0o600 })
  // The image has no host keys: every host gets its own (rsa, ecdsa, ed25519), like a real install.
  await runOk('ssh-keygen', ['-A', '-f', root])
}

/** known_hosts lines for the host's keys on port 22, on 2222 (where bootstrap moves sshd), bare. */
export function knownHostsLines(h: HostState): string[] {
  const lines: string[] = []
  for (const type of ['ed25519', 'ecdsa', 'rsa']) {
    const [alg, key] = readFileSync(join(h.merged, `etc/ssh/ssh_host_${type}_key.pub`), 'utf8').split(' ')
    for (const name of [h.address, `[${h.address}]:22`, `[${h.address}]:2222`]) lines.push(`${name} ${alg} ${key}`)
  }
  return lines
}

/** Starts systemd-nspawn as a child in its own process group (a terminal's ^C is ours to handle). */
export function boot(state: LabState, h: HostState): void {
  const log = openSync(join(state.dir, 'hosts', h.name, 'console.log'), 'a')
  const child = spawn('systemd-nspawn', [
    '--quiet', '--directory', h.merged, '--boot',
    // No registration with machined (often absent). Without systemd as this machine's init there
    // is nobody to ask for a scope unit either; with it, a scope gives the host a delegated cgroup.
    '--register=no', ...(existsSync('/run/systemd/system') ? [] : ['--keep-unit']),
    `--machine=lab${state.slot}-${h.name}`, `--hostname=${h.name}`,
    `--network-namespace-path=/run/netns/${h.netns}`,
    // The host's own files stay in charge (roles manage them): no bind mounts over them.
    '--resolv-conf=off', '--timezone=off', '--link-journal=no',
    // The namespace is the host's own: its firewall (nftables, fail2ban) and net.* sysctls touch
    // nothing else. Other sysctls (kernel.*, fs.*) are the machine's and stay read-only.
    '--capability=CAP_NET_ADMIN',
    '--console=read-only',
  ], {
    detached: true,
    stdio: ['ignore', log, log],
    env: childEnv({ SYSTEMD_NSPAWN_API_VFS_WRITABLE: 'network' }),
  })
  closeSync(log)
  child.on('error', () => {}) // surfaces as "exited during boot" in waitReady()
  // A reboot inside the host ends systemd-nspawn with 133 (systemd-nspawn@.service restarts it on
  // that status too): boot the same tree again, unless the lab is being torn down.
  child.on('exit', (code) => {
    if (code === 133 && !state.destroyed) {
      boot(state, h)
      saveState(state)
    }
  })
  child.unref()
  h.nspawn = child.pid === undefined ? undefined : procId(child.pid)
}

export function tcpOpen(address: string, port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = connect({ host: address, port, timeout: timeoutMs })
    const done = (ok: boolean) => {
      sock.destroy()
      resolve(ok)
    }
    sock.once('connect', () => done(true))
    sock.once('timeout', () => done(false))
    sock.once('error', () => done(false))
  })
}

type Ssh = (cmd: string) => Promise<{ code: number; stdout: string; stderr: string }>

/** Waits for sshd, then for systemd to finish booting (running, or degraded: a unit failed). */
export async function waitReady(state: LabState, h: HostState, ssh: Ssh, timeoutMs = 120_000): Promise<string> {
  const end = Date.now() + timeoutMs
  const consoleTail = () => {
    try {
      return lastLine(readFileSync(join(state.dir, 'hosts', h.name, 'console.log'), 'utf8'))
    } catch {
      return ''
    }
  }
  let last = ''
  while (Date.now() < end) {
    if (!isAlive(h.nspawn)) throw new Error(`${h.name}: systemd-nspawn exited during boot: ${consoleTail()}`)
    if (await tcpOpen(h.address, 22, 500)) {
      // /run/nologin too: while it exists, pam_nologin refuses every user but root ("System is booting
      // up"). It once outlived a loaded host's reported boot, and the admins' first login failed.
      const r = await ssh('systemctl is-system-running --wait; test ! -e /run/nologin || echo nologin')
      last = (r.stdout.trim() || r.stderr.trim()).replace(/\s+/g, ' ')
      if (last === 'running' || last === 'degraded') return last
      if (last.endsWith('nologin')) {
        await sleep(500)
        continue
      }
      if (r.code !== 255 && !['starting', 'initializing'].includes(last)) {
        throw new Error(`${h.name}: systemd reports "${last}" after boot`)
      }
    }
    await sleep(200)
  }
  throw new Error(`${h.name}: not ready after ${timeoutMs / 1000} s (last: ${last || 'no sshd'}; console: ${consoleTail()})`)
}


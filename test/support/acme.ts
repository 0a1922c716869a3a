// A private ACME CA for a lab: Debian's pebble on this machine, listening on the lab's gateway, with
// pebble-challtestsrv as its DNS server so that the lab's public names resolve to the lab's hosts.
// Pebble really validates http-01: it connects to port 80 of the host a name points at.
import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { closeSync, mkdirSync, openSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { runOk } from '../../src/core/exec.ts'
import { send } from './http.ts'
import { tcpOpen } from '../../src/lab/host.ts'
import type { Lab } from '../../src/lab/index.ts'

export interface AcmeOptions {
  /** Name → address answered by the CA's DNS (default: `<host>.test` → each lab host's address). */
  names?: Record<string, string>
  /** Ports on the gateway (each lab has its own gateway address, so the defaults never clash). */
  ports?: { acme?: number; management?: number; dns?: number; dnsManagement?: number }
}

export interface Acme {
  /** The ACME directory, over HTTPS on the lab's gateway (what certbot's `--server` takes). */
  directoryUrl: string
  /** PEM of the CA that signed the directory's TLS certificate (what REQUESTS_CA_BUNDLE takes). */
  caBundlePem: string
  /** PEM of the root that signs the certificates pebble issues (new at every start). */
  issuerRootPem(): Promise<string>
  /** Makes the CA's DNS answer `name` with `address` (A record). */
  addName(name: string, address: string): Promise<void>
  /** Stops pebble and its DNS server. Idempotent. */
  stop(): Promise<void>
}

const running = new Set<ChildProcess>()
let exitHandler = false

function killAll(): void {
  for (const c of running) c.kill('SIGKILL')
}

function startChild(cmd: string, args: string[], env: Record<string, string>, log: string): ChildProcess {
  const fd = openSync(log, 'a')
  // Killed with this process whatever ends it (a signal, SIGKILL): no server outlives its lab.
  const child = spawn('setpriv', ['--pdeathsig', 'KILL', '--', cmd, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', fd, fd] })
  closeSync(fd)
  running.add(child)
  child.on('exit', () => running.delete(child))
  if (!exitHandler) {
    exitHandler = true
    process.on('exit', killAll)
  }
  return child
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  const exited = once(child, 'exit')
  child.kill('SIGTERM')
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000)
  await exited
  clearTimeout(timer)
}

async function waitPort(address: string, port: number, child: ChildProcess, what: string, log: string): Promise<void> {
  for (let i = 0; i < 150; i++) {
    if (child.exitCode !== null) throw new Error(`acme: ${what} exited with ${child.exitCode}: see ${log}\n${readFileSync(log, 'utf8').slice(-2000)}`)
    if (await tcpOpen(address, port)) return
    await new Promise((r) => setTimeout(r, 200))
  }
  throw new Error(`acme: ${what} does not answer on ${address}:${port}: see ${log}`)
}

async function httpsGet(url: string, ca: string): Promise<string> {
  const r = await send(url, { ca, timeoutMs: 30_000 })
  if (r.status !== 200) throw new Error(`acme: GET ${url}: ${r.status} ${r.body}`)
  return r.body
}

async function httpPost(url: string, body: unknown): Promise<void> {
  const r = await send(url, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' }, timeoutMs: 30_000 })
  if (r.status !== 200) throw new Error(`acme: POST ${url}: ${r.status}`)
}

/**
 * Ends pebble processes left bound to this gateway by an earlier owner of the slot that was killed
 * before it could stop them (the gateway address is this lab's now, so they can only be stale).
 */
function killStale(gateway: string): void {
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    let argv: string[]
    try {
      argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')
    } catch {
      continue
    }
    const cmd = argv[0]?.split('/').pop()
    if ((cmd === 'pebble' || cmd === 'pebble-challtestsrv') && argv.some((a) => a.startsWith(`${gateway}:`))) {
      try {
        process.kill(Number(pid), 'SIGKILL')
      } catch {
        // gone already
      }
    }
  }
}

/** A CA valid two days and the directory's certificate (for the gateway's IP address) signed by it. */
async function makeTlsFiles(dir: string, gateway: string): Promise<void> {
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes']
  await runOk('openssl', [
    'req', '-x509', ...ec, '-keyout', join(dir, 'ca.key'), '-out', join(dir, 'ca.pem'), '-days', '2',
    '-subj', '/CN=lab ACME directory CA',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
  ])
  await runOk('openssl', ['req', '-new', ...ec, '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.csr'), '-subj', `/CN=${gateway}`])
  writeFileSync(join(dir, 'cert.ext'), [
    `subjectAltName=IP:${gateway}`,
    'basicConstraints=critical,CA:FALSE',
    'keyUsage=critical,digitalSignature',
    'extendedKeyUsage=serverAuth',
  ].join('\n') + '\n')
  await runOk('openssl', [
    'x509', '-req', '-in', join(dir, 'cert.csr'), '-CA', join(dir, 'ca.pem'), '-CAkey', join(dir, 'ca.key'),
    '-CAcreateserial', '-days', '2', '-extfile', join(dir, 'cert.ext'), '-out', join(dir, 'cert.pem'),
  ])
}

/** Starts pebble and its DNS on the lab's gateway; call `stop()` (or let the process exit) to end them. */
export async function startAcme(lab: Lab, opts: AcmeOptions = {}): Promise<Acme> {
  const gateway = lab.hosts[0]!.gateway
  const ports = { acme: 14000, management: 15000, dns: 8053, dnsManagement: 8055, ...opts.ports }
  const dir = join(lab.dir, 'acme')
  mkdirSync(dir, { recursive: true, mode: 0o700 })
  killStale(gateway)
  await makeTlsFiles(dir, gateway)
  writeFileSync(join(dir, 'pebble-config.json'), JSON.stringify({
    pebble: {
      listenAddress: `${gateway}:${ports.acme}`,
      managementListenAddress: `${gateway}:${ports.management}`,
      certificate: join(dir, 'cert.pem'),
      privateKey: join(dir, 'key.pem'),
      httpPort: 80,
      tlsPort: 443,
      ocspResponderURL: '',
      externalAccountBindingRequired: false,
    },
  }, null, 2))

  const dnsLog = join(dir, 'challtestsrv.log')
  const dns = startChild('pebble-challtestsrv', [
    '-dns01', `${gateway}:${ports.dns}`,
    '-management', `${gateway}:${ports.dnsManagement}`,
    '-http01', '', '-https01', '', '-tlsalpn01', '',
    // Names not added below resolve to the first host; no AAAA answers (the lab has no IPv6 route).
    '-defaultIPv4', lab.hosts[0]!.address, '-defaultIPv6', '',
  ], {}, dnsLog)
  const pebbleLog = join(dir, 'pebble.log')
  let pebble: ChildProcess | undefined
  const stop = async () => {
    await Promise.all([dns, pebble].filter((c): c is ChildProcess => !!c).map(stopChild))
  }
  try {
    await waitPort(gateway, ports.dnsManagement, dns, 'pebble-challtestsrv', dnsLog)
    const names = opts.names ?? Object.fromEntries(lab.hosts.map((h) => [`${h.name}.test`, h.address]))
    const addName = (name: string, address: string) =>
      httpPost(`http://${gateway}:${ports.dnsManagement}/add-a`, { host: name, addresses: [address] })
    for (const [name, address] of Object.entries(names)) await addName(name, address)

    pebble = startChild('pebble', ['-config', join(dir, 'pebble-config.json'), '-dnsserver', `${gateway}:${ports.dns}`], {
      PEBBLE_VA_NOSLEEP: '1', // validate at once rather than after a random 0-15 s
      PEBBLE_WFE_NONCEREJECT: '0', // never reject a good nonce (5% by default)
      PEBBLE_AUTHZREUSE: '0', // every order validates again (renewals too)
    }, pebbleLog)
    await waitPort(gateway, ports.acme, pebble, 'pebble', pebbleLog)
    await waitPort(gateway, ports.management, pebble, 'pebble', pebbleLog)
    const caBundlePem = readFileSync(join(dir, 'ca.pem'), 'utf8')
    return {
      directoryUrl: `https://${gateway}:${ports.acme}/dir`,
      caBundlePem,
      issuerRootPem: () => httpsGet(`https://${gateway}:${ports.management}/roots/0`, caBundlePem),
      addName,
      stop,
    }
  } catch (e) {
    await stop()
    throw e
  }
}

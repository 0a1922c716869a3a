// `django-deploy demo`: a throwaway server on this machine, the example app deployed on it by the
// four playbooks, and the URL to open. Uses the test server harness (src/lab).
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { parse } from 'yaml'
import { parse as parseOptions } from './args.ts'
import { UsageError, type Command } from './command.ts'
import { PLAYBOOKS } from '../core/playbooks.ts'
import { DEBIAN_PYTHON_VARS, startLab, type Lab, type HostRecap } from '../lab/index.ts'

/** The deploy order; the demo runs them all. */
/** The demo runs the four playbooks, in their order. */
export const DEMO_PLAYBOOKS = PLAYBOOKS

export interface DemoOptions {
  exit: boolean
  keepOnFailure: boolean
  suite?: string
}

const usage = `Usage: django-deploy demo [--exit] [--keep-on-failure] [--suite SUITE]

Boots a throwaway Debian server on this machine (systemd-nspawn in its own network namespace;
needs root and what scripts/setup.sh installs), deploys the example Django app to it with the
bootstrap, base, backend and frontend playbooks (plain HTTP, no TLS), checks that the site answers,
then prints its URL and keeps the server up until Ctrl-C, which tears it down.

Options:
  --exit             tear the server down as soon as the check passed (CI, tests)
  --keep-on-failure  when a playbook fails, keep the server up (Ctrl-C tears it down) to look around
  --suite SUITE      Debian release of the server (default: bookworm)
  -h, --help         this help

The server is reachable from this machine only; from elsewhere, tunnel:
  ssh -L 8080:ADDRESS:80 root@THIS-MACHINE, then open http://localhost:8080/`

export function parseDemoArgs(argv: string[]): DemoOptions | 'help' {
  const { values } = parseOptions(argv, {
    exit: { type: 'boolean' },
    'keep-on-failure': { type: 'boolean' },
    suite: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  })
  if (values.help) return 'help'
  if (values.suite !== undefined && !/^[a-z][a-z0-9-]*$/.test(values.suite)) {
    throw new UsageError(`--suite "${values.suite}": expected a Debian release name such as bookworm`)
  }
  if (values.exit && values['keep-on-failure']) throw new UsageError('--exit and --keep-on-failure contradict each other: pick one')
  return { exit: values.exit ?? false, keepOnFailure: values['keep-on-failure'] ?? false, suite: values.suite }
}

/** 4.2 s → "4s", 75 s → "1m15s". */
export function formatDuration(ms: number): string {
  const s = Math.round(ms / 1000)
  return s < 60 ? `${s}s` : `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`
}

/** `[2/4] base          ok      1m15s  ok=40 changed=25` */
export function progressLine(index: number, total: number, playbook: string, ok: boolean, ms: number, recap?: HostRecap): string {
  const counts = recap
    ? `  ok=${recap.ok} changed=${recap.changed}` + (recap.failed ? ` failed=${recap.failed}` : '') + (recap.unreachable ? ` unreachable=${recap.unreachable}` : '')
    : ''
  return `[${index}/${total}] ${playbook.padEnd(10)} ${(ok ? 'ok' : 'FAILED').padEnd(7)}${formatDuration(ms).padStart(6)}${counts}`
}

/** The last `n` non-empty lines of a log. */
export function tail(text: string, n: number): string {
  const lines = text.replace(/\s+$/, '').split('\n')
  return lines.slice(-n).join('\n')
}

/**
 * Inventory variables for the demo server: its address as a host name (a plain URL works), plain
 * HTTP, and Debian's Django, gunicorn and psycopg2 in the virtualenv (test servers have no PyPI).
 */
export function demoVars(address: string, hostName: string): Record<string, unknown> {
  return {
    public_hostnames: [address, `${hostName}.test`],
    frontend_tls_enabled: false,
    backend_https: false,
    ...DEBIAN_PYTHON_VARS,
  }
}

async function waitForPage(url: string, timeoutMs: number): Promise<{ status: number; body: string }> {
  const deadline = Date.now() + timeoutMs
  let last: { status: number; body: string }
  for (;;) {
    try {
      const res = await fetch(url, { redirect: 'manual', signal: AbortSignal.timeout(10_000) })
      last = { status: res.status, body: await res.text() }
      if (res.status === 200) return last
    } catch (e) {
      last = { status: 0, body: (e as { cause?: { code?: string } }).cause?.code ?? (e as Error).message }
    }
    if (Date.now() > deadline) return last
    await new Promise((r) => setTimeout(r, 2000))
  }
}

/** The SSH port after bootstrap, from the demo inventory's vars (server_ssh_port). */
function sshPort(inventory: string): number {
  try {
    const vars = parse(readFileSync(join(inventory, 'group_vars/all/vars.yml'), 'utf8')) as { server_ssh_port?: unknown }
    const port = Number(vars.server_ssh_port)
    return Number.isInteger(port) && port > 0 ? port : 22
  } catch {
    return 22
  }
}

function untilSignal(): Promise<void> {
  return new Promise((resolve) => {
    const keepAlive = setInterval(() => {}, 1 << 30)
    const done = () => {
      clearInterval(keepAlive)
      process.removeListener('SIGINT', done)
      process.removeListener('SIGTERM', done)
      resolve()
    }
    process.on('SIGINT', done)
    process.on('SIGTERM', done)
  })
}

export async function runDemo(o: DemoOptions, repoRoot: string): Promise<number> {
  const missing = DEMO_PLAYBOOKS.filter((p) => !existsSync(join(repoRoot, 'playbooks', `${p}.yml`)))
  if (missing.length > 0) throw new Error(`missing ${missing.map((p) => `playbooks/${p}.yml`).join(', ')} in ${repoRoot}`)

  const t0 = Date.now()
  console.log('demo: booting a throwaway Debian server…')
  const lab: Lab = await startLab({ hosts: ['web1'], suite: o.suite, repoRoot })
  try {
    const host = lab.hosts[0]!
    console.log(`demo: server web1 up at ${host.address} (${formatDuration(Date.now() - t0)})`)
    const inventory = await lab.writeInventory({ name: 'demo', vars: demoVars(host.address, host.name) })

    for (const [i, playbook] of DEMO_PLAYBOOKS.entries()) {
      const started = Date.now()
      console.log(`[${i + 1}/${DEMO_PLAYBOOKS.length}] ${playbook}…`)
      const r = await lab.runPlaybook(playbook, { inventory })
      const recap = r.recap[host.name]
      const ok = r.code === 0 && recap !== undefined && recap.failed === 0 && recap.unreachable === 0
      console.log(progressLine(i + 1, DEMO_PLAYBOOKS.length, playbook, ok, Date.now() - started, recap))
      if (!ok) {
        const logDir = join(repoRoot, '.lab')
        mkdirSync(logDir, { recursive: true })
        const log = join(logDir, `demo-${playbook}.log`)
        writeFileSync(log, r.output)
        console.error(`\n--- last lines of ansible-playbook ${playbook} (full log: ${log}) ---\n${tail(r.output, 40)}\n---`)
        console.error(`django-deploy demo: playbook ${playbook} failed (exit ${r.code})`)
        if (o.keepOnFailure) {
          console.log(`demo: server kept up for a look: ssh -i ${lab.rootKey} -o UserKnownHostsFile=${lab.knownHosts} root@${host.address}  (Ctrl-C tears it down)`)
          await untilSignal()
        }
        return 1
      }
    }

    const url = `http://${host.address}/`
    const page = await waitForPage(url, 60_000)
    if (page.status !== 200) {
      console.error(`django-deploy demo: ${url} answered ${page.status || page.body} instead of 200`)
      return 1
    }
    console.log(`\ndemo: deployed in ${formatDuration(Date.now() - t0)}; ${url} answers 200.`)
    console.log(`  open:  ${url}   (from this machine)`)
    console.log(`  curl:  curl -i ${url}`)
    console.log(`  ssh:   ssh -i ${lab.keys.admin} -o UserKnownHostsFile=${lab.knownHosts} -p ${sshPort(inventory)} alice@${host.address}`)
    if (o.exit) {
      console.log('demo: --exit: tearing the server down')
      return 0
    }
    console.log('demo: the server stays up until Ctrl-C')
    await untilSignal()
    console.log('\ndemo: tearing the server down')
    return 0
  } finally {
    await lab.destroy()
  }
}

export const command: Command = {
  name: 'demo',
  summary: 'Deploy the example app to a throwaway local server and print its URL',
  usage,
  async run(argv) {
    const opts = parseDemoArgs(argv)
    if (opts === 'help') {
      console.log(usage)
      return 0
    }
    try {
      return await runDemo(opts, findRepoRoot())
    } catch (e) {
      if (e instanceof UsageError) throw e
      console.error(`django-deploy demo: ${(e as Error).message.replace(/^lab: /, '')}`)
      return 1
    }
  },
}

/** The repository: the current directory, or above it, holding ansible.cfg and playbooks/. */
function findRepoRoot(): string {
  let dir = process.cwd()
  for (;;) {
    if (existsSync(join(dir, 'ansible.cfg')) && existsSync(join(dir, 'playbooks'))) return dir
    const up = join(dir, '..')
    if (up === dir) throw new Error('run it from the repository (no ansible.cfg and playbooks/ here or above)')
    dir = up
  }
}

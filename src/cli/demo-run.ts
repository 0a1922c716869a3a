// The demo's run: boots the server (src/lab), runs the four playbooks, checks the page.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { parse } from 'yaml'
import { PLAYBOOKS } from '../core/playbooks.ts'
import { DEBIAN_PYTHON_VARS, startLab, type Lab } from '../lab/index.ts'
import { formatDuration } from '../core/format.ts'
import { progressLine, tail } from './demo-output.ts'

/** The demo's options (demo.ts parses them). */
export interface DemoOptions {
  exit: boolean
  keepOnFailure: boolean
  suite?: string
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
  const missing = PLAYBOOKS.filter((p) => !existsSync(join(repoRoot, 'playbooks', `${p}.yml`)))
  if (missing.length > 0) throw new Error(`missing ${missing.map((p) => `playbooks/${p}.yml`).join(', ')} in ${repoRoot}`)

  const t0 = Date.now()
  console.log('demo: booting a throwaway Debian server…')
  const lab: Lab = await startLab({ hosts: ['web1'], suite: o.suite, repoRoot })
  try {
    const host = lab.hosts[0]!
    console.log(`demo: server web1 up at ${host.address} (${formatDuration(Date.now() - t0)})`)
    const inventory = await lab.writeInventory({ name: 'demo', vars: demoVars(host.address, host.name) })

    for (const [i, playbook] of PLAYBOOKS.entries()) {
      const started = Date.now()
      console.log(`[${i + 1}/${PLAYBOOKS.length}] ${playbook}…`)
      const r = await lab.runPlaybook(playbook, { inventory })
      const recap = r.recap[host.name]
      const ok = r.code === 0 && recap !== undefined && recap.failed === 0 && recap.unreachable === 0
      console.log(progressLine(i + 1, PLAYBOOKS.length, playbook, ok, Date.now() - started, recap))
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


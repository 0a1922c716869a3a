// The bench's host: one lab host with the example app deployed by the four playbooks, reused by
// the figures that need a server; each redeploy gets a new copy of the app (a new version).
import { join } from 'node:path'
import { DEBIAN_PYTHON_VARS, startLab, type Lab } from '../../src/lab/index.ts'
import { appCopy } from './app.ts'
import type { Bench } from './bench.ts'
import { ALL_PLAYBOOKS, runSequence, type TimedSequence } from './deploy.ts'
import { waitFor } from '../../test/support/http.ts'
import { remote, sshLogins, type Remote } from './remote.ts'

export const ORG = 'bench-org'
export const SLUG = 'bench'
export const HOSTNAME = 'bench.test'
export const DJANGO_PROJECT = 'example_project'
export const PROJECT_DIR = `/srv/${ORG}/${SLUG}`
export const SSH_PORT = 2222
/** The bench's site on every host it deploys: plain HTTP, Debian's Python packages. */
export const SITE_VARS = {
  organization_slug: ORG,
  project_slug: SLUG,
  public_hostnames: [HOSTNAME],
  server_ssh_port: SSH_PORT,
  frontend_tls_enabled: false,
  backend_django_project: DJANGO_PROJECT,
  ...DEBIAN_PYTHON_VARS,
  backend_https: false,
}
/** Concurrent clients of every load figure. */
export const CLIENTS = 8

export interface Deployed {
  lab: Lab
  host: string
  /** Root commands on the host (as the deploy user, through sudo). */
  sh: Remote
  address: string
  inventory: string
  firstDeploy: TimedSequence
  /** SSH sessions the host accepted during the first deploy (its journal starts at boot). */
  firstDeploySessions: number | null
  versions: number
  /** Where app copies come from and go. */
  repo: string
  scratch: string
}

/**
 * One lab host, deployed once through the four playbooks (the first deploy of the no-op figure), then
 * reused. `appOnly` (figures that only need the site, run alone): backend and frontend, logged in as
 * root on port 22, as the e2e tests do (no bootstrap or base: half an hour less on a loaded machine).
 */
export async function deployHost(ctx: Bench, appOnly = false): Promise<Deployed> {
  ctx.log(`starting one lab host${appOnly ? ' (backend and frontend only)' : ''}`)
  const lab = await startLab({ hosts: ['web1'], repoRoot: ctx.repo })
  const host = lab.hosts[0]!
  const inventory = await lab.writeInventory({
    name: 'bench',
    vars: {
      ...SITE_VARS,
      ...(appOnly ? { ansible_user: 'root', ansible_port: 22, ansible_ssh_private_key_file: lab.rootKey } : {}),
    },
  })
  const playbooks = appOnly ? ['backend', 'frontend'] : ALL_PLAYBOOKS
  const v1 = appCopy(join(ctx.repo, 'app'), ctx.scratch, 'bench-1', DJANGO_PROJECT)
  ctx.log(`first deploy: ${playbooks.join(' → ')} (app ${v1.version})`)
  const firstDeploy = await runSequence(lab, playbooks, { inventory, extraVars: { backend_archive_src: v1.dir } })
  ctx.log(`first deploy: ${firstDeploy.seconds} s (${firstDeploy.runs.map((r) => `${r.playbook} ${r.seconds} s`).join(', ')})`)
  await waitFor(`http://${host.address}/health/`, HOSTNAME, 'bench-1', 30)
  const sh: Remote = appOnly ? (cmd) => lab.ssh(host.name, cmd) : remote(lab, host.name, SSH_PORT)
  // Less the count's own login.
  const logins = await sshLogins(sh).catch(() => null)
  const firstDeploySessions = logins === null ? null : logins - 1
  return { lab, host: host.name, sh, address: host.address, inventory, firstDeploy, firstDeploySessions, versions: 1, repo: ctx.repo, scratch: ctx.scratch }
}

/** A new copy of the app (a new version) for the next deploy. */
export function nextVersion(d: Deployed) {
  d.versions++
  return appCopy(join(d.repo, 'app'), d.scratch, `bench-${d.versions}`, DJANGO_PROJECT)
}


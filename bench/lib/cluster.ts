// The bench's clusters for the rolling-deploy figure: a load balancer, N app servers and a database
// server of its own (inventory groups loadbalancers, appservers, dbservers), from fresh lab hosts
// through the four playbooks, with the lab's hardening packages as the cluster e2e test uses.
import { join } from 'node:path'
import { startLab, type Lab } from '../../src/lab/index.ts'
import { waitFor } from '../../test/support/http.ts'
import { appCopy } from './app.ts'
import type { Bench } from './bench.ts'
import { ALL_PLAYBOOKS, runSequence, type TimedSequence } from './deploy.ts'
import { DJANGO_PROJECT, HOSTNAME, SITE_VARS, SSH_PORT } from './host.ts'
import { remote, type Remote } from './remote.ts'

export interface Cluster {
  lab: Lab
  inventory: string
  apps: string[]
  /** The load balancer's address: where the site answers. */
  address: string
  /** Root commands on a host of the cluster (as the deploy user, through sudo). */
  sh: (host: string) => Remote
  firstDeploy: TimedSequence
  versions: number
  label: string
}

/** Boots and deploys `lb1`, `app1`…`appN`, `db1`; the app copies are named after `label`. */
export async function deployCluster(ctx: Bench, appCount: number, label: string): Promise<Cluster> {
  const apps = Array.from({ length: appCount }, (_, i) => `app${i + 1}`)
  ctx.log(`${label}: starting lb1, ${apps.join(', ')}, db1`)
  const lab = await startLab({ hosts: ['lb1', ...apps, 'db1'], repoRoot: ctx.repo })
  const inventory = await lab.writeInventory({
    name: label,
    hardening: 'lab',
    groups: { loadbalancers: ['lb1'], appservers: apps, dbservers: ['db1'] },
    vars: SITE_VARS,
  })
  const cluster: Cluster = {
    lab, inventory, apps, label, versions: 0,
    address: lab.host('lb1').address,
    sh: (host) => remote(lab, host, SSH_PORT),
    firstDeploy: { seconds: 0, runs: [], changed: 0, failed: 0 },
  }
  const v1 = nextClusterVersion(ctx, cluster)
  cluster.firstDeploy = await runSequence(lab, ALL_PLAYBOOKS, { inventory, extraVars: { backend_archive_src: v1.dir }, host: 'app1' })
  ctx.log(`${label}: first deploy ${cluster.firstDeploy.seconds} s (${cluster.firstDeploy.runs.map((r) => `${r.playbook} ${r.seconds} s`).join(', ')})`)
  await waitFor(`http://${cluster.address}/health/`, HOSTNAME, v1.version, 30)
  return cluster
}

/** A new copy of the app (a new version) for the cluster's next deploy. */
export function nextClusterVersion(ctx: Bench, c: Cluster) {
  c.versions++
  return appCopy(join(ctx.repo, 'app'), ctx.scratch, `${c.label}-${c.versions}`, DJANGO_PROJECT)
}

/** The version each app server's own gunicorn serves (asked on the app server: its web port answers the load balancer only). */
export async function appVersions(c: Cluster): Promise<Record<string, string>> {
  const out: Record<string, string> = {}
  for (const app of c.apps) {
    const r = await c.sh(app)(`curl -fsS -H 'Host: ${HOSTNAME}' http://${c.lab.host(app).address}/health/`)
    out[app] = r.code === 0 ? r.stdout.trim() : `unreachable (${r.stderr.trim().split('\n').at(-1)})`
  }
  return out
}

// Figure 7: a rolling deploy behind the load balancer on two app servers vs the same deploy on one,
// each under load through the load balancer: the wall time as a ratio, and the failed requests.
// Both clusters are booted and deployed first; the two deploys then run one after the other.
// The load has a fixed rate, the same for both: unbounded, hey takes whatever CPU the deploy leaves
// on this 2-CPU machine, so the longer deploy (more hosts on the same CPUs) is slowed the more and the
// ratio measures the load generator rather than the rollout.
import { sleep, type Bench } from '../lib/bench.ts'
import { appVersions, deployCluster, nextClusterVersion, type Cluster } from '../lib/cluster.ts'
import { round, runSequence, timed } from '../lib/deploy.ts'
import { CLIENTS, HOSTNAME } from '../lib/host.ts'
import { startPageLoads } from '../lib/page-assets.ts'
import { fmt } from '../lib/report.ts'
import { countingSessions } from '../lib/remote.ts'
import { reportLine, taskReport } from '../lib/slowness.ts'
import { startHey } from '../../test/support/load.ts'
import { RELEASE_TAGS } from '../../src/core/plan/parts.ts'

interface Rollout {
  seconds: number
  requests: number
  failed: number
  pages: number
  assets: number
  pageFailures: string[]
  versions: Record<string, string>
  expected: string
  tasks: ReturnType<typeof taskReport>
  /** SSH sessions app1 accepted during the deploy. */
  sessions: number | null
}

/** Requests per second per client: 8 × 12 ≈ 100 requests per second through the load balancer. */
const QPS_PER_CLIENT = 12

/** A code-only change (backend's release, as a push planning it runs) under load through the load balancer. */
async function rollout(ctx: Bench, c: Cluster): Promise<Rollout> {
  const next = nextClusterVersion(ctx, c)
  ctx.log(`figure 7: ${c.label}: backend --tags ${RELEASE_TAGS.join(',')} (app ${next.version}) under ${CLIENTS} clients × ${QPS_PER_CLIENT} req/s`)
  const load = startHey({ url: `http://${c.address}/`, host: HOSTNAME, concurrency: CLIENTS, qps: QPS_PER_CLIENT })
  const pages = startPageLoads(`http://${c.address}`, HOSTNAME)
  await sleep(3000)
  const deploy = await timed(() => countingSessions(c.sh('app1'), () => runSequence(c.lab, ['backend'], {
    inventory: c.inventory, host: 'app1', extraVars: { backend_archive_src: next.dir }, tags: { backend: RELEASE_TAGS },
  })))
  await sleep(3000)
  const hey = await load.stop()
  const loads = await pages.stop()
  const versions = await appVersions(c)
  const r: Rollout = {
    seconds: round(deploy.seconds), requests: hey.requests, failed: hey.failed, pages: loads.pages, assets: loads.assets,
    pageFailures: loads.failures, versions, expected: next.version, tasks: taskReport(deploy.value.value.runs), sessions: deploy.value.sessions,
  }
  ctx.log(`figure 7: ${c.label}: ${r.seconds} s, ${r.failed} of ${r.requests} requests failed, pages + static files ` +
    `${r.pageFailures.length} of ${r.pages + r.assets} failed; the app servers serve ${JSON.stringify(versions)}`)
  return r
}

const served = (r: Rollout) => Object.entries(r.versions).map(([h, v]) => `${h} ${v.includes(r.expected) ? r.expected : `NOT ${r.expected} (${v})`}`).join(', ')

export async function rollingDeploy(ctx: Bench): Promise<void> {
  // Booted and deployed side by side; one failing, the other is torn down before the error goes up.
  const booted = await Promise.allSettled([deployCluster(ctx, 1, 'rolling-1'), deployCluster(ctx, 2, 'rolling-2')])
  const clusters = booted.flatMap((b) => (b.status === 'fulfilled' ? [b.value] : []))
  try {
    const refused = booted.find((b) => b.status === 'rejected')
    if (refused) throw (refused as PromiseRejectedResult).reason
    const [one, two] = [await rollout(ctx, clusters[0]!), await rollout(ctx, clusters[1]!)]
    const failed = one.failed + one.pageFailures.length + two.failed + two.pageFailures.length
    ctx.figures.push({
      id: '7',
      name: 'Rolling deploy behind the load balancer: 2 app servers vs 1',
      unit: 's',
      ours: two.seconds,
      baseline: one.seconds,
      oursText: `${fmt(two.seconds, 's')} (2 app servers, one at a time)`,
      baselineText: `${fmt(one.seconds, 's')} (1 app server)`,
      goal: { kind: 'ratio-max', value: 1.5, text: `ratio ≤ 1.5; failed requests: ${failed} (goal 0)` },
      note: `A code-only change (backend --tags ${RELEASE_TAGS.join(',')}) under ${CLIENTS} clients × ${QPS_PER_CLIENT} req/s through the load balancer ` +
        `(lb1, the app servers, db1 of its own; uploads on the app servers' disks, which no figure reads). ` +
        `2 app servers: ${two.failed} of ${two.requests} requests failed, pages + static files ${two.pageFailures.length} of ${two.pages + two.assets}; ` +
        `served after: ${served(two)}. 1 app server: ${one.failed} of ${one.requests} failed, pages + static files ` +
        `${one.pageFailures.length} of ${one.pages + one.assets}; served after: ${served(one)}. ` +
        `${reportLine('2 app servers (sessions: app1)', two.tasks, two.sessions)}. ${reportLine('1 app server', one.tasks, one.sessions)}. ` +
        `First deploys (four playbooks): ${clusters.map((c) => `${c.label} ${c.firstDeploy.seconds} s`).join(', ')}.`,
      detail: { two, one, firstDeploys: clusters.map((c) => ({ label: c.label, runs: c.firstDeploy.runs.map(({ tasks: _t, ...r }) => r) })) },
    })
  } finally {
    await Promise.all(clusters.map((c) => c.lab.destroy()))
  }
}

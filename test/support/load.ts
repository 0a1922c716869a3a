// Load generation with hey (every status code counted) and wrk (throughput), and their parsers:
// the e2e tests' load during a redeploy, the bench's figures.
import { run } from '../../src/core/exec.ts'

/** What one load run saw. `failed` counts every answer outside 2xx plus every transport error. */
export interface LoadResult {
  tool: 'hey' | 'wrk'
  seconds: number
  requests: number
  ok: number
  failed: number
  /** Status code → count (hey only; wrk reports non-2xx/3xx as one number). */
  statuses: Record<string, number>
  /** Transport errors (connection refused, reset, EOF, timeout), by message. */
  errors: Record<string, number>
  rps: number
  /** The tool's own summary, for a failed assertion's message. */
  report?: string
}

const sum = (xs: Iterable<number>) => [...xs].reduce((a, b) => a + b, 0)

/** Parses hey's summary: "Status code distribution" and "Error distribution" sections. */
export function parseHey(text: string): LoadResult {
  const total = /^\s*Total:\s+([\d.]+) secs/m.exec(text)
  const statuses: Record<string, number> = {}
  const errors: Record<string, number> = {}
  let section: 'status' | 'error' | null = null
  for (const line of text.split('\n')) {
    if (/^Status code distribution:/.test(line)) section = 'status'
    else if (/^Error distribution:/.test(line)) section = 'error'
    else if (/^\S/.test(line)) section = null
    else if (section === 'status') {
      const m = /^\s*\[(\d+)\]\s+(\d+) responses/.exec(line)
      if (m) statuses[m[1]!] = (statuses[m[1]!] ?? 0) + Number(m[2])
    } else if (section === 'error') {
      const m = /^\s*\[(\d+)\]\s+(.*)$/.exec(line)
      if (m) errors[m[2]!.trim()] = (errors[m[2]!.trim()] ?? 0) + Number(m[1])
    }
  }
  if (!total && Object.keys(statuses).length === 0 && Object.keys(errors).length === 0) {
    throw new Error(`hey printed no summary: ${text.slice(0, 400)}`)
  }
  const ok = sum(Object.entries(statuses).filter(([code]) => /^2\d\d$/.test(code)).map(([, n]) => n))
  const answered = sum(Object.values(statuses))
  const errorCount = sum(Object.values(errors))
  const seconds = total ? Number(total[1]) : 0
  const requests = answered + errorCount
  return {
    tool: 'hey', seconds, requests, ok, failed: requests - ok, statuses, errors,
    rps: seconds > 0 ? requests / seconds : 0,
  }
}

/** Parses wrk's summary: answers other than 2xx/3xx ("Non-2xx or 3xx responses") and socket errors
 *  are the failures (wrk does not break answers down by status code). */
export function parseWrk(text: string): LoadResult {
  const req = /^\s*(\d+) requests in ([\d.]+)(us|ms|s|m)/m.exec(text)
  if (!req) throw new Error(`wrk printed no summary: ${text.slice(0, 400)}`)
  const unit = { us: 1e-6, ms: 1e-3, s: 1, m: 60 }[req[3] as 'us' | 'ms' | 's' | 'm']
  const seconds = Number(req[2]) * unit
  const requests = Number(req[1])
  const non2xx = Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(text)?.[1] ?? 0)
  const errors: Record<string, number> = {}
  const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(text)
  if (sock) {
    ;(['connect', 'read', 'write', 'timeout'] as const).forEach((k, i) => {
      const n = Number(sock[i + 1])
      if (n) errors[k] = n
    })
  }
  // wrk's "requests" counts completed responses; socket errors come on top (timeouts excepted:
  // a timed-out request may still complete and be counted).
  const errorCount = (errors.connect ?? 0) + (errors.read ?? 0) + (errors.write ?? 0) + (errors.timeout ?? 0)
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(text)?.[1] ?? requests / seconds)
  return {
    tool: 'wrk', seconds, requests, ok: requests - non2xx, failed: non2xx + errorCount,
    statuses: non2xx ? { 'non-2xx/3xx': non2xx } : {}, errors, rps,
  }
}

export interface LoadTarget {
  url: string
  /** Host header (nginx answers only its server_name). */
  host?: string
  concurrency?: number
  /** Requests per second per client (hey -q; default: as fast as it can). */
  qps?: number
}

/** Load that runs until stopped: start it, do something, then `stop()` for hey's full summary. */
export interface RunningLoad {
  stop(): Promise<LoadResult>
}

/**
 * The e2e deploys' page load: 4 clients at 15 requests per second each (60 a second), a fixed rate: a
 * request about every 17 ms, so a switch that dropped requests for a few tens of milliseconds fails
 * the test. A page costs its app server about 3 ms of gunicorn's CPU, nginx and hey more: at 100 a
 * second over the suite's deploys under load (about 30 minutes of them), that was roughly an eighth
 * of a whole run's CPU, taken from the other files (three at a time on 2 CPUs). Unbounded, hey takes
 * every cycle they leave.
 * The benchmarks' figure 1 measures the switch under unbounded load.
 */
export const PAGE_LOAD = { concurrency: 4, qps: 15 } as const

/** Starts hey with a very long duration; `stop()` sends SIGINT, on which hey lets every worker
 *  finish its request in flight and prints its summary (no request is cut by the stop). */
export function startHey(t: LoadTarget): RunningLoad {
  const args = ['-z', '24h', '-c', String(t.concurrency ?? 8), '-t', '20']
  if (t.qps) args.push('-q', String(t.qps))
  if (t.host) args.push('-host', t.host)
  args.push(t.url)
  const stop = new AbortController()
  const done = run('hey', args, { stop: stop.signal, stopSignal: 'SIGINT' })
  done.catch(() => {}) // no hey: stop() rejects with the reason
  return {
    async stop() {
      stop.abort()
      const r = await done
      const text = r.stdout + r.stderr
      return { ...parseHey(text), report: text }
    },
  }
}

/** hey for a fixed duration. */
export async function heyFor(t: LoadTarget, seconds: number): Promise<LoadResult> {
  const load = startHey(t)
  await new Promise((r) => setTimeout(r, seconds * 1000))
  return load.stop()
}

/** wrk for a fixed duration (lighter on the CPU than hey: better for throughput on 2 cores). */
export async function wrkFor(t: LoadTarget, seconds: number): Promise<LoadResult> {
  const c = t.concurrency ?? 8
  const args = ['-t', String(Math.min(2, c)), '-c', String(c), '-d', `${seconds}s`, '--timeout', '20s']
  if (t.host) args.push('-H', `Host: ${t.host}`)
  args.push(t.url)
  const r = await run('wrk', args)
  return parseWrk(r.stdout + r.stderr)
}

/** The example page's hashed stylesheet (site.<md5>.css), as the page names it. */
export const stylesheetOf = (page: string) => page.match(/href="(\/static\/pages\/site\.[0-9a-f]{12}\.css)"/)?.[1]
/** The example page's version, '?' when it shows none. */
export const versionOf = (page: string) => page.match(/id="version">([^<]*)</)?.[1] ?? '?'

/**
 * Until stopped: the example's home page through `get`, then the stylesheet it names; counts the
 * pages, what failed and the versions seen. A page every `intervalMs` at most (10 a second by
 * default): beside hey's page load (PAGE_LOAD), it checks that each page's stylesheet answers, and
 * unpaced it took 24-38 pages a second out of the CPU the suite's other files need.
 */
export function watchPages(get: (path: string) => Promise<{ status: number; body: string }>, intervalMs = 100) {
  let stopped = false
  const seen = { pages: 0, failed: [] as string[], versions: new Set<string>() }
  const loop = (async () => {
    let next = Date.now()
    while (!stopped) {
      const wait = next - Date.now()
      if (wait > 0) await new Promise((r) => setTimeout(r, wait))
      if (stopped) break
      next = Math.max(next + intervalMs, Date.now())
      try {
        const page = await get('/')
        const css = stylesheetOf(page.body)
        const v = versionOf(page.body)
        seen.pages++
        seen.versions.add(v)
        if (page.status !== 200 || !css) { seen.failed.push(`/ ${page.status} (${v})`); continue }
        const asset = await get(css)
        if (asset.status !== 200) seen.failed.push(`${css} ${asset.status} (page of ${v})`)
      } catch (e) {
        seen.failed.push(String(e))
      }
    }
  })()
  return { async stop() { stopped = true; await loop; return seen } }
}

// A local Python package index (PEP 503 "simple" pages) for the lab: what a server's pip installs
// from when a test takes the roles' default path (a virtualenv without the system's packages). Built
// once per suite from Debian's archive only, cached beside the images, served over HTTP on a lab's
// gateway by Python's http.server.
//   - Upstream source distributions where the archive has them: a source package's .orig.tar.gz is
//     the project's own sdist when it holds a PKG-INFO at its top (python-django's does).
//   - Otherwise wheels re-packed from the suite's installed Debian packages (pyindex-repack.py), run
//     in a tree of that suite so compiled modules match its Python (a trixie index for trixie hosts).
import { spawn, type ChildProcess } from 'node:child_process'
import { createHash } from 'node:crypto'
import { once } from 'node:events'
import { closeSync, copyFileSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { chrootCommand } from './controller.ts'
import { run, runOk } from '../core/exec.ts'
import { sleep } from './wait.ts'
import { tcpOpen } from './host.ts'
import { ensureImageWith } from './image.ts'
import { withLock } from './lock.ts'
import { removeTree } from './mounts.ts'
import { APT_PROXY_PORT, CACHE_DIR } from './paths.ts'

/**
 * Distributions of the index → the Debian packages whose files make their wheel and, where Debian's
 * metadata dropped them, upstream's requirements for that version.
 */
export const INDEX_DISTRIBUTIONS: Readonly<Record<string, { debs: readonly string[]; requires?: readonly string[] }>> = {
  Django: { debs: ['python3-django'] },
  asgiref: { debs: ['python3-asgiref'] },
  sqlparse: { debs: ['python3-sqlparse'] },
  pytz: { debs: ['python3-tz'] },
  gunicorn: { debs: ['python3-gunicorn'], requires: ['setuptools>=3.0'] },
  packaging: { debs: ['python3-packaging'] },
  psycopg2: { debs: ['python3-psycopg2'] },
  // setuptools imports pkg_resources, which Debian ships apart.
  setuptools: { debs: ['python3-setuptools', 'python3-pkg-resources'] },
  wheel: { debs: ['python3-wheel'] },
  // The worker stack: RQ and the Redis client.
  rq: { debs: ['python3-rq'], requires: ['redis>=3.5.0', 'click>=5.0.0'] },
  click: { debs: ['python3-click'] },
  redis: { debs: ['python3-redis'], requires: ['deprecated>=1.2.3', 'packaging>=20.4', 'async-timeout>=4.0.2'] },
  'async-timeout': { debs: ['python3-async-timeout'] },
  deprecated: { debs: ['python3-deprecated'] },
  wrapt: { debs: ['python3-wrapt'] },
}
/** Bump when the recipe changes, so indexes built by an older one are not reused. */
const RECIPE = 3
export const INDEX_PORT = 3141

export interface IndexFile {
  file: string
  name: string
  version: string
  kind: 'sdist' | 'wheel'
  /** The Debian source package it came from. */
  source: string
  sourceVersion: string
}

export interface PackageIndex {
  /** The directory served: simple/<project>/index.html and files/. */
  dir: string
  files: IndexFile[]
}

export const normalize = (name: string) => name.toLowerCase().replace(/[-_.]+/g, '-')

export function indexKey(suite: string): string {
  const id = JSON.stringify({ suite, dists: INDEX_DISTRIBUTIONS, recipe: RECIPE })
  return `${suite}-${createHash('sha256').update(id).digest('hex').slice(0, 12)}`
}

/** The suite's index directory, built first if none is cached (a few minutes, once). */
export async function ensurePackageIndex(suite = 'bookworm'): Promise<PackageIndex> {
  const dir = join(CACHE_DIR, 'pyindex')
  const key = indexKey(suite)
  const final = join(dir, key)
  const load = (): PackageIndex => ({ dir: final, files: JSON.parse(readFileSync(join(final, 'files.json'), 'utf8')) })
  if (existsSync(final)) return load()
  mkdirSync(dir, { recursive: true })
  return withLock(join(dir, `${key}.lock`), async () => {
    if (existsSync(final)) return load()
    for (const f of readdirSync(dir)) if (f.startsWith(`${key}.tmp-`)) removeTree(join(dir, f))
    const tmp = join(dir, `${key}.tmp-${process.pid}`)
    process.stderr.write(`lab: building the ${suite} package index in ${final} (once)\n`)
    try {
      await build(suite, tmp)
    } catch (e) {
      removeTree(tmp)
      throw e
    }
    renameSync(tmp, final)
    return load()
  })
}

async function build(suite: string, out: string): Promise<void> {
  const files = join(out, 'files')
  mkdirSync(files, { recursive: true })
  const debs = [...new Set(Object.values(INDEX_DISTRIBUTIONS).flatMap((d) => d.debs))]
  const tree = await ensureImageWith(suite, debs)
  const script = fileURLToPath(new URL('./pyindex-repack.py', import.meta.url))
  copyFileSync(script, join(out, 'repack.py'))
  const { cmd, args } = chrootCommand(tree, 'python3', [join(out, 'repack.py'), files, JSON.stringify(INDEX_DISTRIBUTIONS)], { paths: [out], scratch: join(out, 'scratch') })
  const r = await runOk(cmd, args, { timeoutMs: 20 * 60_000 })
  const wheels = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { name: string; version: string; file: string; source: string; sourceVersion: string })
  const index: IndexFile[] = []
  const sdists = await fetchSdists(suite, join(out, 'src'), [...new Set(wheels.map((w) => w.source))])
  for (const w of wheels) {
    const sdist = sdists.find((s) => normalize(s.name) === normalize(w.name))
    if (sdist) {
      copyFileSync(sdist.path, join(files, sdist.file))
      rmFile(join(files, w.file))
      index.push({ file: sdist.file, name: sdist.name, version: sdist.version, kind: 'sdist', source: w.source, sourceVersion: sdist.sourceVersion })
    } else {
      index.push({ file: w.file, name: w.name, version: w.version, kind: 'wheel', source: w.source, sourceVersion: w.sourceVersion })
    }
  }
  writeSimplePages(out, index)
  writeFileSync(join(out, 'files.json'), JSON.stringify(index, null, 2) + '\n')
  removeTree(join(out, 'src'))
  removeTree(join(out, 'scratch'))
  rmFile(join(out, 'repack.py'))
}

function rmFile(path: string): void {
  if (existsSync(path)) removeTree(path)
}

/**
 * `apt-get source --download-only` of each source package, with a sources list of our own (the
 * machine's apt setup untouched), through apt-cacher-ng. Keeps the upstream tarballs that are sdists.
 * A tarball the mirror lacks is skipped (that package stays a wheel).
 */
async function fetchSdists(suite: string, dir: string, sources: string[]) {
  const parts = join(dir, 'parts')
  mkdirSync(join(dir, 'lists', 'partial'), { recursive: true })
  mkdirSync(parts, { recursive: true })
  mkdirSync(join(dir, 'dl'), { recursive: true })
  writeFileSync(join(parts, 'src.sources'), [
    'Types: deb-src', 'URIs: http://deb.debian.org/debian', `Suites: ${suite} ${suite}-updates`, 'Components: main', '',
    'Types: deb-src', 'URIs: http://deb.debian.org/debian-security', `Suites: ${suite}-security`, 'Components: main', '',
  ].join('\n'))
  const apt = [
    '-q', '-o', 'Dir::Etc::SourceList=/dev/null', '-o', `Dir::Etc::SourceParts=${parts}`, '-o', `Dir::State::Lists=${join(dir, 'lists')}`,
    '-o', `Acquire::http::Proxy=http://127.0.0.1:${APT_PROXY_PORT}`, '-o', 'APT::Get::Only-Source=true',
  ]
  await runOk('apt-get', [...apt, 'update'], { timeoutMs: 10 * 60_000 })
  const found: { name: string; version: string; file: string; path: string; sourceVersion: string }[] = []
  for (const source of sources) {
    const r = await run('apt-get', [...apt, 'source', '--download-only', source], { cwd: join(dir, 'dl'), timeoutMs: 10 * 60_000 })
    const orig = readdirSync(join(dir, 'dl')).find((f) => f.startsWith(`${source}_`) && /\.orig\.tar\.gz$/.test(f))
    if (!orig) {
      process.stderr.write(`lab: no upstream tarball of ${source} on the mirror (apt-get exited ${r.code}); its wheel is re-packed\n`)
      continue
    }
    const path = join(dir, 'dl', orig)
    const list = await run('tar', ['-tzf', path], { timeoutMs: 120_000 })
    const pkgInfo = list.stdout.split('\n').find((f) => /^[^/]+\/PKG-INFO$/.test(f))
    if (!pkgInfo) continue
    const meta = (await runOk('tar', ['-xzOf', path, pkgInfo])).stdout
    const name = meta.match(/^Name: (.+)$/m)?.[1]?.trim()
    const version = meta.match(/^Version: (.+)$/m)?.[1]?.trim()
    if (!name || !version) continue
    const sourceVersion = orig.slice(source.length + 1).replace(/\.orig\.tar\.gz$/, '')
    found.push({ name, version, file: `${name}-${version}.tar.gz`, path, sourceVersion })
  }
  return found
}

/** PEP 503: /simple/ lists the projects, /simple/<normalized>/ links each file with its sha256. */
export function writeSimplePages(out: string, files: readonly IndexFile[]): void {
  const byProject = new Map<string, IndexFile[]>()
  for (const f of files) byProject.set(normalize(f.name), [...(byProject.get(normalize(f.name)) ?? []), f])
  const page = (title: string, links: string[]) =>
    `<!DOCTYPE html>\n<html><head><title>${title}</title></head><body>\n${links.join('\n')}\n</body></html>\n`
  mkdirSync(join(out, 'simple'), { recursive: true })
  const projects = [...byProject.keys()].sort()
  writeFileSync(join(out, 'simple', 'index.html'), page('Simple index', projects.map((p) => `<a href="${p}/">${p}</a><br>`)))
  for (const p of projects) {
    mkdirSync(join(out, 'simple', p), { recursive: true })
    const links = byProject.get(p)!.map((f) => {
      const sha = createHash('sha256').update(readFileSync(join(out, 'files', f.file))).digest('hex')
      return `<a href="../../files/${f.file}#sha256=${sha}">${f.file}</a><br>`
    })
    writeFileSync(join(out, 'simple', p, 'index.html'), page(`Links for ${p}`, links))
  }
}

export interface RunningIndex {
  /** What pip's --index-url takes, e.g. http://198.18.3.1:3141/simple/ */
  url: string
  index: PackageIndex
  /** The log of the requests it answered (one line per request). */
  log: string
  stop(): Promise<void>
}

/**
 * Serves the suite's index on `gateway` (a lab's: its hosts reach it, nothing else can) with Python's
 * http.server, killed with this process whatever ends it.
 */
export async function servePackageIndex(gateway: string, logDir: string, suite = 'bookworm', port = INDEX_PORT): Promise<RunningIndex> {
  const index = await ensurePackageIndex(suite)
  mkdirSync(logDir, { recursive: true })
  const log = join(logDir, `pyindex-${suite}.log`)
  const fd = openSync(log, 'a')
  const child: ChildProcess = spawn('setpriv', ['--pdeathsig', 'KILL', '--', 'python3', '-m', 'http.server', '--bind', gateway,
    '--directory', index.dir, String(port)], { stdio: ['ignore', fd, fd] })
  closeSync(fd)
  const kill = () => child.kill('SIGKILL')
  process.on('exit', kill)
  for (let i = 0; !(await tcpOpen(gateway, port)); i++) {
    if (child.exitCode !== null || i > 100) {
      kill()
      throw new Error(`lab: the package index does not answer on ${gateway}:${port}: ${readFileSync(log, 'utf8').slice(-1000)}`)
    }
    await sleep(100)
  }
  return {
    url: `http://${gateway}:${port}/simple/`,
    index,
    log,
    async stop() {
      process.off('exit', kill)
      if (child.exitCode !== null || child.signalCode !== null) return
      const exited = once(child, 'exit')
      child.kill('SIGTERM')
      await exited
    },
  }
}

// A local Python package index (PEP 503 "simple" pages) for the lab: what a server's pip installs
// from when a test takes the roles' default path (a virtualenv without the system's packages). Built
// once per suite from Debian's archive only, cached beside the images, served over HTTP on a lab's
// gateway by Python's http.server.
//   - Upstream source distributions where the archive has them: a source package's .orig.tar.gz is
//     the project's own sdist when it holds a PKG-INFO at its top (python-django's does). Kept only
//     where pip can build it from this index: its build needs setuptools and wheel at most (held
//     here as wheels; trixie's packaging is built by flit_core, which is not), and it is not one of
//     those two (the build tools stay wheels, so no build waits on building them first).
//   - Otherwise wheels re-packed from the suite's installed Debian packages (pyindex-repack.py), run
//     in a tree of that suite so compiled modules match its Python (a trixie index for trixie hosts).
// Two indexes: the apps' (what a server's pip installs) and Ansible's (what the action's pip installs
// on the runner, wheels only, as PyPI serves them).
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
export type IndexDistributions = Readonly<Record<string, { debs: readonly string[]; requires?: readonly string[] }>>

export const INDEX_DISTRIBUTIONS: IndexDistributions = {
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
/**
 * ansible-core and what it needs, for the action's install of Ansible (`ansible-version: 2.14` on a
 * Debian 12 runner: bookworm's ansible-core 2.14), and passlib, installed beside every version.
 * Debian's metadata dropped cryptography's cffi and Jinja2's MarkupSafe; cffi's C part is a package
 * of its own in Debian (python3-cffi-backend) and cryptography's compiled modules import it.
 */
export const ANSIBLE_DISTRIBUTIONS: IndexDistributions = {
  'ansible-core': { debs: ['ansible-core'] },
  Jinja2: { debs: ['python3-jinja2'], requires: ['MarkupSafe>=2.0'] },
  MarkupSafe: { debs: ['python3-markupsafe'] },
  PyYAML: { debs: ['python3-yaml'] },
  cryptography: { debs: ['python3-cryptography'], requires: ['cffi>=1.12'] },
  cffi: { debs: ['python3-cffi', 'python3-cffi-backend'], requires: ['pycparser'] },
  pycparser: { debs: ['python3-pycparser'] },
  packaging: { debs: ['python3-packaging'] },
  resolvelib: { debs: ['python3-resolvelib'] },
  passlib: { debs: ['python3-passlib'] },
}

/** What an index holds. */
export interface IndexContents {
  /** Names the index's log. */
  name: string
  dists: IndexDistributions
  /** An upstream sdist, where the archive has one, replaces the re-packed wheel. */
  sdists: boolean
}
/** The apps' index: what a server's pip installs (Django from its sdist, built on the server). */
export const APP_INDEX: IndexContents = { name: 'app', dists: INDEX_DISTRIBUTIONS, sdists: true }
/**
 * Ansible's index, for the runner: wheels only, as PyPI serves these projects (the sdists would need
 * Rust for cryptography, Cython for PyYAML, and ansible-core's carries upstream's resolvelib<0.9).
 */
export const ANSIBLE_INDEX: IndexContents = { name: 'ansible', dists: ANSIBLE_DISTRIBUTIONS, sdists: false }

/** Bump when the recipe changes, so indexes built by an older one are not reused. */
const RECIPE = 4
/** What the index's sdists may need to build (pip's default for an sdist without pyproject.toml). */
const BUILD_TOOLS = ['setuptools', 'wheel']
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

export function indexKey(suite: string, contents: IndexContents = APP_INDEX): string {
  const { dists, sdists } = contents
  const id = JSON.stringify({ suite, dists, sdists, recipe: RECIPE })
  return `${suite}-${createHash('sha256').update(id).digest('hex').slice(0, 12)}`
}

/** The suite's index directory, built first if none is cached (a few minutes, once). */
export async function ensurePackageIndex(suite = 'bookworm', contents: IndexContents = APP_INDEX): Promise<PackageIndex> {
  const dir = join(CACHE_DIR, 'pyindex')
  const key = indexKey(suite, contents)
  const final = join(dir, key)
  const load = (): PackageIndex => ({ dir: final, files: JSON.parse(readFileSync(join(final, 'files.json'), 'utf8')) })
  if (existsSync(final)) return load()
  mkdirSync(dir, { recursive: true })
  return withLock(join(dir, `${key}.lock`), async () => {
    if (existsSync(final)) return load()
    for (const f of readdirSync(dir)) if (f.startsWith(`${key}.tmp-`)) removeTree(join(dir, f))
    const tmp = join(dir, `${key}.tmp-${process.pid}`)
    process.stderr.write(`lab: building the ${suite} ${contents.name} package index in ${final} (once)\n`)
    try {
      await build(suite, contents, tmp)
    } catch (e) {
      removeTree(tmp)
      throw e
    }
    renameSync(tmp, final)
    return load()
  })
}

async function build(suite: string, contents: IndexContents, out: string): Promise<void> {
  const files = join(out, 'files')
  mkdirSync(files, { recursive: true })
  const debs = [...new Set(Object.values(contents.dists).flatMap((d) => d.debs))]
  const tree = await ensureImageWith(suite, debs)
  const script = fileURLToPath(new URL('./pyindex-repack.py', import.meta.url))
  copyFileSync(script, join(out, 'repack.py'))
  const { cmd, args } = chrootCommand(tree, 'python3', [join(out, 'repack.py'), files, JSON.stringify(contents.dists)], { paths: [out], scratch: join(out, 'scratch') })
  const r = await runOk(cmd, args, { timeoutMs: 20 * 60_000 })
  const wheels = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { name: string; version: string; file: string; source: string; sourceVersion: string })
  const index: IndexFile[] = []
  const sdists = contents.sdists ? await fetchSdists(suite, join(out, 'src'), [...new Set(wheels.map((w) => w.source))]) : []
  for (const w of wheels) {
    const sdist = sdists.find((s) => normalize(s.name) === normalize(w.name))
    if (sdist && buildableHere(sdist)) {
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

/** pip can build it from the index: it needs nothing but the build tools, and is not one of them. */
function buildableHere(sdist: { name: string; buildRequires: string[] }): boolean {
  const tool = (n: string) => BUILD_TOOLS.includes(normalize(n))
  if (tool(sdist.name)) return false
  const unbuildable = sdist.buildRequires.map((r) => /^[A-Za-z0-9._-]+/.exec(r)?.[0] ?? r).filter((n) => !tool(n))
  if (unbuildable.length > 0) process.stderr.write(`lab: ${sdist.name}'s sdist builds with ${unbuildable.join(', ')}, not in the index; its wheel is re-packed\n`)
  return unbuildable.length === 0
}

/** [build-system] requires of an sdist's pyproject.toml (tomllib), pip's default without one. */
async function buildRequires(tarball: string, listing: string[]): Promise<string[]> {
  const pyproject = listing.find((f) => /^[^/]+\/pyproject\.toml$/.test(f))
  const fallback = ['setuptools>=40.8.0', 'wheel']
  if (!pyproject) return fallback
  const toml = (await runOk('tar', ['-xzOf', tarball, pyproject])).stdout
  const read = 'import json, sys, tomllib; print(json.dumps(tomllib.loads(sys.stdin.read()).get("build-system", {}).get("requires")))'
  const requires = JSON.parse((await runOk('python3', ['-c', read], { input: toml })).stdout) as string[] | null
  return requires ?? fallback
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
  const found: { name: string; version: string; file: string; path: string; sourceVersion: string; buildRequires: string[] }[] = []
  for (const source of sources) {
    const r = await run('apt-get', [...apt, 'source', '--download-only', source], { cwd: join(dir, 'dl'), timeoutMs: 10 * 60_000 })
    const orig = readdirSync(join(dir, 'dl')).find((f) => f.startsWith(`${source}_`) && /\.orig\.tar\.gz$/.test(f))
    if (!orig) {
      process.stderr.write(`lab: no upstream tarball of ${source} on the mirror (apt-get exited ${r.code}); its wheel is re-packed\n`)
      continue
    }
    const path = join(dir, 'dl', orig)
    const listing = (await run('tar', ['-tzf', path], { timeoutMs: 120_000 })).stdout.split('\n')
    const pkgInfo = listing.find((f) => /^[^/]+\/PKG-INFO$/.test(f))
    if (!pkgInfo) continue
    const meta = (await runOk('tar', ['-xzOf', path, pkgInfo])).stdout
    const name = meta.match(/^Name: (.+)$/m)?.[1]?.trim()
    const version = meta.match(/^Version: (.+)$/m)?.[1]?.trim()
    if (!name || !version) continue
    const sourceVersion = orig.slice(source.length + 1).replace(/\.orig\.tar\.gz$/, '')
    found.push({ name, version, file: `${name}-${version}.tar.gz`, path, sourceVersion, buildRequires: await buildRequires(path, listing) })
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
 * Serves the suite's index on `gateway` (a lab's: its hosts and this machine reach it, nothing else
 * can) with Python's http.server, killed with this process whatever ends it.
 */
export async function servePackageIndex(gateway: string, logDir: string, suite = 'bookworm', opts: { port?: number; contents?: IndexContents } = {}): Promise<RunningIndex> {
  const { port = INDEX_PORT, contents = APP_INDEX } = opts
  const index = await ensurePackageIndex(suite, contents)
  mkdirSync(logDir, { recursive: true })
  const log = join(logDir, `pyindex-${contents.name}-${suite}.log`)
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

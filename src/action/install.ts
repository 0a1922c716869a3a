// Ansible for the run: the ansible-playbook on PATH (`system`), or a version installed with pip
// into a virtualenv on a compatible Python, cached with @actions/cache. The decisions (what to
// install, on which Python, under which cache key) are pure functions; the rest is I/O.
import * as cache from '@actions/cache'
import * as core from '@actions/core'
import { createHash } from 'node:crypto'
import { existsSync, readdirSync, realpathSync } from 'node:fs'
import { homedir } from 'node:os'
import { join } from 'node:path'
import { run } from '../core/exec.ts'

export type PyVersion = [number, number, number]

export type AnsibleSpec =
  | { kind: 'system' }
  | {
      kind: 'pip'
      /** For messages: "ansible 2.9.27", "ansible-core 2.16.3". */
      label: string
      /** pip requirement strings, pins included. */
      packages: string[]
      /** Highest Python minor this version runs on. */
      maxPython?: [number, number]
      minPython?: [number, number]
    }

/**
 * Exact pins for Ansible 2.9, the versions it was tested with here (2.9.27 on Python 3.11, the four
 * playbooks and a rerun): Jinja2 3.1 and MarkupSafe 2.1 removed what it imports, and the roles use
 * tests Jinja2 2.10 brought.
 */
export const ANSIBLE_29_PINS = ['jinja2==2.11.3', 'markupsafe==1.1.1']
/** ansible-base 2.10 and ansible-core 2.11: the same limits, as ranges (their own pins differ). */
export const ANSIBLE_210_PINS = ['jinja2>=2.10,<3.1', 'markupsafe<2.1']
export const DEFAULT_ANSIBLE_VERSION = '2.9'
const LATEST_29 = '2.9.27'
/** The first 2.9 that resolves ansible.builtin.* names for include, import and set_fact, as the roles write them. */
const FIRST_29 = 16

const EXPECTED = 'expected system, 2.9, a version like 2.16.3, or a requirement like ansible-core==2.16.3 or ansible==9.1.0'

function legacy(pkg: string, version: string, pins = ANSIBLE_210_PINS): AnsibleSpec {
  // ansible 2.9 / ansible-base 2.10 / ansible-core 2.11: Python 3.12 removed modules they import.
  return { kind: 'pip', label: `${pkg} ${version}`, packages: [`${pkg}==${version}`, ...pins], maxPython: [3, 11] }
}

/**
 * Installed beside every version: the roles hash the admins' sudo password with password_hash,
 * which needs passlib where Python has no crypt module (3.13 and later), and otherwise warns on
 * current ansible-core; passlib and crypt give the same hash.
 */
export const PASSLIB = 'passlib==1.7.4'

/** Parses the `ansible-version` input. Throws quoting the value and the accepted forms. */
export function parseAnsibleSpec(raw: string): AnsibleSpec {
  const spec = parseVersion(raw)
  return spec.kind === 'pip' ? { ...spec, packages: [...spec.packages, PASSLIB] } : spec
}

function parseVersion(raw: string): AnsibleSpec {
  const v = raw.trim() || DEFAULT_ANSIBLE_VERSION
  if (v === 'system') return { kind: 'system' }
  let m = /^(?:ansible==)?2\.9(?:\.(\d+))?$/.exec(v)
  if (m) {
    if (m[1] && Number(m[1]) < FIRST_29) {
      throw new Error(`ansible-version "${v}": the roles need Ansible 2.9.${FIRST_29} or later (earlier 2.9 releases cannot resolve ansible.builtin.* include, import and set_fact); use 2.9 (${LATEST_29}) or a later version`)
    }
    return legacy('ansible', m[1] ? `2.9.${Number(m[1])}` : LATEST_29, ANSIBLE_29_PINS)
  }
  m = /^(?:ansible-base==)?2\.10(\.\d+)?$/.exec(v)
  if (m) return legacy('ansible-base', m[1] ? `2.10${m[1]}` : '2.10.*')
  m = /^(?:ansible-core==)?2\.(\d{2})(\.\d+)?$/.exec(v)
  if (m) {
    const minor = Number(m[1])
    const version = `2.${minor}${m[2] ?? '.*'}`
    if (minor === 11) return legacy('ansible-core', version)
    return { kind: 'pip', label: `ansible-core ${version}`, packages: [`ansible-core==${version}`] }
  }
  m = /^(?:ansible==)?([3-9]|1\d)(\.\d+){0,2}$/.exec(v)
  if (m) {
    const version = /^ansible==/.test(v) ? v.slice('ansible=='.length) : v
    const full = version.split('.').length === 3 ? version : `${version}.*`
    // ansible 3 and 4 bundle ansible-base 2.10 / ansible-core 2.11.
    const old = Number(m[1]) <= 4
    return { kind: 'pip', label: `ansible ${full}`, packages: [`ansible==${full}`, ...(old ? ANSIBLE_210_PINS : [])], ...(old ? { maxPython: [3, 11] as [number, number] } : {}) }
  }
  if (/^(ansible|ansible-core|ansible-base)\s*(==|>=|<=|~=|<|>)\s*[\w.*]+(\s*,\s*(==|>=|<=|~=|<|>|!=)\s*[\w.*]+)*$/.test(v)) {
    return { kind: 'pip', label: v, packages: [v.replace(/\s+/g, '')] }
  }
  throw new Error(`"${v}" is not an Ansible version (${EXPECTED})`)
}

export interface PythonCandidate {
  path: string
  version: PyVersion
}

const cmp = (a: PyVersion, b: PyVersion) => a[0] - b[0] || a[1] - b[1] || a[2] - b[2]
const fits = (v: PyVersion, spec: Extract<AnsibleSpec, { kind: 'pip' }>) =>
  (!spec.maxPython || v[0] < spec.maxPython[0] || (v[0] === spec.maxPython[0] && v[1] <= spec.maxPython[1])) &&
  (!spec.minPython || v[0] > spec.minPython[0] || (v[0] === spec.minPython[0] && v[1] >= spec.minPython[1]))

/** The newest Python the version runs on; undefined when none fits. */
export function choosePython(candidates: PythonCandidate[], spec: Extract<AnsibleSpec, { kind: 'pip' }>): PythonCandidate | undefined {
  return candidates.filter((c) => c.version[0] === 3 && fits(c.version, spec)).sort((a, b) => cmp(b.version, a.version))[0]
}

export const pyString = (v: PyVersion) => v.join('.')

/** The error when no Python fits: what was looked for, what was found, what to add. */
export function noPythonMessage(candidates: PythonCandidate[], spec: Extract<AnsibleSpec, { kind: 'pip' }>): string {
  const found = candidates.length > 0 ? candidates.map((c) => `${pyString(c.version)} (${c.path})`).join(', ') : 'none'
  const want = spec.maxPython ? `Python 3.8 to ${spec.maxPython.join('.')}` : 'Python 3'
  const version = spec.maxPython ? spec.maxPython.join('.') : '3.12'
  return `${spec.label} needs ${want}; found: ${found} (in the tool cache and on PATH). ` +
    `Add before this step: - uses: actions/setup-python@v5 with: python-version: "${version}" (or set ansible-version to a current version such as 2.16)`
}

/** `django-deploy-ansible-v1-linux-x64-py3.11.9-<hash of the requirements>`. */
export function cacheKey(platform: string, arch: string, python: PyVersion, spec: Extract<AnsibleSpec, { kind: 'pip' }>): string {
  const hash = createHash('sha256').update(spec.packages.join('\n')).digest('hex').slice(0, 16)
  return `django-deploy-ansible-v1-${platform}-${arch}-py${pyString(python)}-${hash}`
}

/** Where the virtualenv lives: a stable path (a venv cannot move), keyed like the cache. */
export function venvDir(home: string, key: string): string {
  return join(home, '.cache', 'django-deploy', key)
}

/** Executables to probe, best first: the tool cache's Pythons (setup-python's), then PATH names. */
export function pythonProbeList(toolCacheVersions: { version: string; bin: string }[]): string[] {
  const names = toolCacheVersions.map((t) => t.bin)
  for (let minor = 13; minor >= 8; minor--) names.push(`python3.${minor}`)
  names.push('python3')
  return names
}

// ---- I/O ----

function toolCachePythons(): { version: string; bin: string }[] {
  const root = process.env.RUNNER_TOOL_CACHE ? join(process.env.RUNNER_TOOL_CACHE, 'Python') : ''
  if (!root || !existsSync(root)) return []
  const arch = process.arch === 'arm64' ? 'arm64' : 'x64'
  const out: { version: string; bin: string }[] = []
  for (const v of readdirSync(root)) {
    const bin = join(root, v, arch, 'bin', 'python3')
    if (/^3\.\d+\.\d+$/.test(v) && existsSync(bin)) out.push({ version: v, bin })
  }
  return out
}

async function probe(bin: string): Promise<PythonCandidate | undefined> {
  try {
    const r = await run(bin, ['-c', 'import sys; print("%d.%d.%d" % sys.version_info[:3])'])
    const m = /^(\d+)\.(\d+)\.(\d+)$/.exec(r.stdout.trim())
    if (r.code !== 0 || !m) return undefined
    return { path: bin, version: [Number(m[1]), Number(m[2]), Number(m[3])] }
  } catch {
    return undefined // not on PATH
  }
}

export async function findPythons(): Promise<PythonCandidate[]> {
  const seen = new Set<string>()
  const out: PythonCandidate[] = []
  for (const bin of pythonProbeList(toolCachePythons())) {
    const c = await probe(bin)
    if (!c) continue
    let real = c.path
    try {
      real = realpathSync(c.path)
    } catch {
      /* a name on PATH: keep it */
    }
    if (seen.has(real)) continue
    seen.add(real)
    out.push(c)
  }
  return out
}

export interface InstalledAnsible {
  ansiblePlaybook: string
  version: string
}

async function ansibleVersion(bin: string): Promise<string | undefined> {
  try {
    const r = await run(bin, ['--version'])
    return r.code === 0 ? r.stdout.split('\n')[0]!.trim() : undefined
  } catch {
    return undefined
  }
}

/** Installs (or finds, or restores from the cache) the requested Ansible. Throws one clear line. */
export async function installAnsible(spec: AnsibleSpec): Promise<InstalledAnsible> {
  if (spec.kind === 'system') {
    const version = await ansibleVersion('ansible-playbook')
    if (!version) throw new Error('ansible-version "system": no working ansible-playbook on PATH (install Ansible in an earlier step, or set ansible-version to 2.9 or 2.16)')
    core.info(`Using ${version} from PATH`)
    return { ansiblePlaybook: 'ansible-playbook', version }
  }
  const pythons = await findPythons()
  const python = choosePython(pythons, spec)
  if (!python) throw new Error(noPythonMessage(pythons, spec))
  const key = cacheKey(process.platform, process.arch, python.version, spec)
  const dir = venvDir(homedir(), key)
  const bin = join(dir, 'bin', 'ansible-playbook')
  core.info(`${spec.label} on Python ${pyString(python.version)} (${python.path}), virtualenv ${dir}`)

  let hit = false
  if (cache.isFeatureAvailable()) {
    try {
      hit = (await cache.restoreCache([dir], key)) === key
    } catch (e) {
      core.warning(`Ansible cache not restored: ${(e as Error).message}`)
    }
  }
  let version = hit ? await ansibleVersion(bin) : undefined
  if (version) {
    core.info(`Restored from the cache (${key}): ${version}`)
    return { ansiblePlaybook: bin, version }
  }
  // Shown in the log as it goes, as the runner shows a command.
  const step = async (cmd: string, args: string[]) => {
    core.info(`[command]${cmd} ${args.join(' ')}`)
    const r = await run(cmd, args, { onOutput: (b) => process.stdout.write(b) }).catch((e: Error) => ({ code: 127, stdout: '', stderr: e.message }))
    if (r.code !== 0) throw new Error(`installing ${spec.label} failed: ${cmd} ${args.join(' ')} exited with ${r.code}: ${r.stderr.trim().split('\n').pop() ?? ''}`)
  }
  await step(python.path, ['-m', 'venv', '--clear', dir])
  await step(join(dir, 'bin', 'python'), ['-m', 'pip', 'install', '--disable-pip-version-check', '--no-input', '--quiet', ...spec.packages])
  version = await ansibleVersion(bin)
  if (!version) throw new Error(`installing ${spec.label} failed: ${bin} --version does not run`)
  core.info(`Installed ${version}`)
  // Saved right away, once the install is proven to work: a later failing playbook must not
  // cost the next run its cache. Cache errors are warnings.
  if (cache.isFeatureAvailable()) {
    try {
      await cache.saveCache([dir], key)
    } catch (e) {
      core.warning(`Ansible cache not saved: ${(e as Error).message}`)
    }
  }
  return { ansiblePlaybook: bin, version }
}

// The seed's way of putting new code live: `supervisorctl restart` of the gunicorn program.
import type { Remote } from './remote.ts'

export interface Program {
  name: string
  pid: number
  cmdline: string
}

/** Supervisor programs that are RUNNING, with their command lines. */
export async function runningPrograms(sh: Remote): Promise<Program[]> {
  const st = await sh('supervisorctl status || true')
  const out: Program[] = []
  for (const line of st.stdout.split('\n')) {
    const m = /^(\S+)\s+RUNNING\s+pid (\d+)/.exec(line)
    if (!m) continue
    const cmd = await sh(`tr '\\0' ' ' < /proc/${m[2]}/cmdline`)
    out.push({ name: m[1]!, pid: Number(m[2]), cmdline: cmd.stdout.trim() })
  }
  return out
}

/** The supervisor program serving live traffic: the gunicorn whose bind address the backend wrote
 *  into nginx-upstream.conf (with blue/green there are two programs, only one of them live). */
export async function liveProgram(sh: Remote, projectDir: string): Promise<Program> {
  const upstream = (await sh(`cat ${projectDir}/nginx-upstream.conf`)).stdout
  const binds = [...upstream.matchAll(/server\s+(?:unix:)?([^\s;]+)/g)].map((m) => m[1]!)
  const programs = (await runningPrograms(sh)).filter((p) => /gunicorn/.test(p.cmdline))
  const live = programs.find((p) => binds.some((b) => p.cmdline.includes(b)))
  if (live) return live
  // The bind may come from a config file: ask the kernel which process listens there.
  const ss = (await sh('ss -xlpn; ss -tlpn')).stdout.split('\n')
  for (const b of binds) {
    const line = ss.find((l) => l.includes(` ${b} `) || l.includes(`${b}:`) || l.endsWith(b))
    const pids = [...(line ?? '').matchAll(/pid=(\d+)/g)].map((m) => Number(m[1]))
    const owner = programs.find((p) => pids.includes(p.pid))
    if (owner) return owner
  }
  if (programs.length === 1) return programs[0]!
  throw new Error(`no running gunicorn program binds ${binds.join(', ') || '(no upstream)'}: ` +
    programs.map((p) => `${p.name}: ${p.cmdline}`).join('; '))
}

/** Number of gunicorn worker processes under a master. */
export async function workerCount(sh: Remote, masterPid: number): Promise<number> {
  const r = await sh(`ps --ppid ${masterPid} --no-headers -o pid | wc -l`)
  return Number(r.stdout.trim())
}

/** The seed's deploy step: restart the program (all workers stop, then start). */
export async function seedRestart(sh: Remote, program: string): Promise<string> {
  const r = await sh(`supervisorctl restart ${program}`)
  if (r.code !== 0) throw new Error(`supervisorctl restart ${program}: ${r.stdout}${r.stderr}`)
  return r.stdout.trim()
}

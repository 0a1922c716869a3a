// Running programs: argument arrays only (never a shell string), output captured as text and
// optionally streamed, environments built one way. The one process helper of the action, the CLI
// and the lab.
import { spawn, spawnSync } from 'node:child_process'

export interface ExecResult {
  code: number
  stdout: string
  stderr: string
  /** The deadline (timeoutMs) passed and the program was killed. */
  timedOut?: boolean
}

/**
 * A child's environment: this process's, never the action's inputs (INPUT_VAULT-KEY,
 * INPUT_SSH-PRIVATE-KEY…: the program and all it starts would inherit them), `extra` on top.
 */
export function childEnv(extra: Record<string, string> = {}, base: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const env: Record<string, string> = {}
  for (const [k, v] of Object.entries(base)) if (v !== undefined && !k.startsWith('INPUT_')) env[k] = v
  return Object.assign(env, extra)
}

export interface ExecOptions {
  input?: string
  env?: NodeJS.ProcessEnv
  cwd?: string
  /** Deadline: the program is killed (SIGKILL) and the result says timedOut. */
  timeoutMs?: number
  /**
   * Runs the program in its own process group and kills the whole group at the deadline: what it
   * started (ssh connections under ansible) goes too, instead of holding the pipes open.
   */
  killGroup?: boolean
  /** Receives stdout and stderr as they come (ansible-playbook's live log). */
  onOutput?(chunk: Buffer): void
  /**
   * Receives stdout line by line instead of keeping it (the result's stdout stays empty): output
   * that may never end (`logs --follow`).
   */
  onStdoutLine?(line: string): void
  /** The program shares this process's terminal (stdin, stdout, stderr; nothing captured): `manage -- shell`. */
  terminal?: boolean
  /** Stops the program when aborted, with `stopSignal` (default SIGTERM); run() still resolves. */
  stop?: AbortSignal
  stopSignal?: NodeJS.Signals
  /** After `stop`: SIGKILL when the program still runs this many ms later (a cancelled GitHub job: SIGTERM, then SIGKILL). */
  stopGraceMs?: number
}

/**
 * Runs a command to completion; never throws for a non-zero exit (the caller decides). Rejects
 * when the program cannot be started (ENOENT…), with Node's error (its `code` says why).
 */
export function run(cmd: string, args: readonly string[], opts: ExecOptions = {}): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      cwd: opts.cwd,
      env: opts.env ?? childEnv(),
      stdio: opts.terminal ? 'inherit' : [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
      detached: opts.killGroup ?? false,
    })
    const out: Buffer[] = []
    const err: Buffer[] = []
    let partial = ''
    child.stdout?.on('data', (b: Buffer) => {
      opts.onOutput?.(b)
      if (!opts.onStdoutLine) return void out.push(b)
      const lines = (partial + b.toString('utf8')).split('\n')
      partial = lines.pop()!
      for (const line of lines) opts.onStdoutLine(line)
    })
    child.stderr?.on('data', (b: Buffer) => {
      err.push(b)
      opts.onOutput?.(b)
    })
    let timedOut = false
    const kill = (signal: NodeJS.Signals) => {
      if (opts.killGroup && child.pid) {
        try {
          process.kill(-child.pid, signal)
          return
        } catch {
          // The group is gone already: the child alone, below.
        }
      }
      child.kill(signal)
    }
    const timer = opts.timeoutMs
      ? setTimeout(() => {
        timedOut = true
        kill('SIGKILL')
      }, opts.timeoutMs)
      : undefined
    let grace: NodeJS.Timeout | undefined
    opts.stop?.addEventListener('abort', () => {
      kill(opts.stopSignal ?? 'SIGTERM')
      if (opts.stopGraceMs !== undefined) grace = setTimeout(() => kill('SIGKILL'), opts.stopGraceMs)
    }, { once: true })
    child.on('error', (e) => {
      if (timer) clearTimeout(timer)
      if (grace) clearTimeout(grace)
      reject(e)
    })
    child.on('close', (code, signal) => {
      if (timer) clearTimeout(timer)
      if (grace) clearTimeout(grace)
      if (partial) opts.onStdoutLine?.(partial)
      resolve({
        code: code ?? (signal ? 128 + 9 : 1),
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
        ...(timedOut ? { timedOut } : {}),
      })
    })
    if (opts.input !== undefined && !opts.terminal) child.stdin!.end(opts.input)
  })
}

/** Like run(), but a non-zero exit is an error that names the command and quotes its stderr. */
export async function runOk(cmd: string, args: readonly string[], opts: ExecOptions = {}): Promise<ExecResult> {
  const r = await run(cmd, args, opts)
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.code}: ${lastLine(r.stderr || r.stdout)}`)
  return r
}

/**
 * Synchronous variant (teardown paths inside process 'exit' handlers, quick local checks).
 * A program that cannot be started gives code 127, as a shell would.
 */
export function runSync(cmd: string, args: readonly string[], opts: { cwd?: string } = {}): ExecResult {
  const r = spawnSync(cmd, args, { cwd: opts.cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
  if (r.error) return { code: 127, stdout: '', stderr: r.error.message }
  return { code: r.status ?? 1, stdout: r.stdout ?? '', stderr: r.stderr ?? '' }
}

export function lastLine(text: string): string {
  const lines = text.trim().split('\n')
  return lines[lines.length - 1] ?? ''
}

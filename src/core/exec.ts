// Running programs: argument arrays only (never a shell string), output captured as text and
// optionally streamed. The one process helper of the action, the CLI and the lab.
import { spawn, spawnSync } from 'node:child_process'

export interface ExecResult {
  code: number
  stdout: string
  stderr: string
}

export interface ExecOptions {
  input?: string
  env?: NodeJS.ProcessEnv
  cwd?: string
  timeoutMs?: number
  /** Receives stdout and stderr as they come (ansible-playbook's live log). */
  onOutput?(chunk: Buffer): void
  /** Stops the program when aborted, with `stopSignal` (default SIGTERM); run() still resolves. */
  stop?: AbortSignal
  stopSignal?: NodeJS.Signals
}

/**
 * Runs a command to completion; never throws for a non-zero exit (the caller decides). Rejects
 * when the program cannot be started (ENOENT…), with Node's error (its `code` says why).
 */
export function run(cmd: string, args: readonly string[], opts: ExecOptions = {}): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      cwd: opts.cwd,
      env: opts.env ?? process.env,
      stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    })
    const out: Buffer[] = []
    const err: Buffer[] = []
    child.stdout!.on('data', (b: Buffer) => {
      out.push(b)
      opts.onOutput?.(b)
    })
    child.stderr!.on('data', (b: Buffer) => {
      err.push(b)
      opts.onOutput?.(b)
    })
    const timer = opts.timeoutMs ? setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs) : undefined
    opts.stop?.addEventListener('abort', () => child.kill(opts.stopSignal ?? 'SIGTERM'), { once: true })
    child.on('error', (e) => {
      if (timer) clearTimeout(timer)
      reject(e)
    })
    child.on('close', (code, signal) => {
      if (timer) clearTimeout(timer)
      resolve({
        code: code ?? (signal ? 128 + 9 : 1),
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
      })
    })
    if (opts.input !== undefined) child.stdin!.end(opts.input)
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

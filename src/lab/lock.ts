// An exclusive lock held by the kernel (flock(1)), released when the holder dies, however it dies.
// Node has no flock(2); a `flock FILE cat` child holds it while its stdin is open, so closing
// stdin (or our death closing it) releases it.
import { spawn } from 'node:child_process'
import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'

export async function withLock<T>(file: string, fn: () => Promise<T>): Promise<T> {
  mkdirSync(dirname(file), { recursive: true })
  const child = spawn('flock', ['--exclusive', file, 'sh', '-c', 'echo locked; exec cat >/dev/null'], {
    stdio: ['pipe', 'pipe', 'inherit'],
  })
  try {
    await new Promise<void>((resolve, reject) => {
      child.once('error', reject)
      child.once('exit', (code) => reject(new Error(`flock ${file} exited ${code} before locking`)))
      child.stdout!.once('data', () => resolve())
    })
    return await fn()
  } finally {
    child.stdin!.end()
    child.removeAllListeners('exit')
    if (child.exitCode === null) await new Promise((r) => child.once('exit', r))
  }
}

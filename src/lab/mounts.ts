// Mount bookkeeping: nothing is deleted while something is still mounted beneath it.
import { readFileSync, rmSync } from 'node:fs'
import { runSync } from '../core/exec.ts'
import { sleepSync } from './wait.ts'

/** Mount points at or below `dir`, deepest first. */
export function mountsUnder(dir: string): string[] {
  const root = dir.replace(/\/+$/, '')
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((line) => line.split(' ')[4])
    .filter((m): m is string => !!m)
    .map((m) => m.replace(/\\(\d{3})/g, (_, oct: string) => String.fromCharCode(parseInt(oct, 8))))
    .filter((m) => m === root || m.startsWith(root + '/'))
    .sort((a, b) => b.length - a.length)
}

/** Unmounts everything below `dir`; a busy mount gets a few retries, then a lazy unmount. */
export function umountUnder(dir: string): void {
  for (const m of mountsUnder(dir)) {
    let ok = false
    for (let i = 0; i < 5 && !ok; i++) {
      ok = runSync('umount', [m]).code === 0 || !mountsUnder(m).includes(m)
      if (!ok) sleepSync(100)
    }
    if (!ok) runSync('umount', ['--lazy', m])
  }
}

/** rm -rf that refuses to descend into mounts (it would delete the lower image's view otherwise). */
export function removeTree(dir: string): void {
  umountUnder(dir)
  const left = mountsUnder(dir)
  if (left.length > 0) throw new Error(`refusing to delete ${dir}: still mounted: ${left.join(', ')}`)
  rmSync(dir, { recursive: true, force: true })
}

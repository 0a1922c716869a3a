// The lab's process helpers: core's (src/core/exec.ts) and the waits teardown needs.
export { childEnv, lastLine, run, runOk, runSync, type ExecOptions, type ExecResult } from '../core/exec.ts'

/** Blocks the thread (teardown only: it must work where the event loop no longer runs). */
export function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms)
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms))

// The lab's waits: a blocking one for teardown, an async one for polling.

/** Blocks the thread (teardown only: it must work where the event loop no longer runs). */
export function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms)
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms))

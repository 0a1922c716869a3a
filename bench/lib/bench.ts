// What every figure gets: where to read and write, how long to load, the log, and the list of
// figures it adds to (a figure that could not be measured is recorded with the reason).
import type { Figure } from './report.ts'

export interface Bench {
  repo: string
  /** Scratch directory (app copies, logs of the action's run). */
  scratch: string
  /** Seconds of each throughput measurement. */
  loadSeconds: number
  figures: Figure[]
  log(msg: string): void
  missing(id: string, name: string, unit: string, goal: Figure['goal'], why: string): void
}

export function firstLine(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).split('\n')[0]!.slice(0, 300)
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms))

// Process identity that survives PID reuse and reboots: pid + start time + boot id.
import { readFileSync } from 'node:fs'

export interface ProcId {
  pid: number
  start: string
  boot: string
}

const bootId = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim()

/**
 * Field 22 of /proc/PID/stat (start time in clock ticks since boot), or undefined when the process
 * is gone or a zombie (an exited child that nobody reaped yet is dead for our purposes).
 */
function startTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    // The command name (field 2) may contain spaces and parentheses: split after its last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return fields[0] === 'Z' || fields[0] === 'X' ? undefined : fields[19]
  } catch {
    return undefined
  }
}

export function procId(pid: number): ProcId | undefined {
  const start = startTime(pid)
  return start === undefined ? undefined : { pid, start, boot: bootId }
}

export function isAlive(id: ProcId | undefined): boolean {
  return !!id && id.boot === bootId && startTime(id.pid) === id.start
}

/** Sends a signal only if the PID still names the same process. */
export function signal(id: ProcId | undefined, sig: NodeJS.Signals): void {
  if (!id || !isAlive(id)) return
  try {
    process.kill(id.pid, sig)
  } catch {
    // Exited between the check and the kill.
  }
}

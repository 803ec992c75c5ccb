/**
 * CPU time of other processes, read from Linux's /proc: `utime + stime` of /proc/<pid>/stat
 * (fields 14 and 15, all threads included, in clock ticks). Servers run in their own processes so
 * the bench can charge each one only for its own work.
 */
import { execFileSync } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'

let ticksPerSecond: number | undefined

function getTicksPerSecond(): number {
  if (ticksPerSecond === undefined) {
    try {
      ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100
    } catch {
      ticksPerSecond = 100 // USER_HZ on every mainstream Linux build
    }
  }
  return ticksPerSecond
}

/** Fields after the `(comm)` field, which may itself contain spaces and parentheses. */
function readStatFields(pid: number): string[] {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')
}

/** User + system CPU milliseconds the process has used so far. */
export function readCpuMs(pid: number): number {
  const fields = readStatFields(pid)
  // fields[0] is stat field 3 (state): utime is field 14, stime field 15.
  const ticks = Number(fields[11]) + Number(fields[12])
  return (ticks * 1000) / getTicksPerSecond()
}

/** The first process whose name is one of `names` (e.g. the MySQL server), or null. */
export function getPidByName(names: string[]): number | null {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      if (names.includes(readFileSync(`/proc/${entry}/comm`, 'utf8').trim())) return Number(entry)
    } catch {
      // The process ended while we looked.
    }
  }
  return null
}

import { readFileSync } from 'node:fs'

/** What /proc/<pid>/stat says of a process (proc(5)): enough to tell one process from a later one with its pid. */
export interface ProcStat {
  pid: number
  /** The command name, as the kernel keeps it (at most 15 bytes; may hold spaces and parentheses). */
  comm: string
  /** R, S, D, T, Z (zombie: exited, not reaped yet), ... */
  state: string
  ppid: number
  /** Process group id. */
  pgrp: number
  /** Field 22: when the process started, in clock ticks after boot. With the pid, it names one process. */
  startTime: number
}

/**
 * Parses the text of /proc/<pid>/stat. The second field is the command name in parentheses, which can
 * itself hold spaces and parentheses: it ends at the LAST ')' of the line.
 */
export function parseProcStat (text: string): ProcStat | null {
  const open = text.indexOf('(')
  const close = text.lastIndexOf(')')
  if (open < 0 || close < open) return null
  const pid = Number(text.slice(0, open).trim())
  // Fields 3 onwards: state, ppid, pgrp, session, tty_nr, tpgid, flags, 4 fault counts, 4 times,
  // priority, nice, num_threads, itrealvalue, then starttime (field 22).
  const fields = text.slice(close + 1).trim().split(/\s+/)
  const [state, ppid, pgrp] = fields
  const startTime = Number(fields[22 - 3])
  if (!Number.isInteger(pid) || state === undefined || !Number.isInteger(startTime) || fields.length < 22 - 2) return null
  return { pid, comm: text.slice(open + 1, close), state, ppid: Number(ppid), pgrp: Number(pgrp), startTime }
}

/** The process's stat, or null when there is no such process (or no /proc: not Linux). */
export function readProcStat (pid: number, procRoot = '/proc'): ProcStat | null {
  let text: string
  try {
    text = readFileSync(`${procRoot}/${pid}/stat`, 'utf8')
  } catch {
    return null
  }
  return parseProcStat(text)
}

/** Whether the process exists and has not exited (a zombie has: only its exit status is left to reap). */
export function isRunning (pid: number, procRoot = '/proc'): boolean {
  const stat = readProcStat(pid, procRoot)
  return stat !== null && stat.state !== 'Z' && stat.state !== 'X'
}

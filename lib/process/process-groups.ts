import { readdirSync } from 'node:fs'
import { setTimeout as sleep } from 'node:timers/promises'
import type { Log } from '../log.js'
import { isRunning, readProcStat } from './proc-stat.js'
import type { GroupTracker } from './run-process.js'

/** A docker child's process group, recorded while it runs. */
export interface RecordedGroup {
  /** The group's id: its leader's pid (the child was spawned detached, leading a group of its own). */
  pgid: number
  /** The leader's start time (field 22 of /proc/<pid>/stat): with the pid, it names that one process. */
  startTime: number
  /** The build it works for; null for the builder's own commands. */
  buildId: number | null
  command: string
  recordedAt: string
}

/** Where recorded groups are kept (the build store's process_groups table). */
export interface GroupRecords {
  add: (group: RecordedGroup) => void
  remove: (pgid: number, startTime: number) => void
}

/**
 * Records each child's group with its leader's start time while it runs, and forgets it when the child
 * exits. Without /proc (not Linux) nothing could recognise the process later, so nothing is recorded.
 */
export function recordGroups (records: GroupRecords, what: { buildId: number | null, command: string }): GroupTracker {
  return {
    started: pgid => {
      const leader = readProcStat(pgid)
      /* c8 ignore next -- only where there is no /proc: the tests run on Linux */
      if (leader === null) return () => {}
      records.add({ pgid, startTime: leader.startTime, buildId: what.buildId, command: what.command, recordedAt: new Date().toISOString() })
      return () => records.remove(pgid, leader.startTime)
    }
  }
}

/** What became of a recorded group: `gone` (not the same process any more, or no process at all) is the usual. */
export type LeftoverOutcome = 'gone' | 'interrupted' | 'killed' | 'still-running' | 'not-permitted'

export interface EndLeftoversOptions {
  /** How long the group gets to exit after SIGINT (buildx needs milliseconds) before SIGKILL. */
  graceMs: number
  /** How long to wait for the group to go after SIGKILL. */
  killWaitMs?: number
  /** How often to look whether the group has gone (they are not our children: no exit event). */
  pollMs?: number
  log: Log
}

/**
 * Ends the process groups that a previous process recorded and left running (it was killed: its
 * docker children, in groups of their own, lived on). A group is ended only while its leader is still
 * the process recorded: the same pid AND the same start time, still leading that group; a pid alone
 * may belong to anyone by now. SIGINT to the group (buildx cancels its build), SIGKILL after
 * `graceMs`, and each waited for, so that nothing of the old build can push a tag after the rerun.
 */
export async function endLeftovers (groups: readonly RecordedGroup[], options: EndLeftoversOptions): Promise<LeftoverOutcome[]> {
  return Promise.all(groups.map(async group => {
    const outcome = await endGroup(group, options)
    const fields = { pgid: group.pgid, buildId: group.buildId, command: group.command, outcome }
    if (outcome === 'interrupted' || outcome === 'killed') options.log.warn(fields, 'Ended a docker process group left running by a previous process.')
    /* c8 ignore next -- needs a group of another user (the tests run as root), or one SIGKILL cannot end */
    else if (outcome !== 'gone') options.log.error(fields, 'Could not end a docker process group left running by a previous process.')
    return outcome
  }))
}

async function endGroup (group: RecordedGroup, options: EndLeftoversOptions): Promise<LeftoverOutcome> {
  const leader = readProcStat(group.pgid)
  if (leader === null || leader.startTime !== group.startTime || leader.pgrp !== group.pgid) return 'gone'
  const interrupted = signalGroup(group.pgid, 'SIGINT')
  /* c8 ignore next -- the group went since the look above, or is another user's */
  if (interrupted !== 'sent') return interrupted
  if (await gone(group.pgid, options.graceMs, options.pollMs)) return 'interrupted'
  const killed = signalGroup(group.pgid, 'SIGKILL')
  /* c8 ignore next -- the group went between the last look and the SIGKILL */
  if (killed !== 'sent') return killed === 'gone' ? 'interrupted' : killed
  const ended = await gone(group.pgid, options.killWaitMs ?? 2_000, options.pollMs)
  /* c8 ignore next -- a process in uninterruptible sleep outlives SIGKILL for a while */
  return ended ? 'killed' : 'still-running'
}

function signalGroup (pgid: number, signal: NodeJS.Signals): 'sent' | 'gone' | 'not-permitted' {
  try {
    process.kill(-pgid, signal)
    return 'sent'
  /* c8 ignore start -- ESRCH: the group went since the last look; EPERM: a group of another user (the tests run as root) */
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM' ? 'not-permitted' : 'gone'
  }
}
/* c8 ignore stop */

/** Resolves true once no process of the group is running (zombies have exited), false after `timeoutMs`. */
async function gone (pgid: number, timeoutMs: number, pollMs = 20): Promise<boolean> {
  const deadline = performance.now() + timeoutMs
  for (;;) {
    if (!isGroupRunning(pgid)) return true
    if (performance.now() >= deadline) return false
    await sleep(pollMs)
  }
}

/** Whether a process of the group is running (a zombie has exited). */
export function isGroupRunning (pgid: number): boolean {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    const pid = Number(entry)
    if (readProcStat(pid)?.pgrp === pgid && isRunning(pid)) return true
  }
  return false
}

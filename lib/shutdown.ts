import { BUILDER_KILL_GRACE_MS } from './buildx/builder.js'

/** After the last kill: recording the builds' outcomes and closing the store. */
export const SHUTDOWN_MARGIN_MS = 5_000

export interface ShutdownTimes {
  /** SHUTDOWN_DRAIN_SECONDS: /ready answers 503 while the listener still accepts. */
  drainSeconds: number
  /** app.builder.shutdown_grace_seconds: running builds may finish (it starts once the drain is over). */
  graceSeconds: number
  /** How long an interrupted docker build gets before SIGKILL (lib/process/run-process.ts). */
  killGraceMs: number
}

/**
 * How long after the signal a shutdown is forced. Each step runs after the one before: the drain, the
 * running builds' grace period, the kill grace of their interrupted docker children, then the builder's
 * own docker calls (stopped after the builds), plus a margin. So the forced exit can only ever cut a
 * shutdown that hangs, never one that is still killing builds (which would leave them to run again).
 */
export function forcedExitDelayMs (times: ShutdownTimes): number {
  return (times.drainSeconds + times.graceSeconds) * 1000 + times.killGraceMs + BUILDER_KILL_GRACE_MS + SHUTDOWN_MARGIN_MS
}

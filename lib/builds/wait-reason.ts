import type { BuildRecord } from '../schemas/build.js'

/** What the scheduler sees now: the inputs of its decision to start a queued build or not. */
export interface SchedulerView {
  /** Builds holding a builder slot in this process (running, or having their branch head checked), oldest first. */
  running: ReadonlyArray<{ id: number, project: string }>
  maxConcurrent: number
  builder: {
    ready: boolean
    /** Why it is not ready, for people (null when it does not say). */
    reason: string | null
    /** Whether it was ever ready in this process: a builder that was is coming back, one that was not is starting. */
    bootstrapped: boolean
  }
}

/** Why a queued build has not started, in the order the scheduler checks it. */
export type WaitReason =
  /** It holds its slot already: the head check asks the Git host for the branch head before it starts. */
  | { kind: 'head-check' }
  /** One build per project at a time: another build of its project holds the project. */
  | { kind: 'project', build: number, project: string }
  /** The builder is down or bootstrapping (a rollback needs no builder, so it never waits for one). */
  | { kind: 'builder', reason: string | null, bootstrapped: boolean }
  /** Every builder slot (`max_concurrent_builds`) is taken. */
  | { kind: 'slots', max: number, builds: number[] }
  /** Nothing holds it back: the scheduler starts it at its next look at the queue. */
  | { kind: 'next' }

/** Why `build` (queued) does not start now, from the scheduler's view: its own check, in its own order. */
export function waitReason (build: Pick<BuildRecord, 'id' | 'project' | 'trigger'>, view: SchedulerView): WaitReason {
  if (view.running.some(running => running.id === build.id)) return { kind: 'head-check' }
  const busy = view.running.find(running => running.project === build.project)
  if (busy !== undefined) return { kind: 'project', build: busy.id, project: busy.project }
  if (!view.builder.ready && build.trigger.source !== 'rollback') return { kind: 'builder', reason: view.builder.reason, bootstrapped: view.builder.bootstrapped }
  if (view.running.length >= view.maxConcurrent) return { kind: 'slots', max: view.maxConcurrent, builds: view.running.map(running => running.id) }
  return { kind: 'next' }
}

/** What the build waits for, for people: `waiting for <this>`. */
export function describeWait (reason: WaitReason): string {
  switch (reason.kind) {
    case 'head-check': return 'the branch head from the Git host (checked just before a webhook build starts)'
    case 'project': return `build ${reason.build} of ${reason.project} to finish (one build per project at a time)`
    case 'builder': return `the builder to ${reason.bootstrapped ? 'come back' : 'be ready'}${reason.reason === null ? '' : ` (${reason.reason})`}`
    case 'slots': return `a free builder slot (${reason.builds.length} of ${reason.max} in use: ${reason.builds.length === 1 ? 'build' : 'builds'} ${reason.builds.join(', ')})`
    case 'next': return 'its turn to start (nothing else holds it back)'
  }
}

/** A duration for people: `45s`, `5m 0s`, `1h 2m 3s`. */
export function formatDuration (ms: number): string {
  const seconds = Math.max(0, Math.floor(ms / 1000))
  const h = Math.floor(seconds / 3600)
  const m = Math.floor((seconds % 3600) / 60)
  const s = seconds % 60
  if (h > 0) return `${h}h ${m}m ${s}s`
  if (m > 0) return `${m}m ${s}s`
  return `${s}s`
}

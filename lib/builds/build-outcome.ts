import { BUILDER_OUTAGES } from '../buildx/failure.js'
import type { ImageBuildResult } from '../buildx/image-build.js'
import type { BuildStatus, FailureReason } from '../schemas/build.js'

/** A build runs at most this many attempts in all: after the process died, or BuildKit went away, during one. */
export const MAX_ATTEMPTS = 3

/** Why a running build, or its images, were interrupted: the AbortSignal's reason. */
export class BuildInterrupted extends Error {
  constructor (
    readonly status: 'failed' | 'cancelled',
    message: string,
    /** What each interrupted image records as its reason. */
    readonly reason: FailureReason = status === 'cancelled' ? 'cancelled' : 'timed-out'
  ) {
    super(message)
    this.name = 'BuildInterrupted'
  }
}

export interface BuildOutcome {
  status: Extract<BuildStatus, 'succeeded' | 'failed' | 'cancelled'>
  error: string | null
  /** Set when the attempt ended because BuildKit went away and the build should run again. */
  retry?: { reason: FailureReason, error: string }
}

export interface ImageOutcome {
  name: string
  result: ImageBuildResult
}

/**
 * A build's outcome from its images' results: the interruption, if that is what stopped it; else the
 * image that failed first (`cause`: its siblings were cancelled because of it), naming how many others
 * failed on their own. When the cause is BuildKit going away and `attempt < maxAttempts`, the outcome
 * asks for another attempt; on the last one it says that it gave up.
 */
export function buildOutcome (images: readonly ImageOutcome[], cause: number | null, stop: AbortSignal, attempt: number, maxAttempts: number): BuildOutcome {
  if (cause === null) {
    if (!stop.aborted) return { status: 'succeeded', error: null }
    const reason = stop.reason as BuildInterrupted
    return { status: reason.status, error: reason.message }
  }
  const first = images[cause]!
  const others = images.filter((image, i) => i !== cause && image.result.status === 'failed').length
  const more = others > 0 ? ` (and ${others} more image${others > 1 ? 's' : ''} failed)` : ''
  const error = `${first.name}: ${first.result.error!}${more}`
  const reason = first.result.reason!
  if (!BUILDER_OUTAGES.has(reason)) return { status: 'failed', error }
  if (attempt < maxAttempts) return { status: 'failed', error, retry: { reason, error } }
  return { status: 'failed', error: `${error}; gave up after ${attempt} attempt${attempt > 1 ? 's' : ''} (BuildKit was unavailable each time)` }
}

import { EventEmitter } from 'node:events'
import type { ProjectSettings } from '../config/index.js'
import { commitTag } from '../buildx/build-argv.js'
import { BuildHookError } from '../errors.js'
import type { BuildStore, FinalEvent, StartCommit } from '../store/build-store.js'
import { BuildInterrupted, type BuildOutcome } from './build-outcome.js'
import { builtCommit, type BuildRecord } from '../schemas/build.js'
import { waitReason, type WaitReason } from './wait-reason.js'
import type { Log } from '../log.js'

/** How long the head check may take before a build goes on with its pushed commit. */
export const HEAD_CHECK_TIMEOUT_MS = 15_000

export interface BuilderGate {
  readonly ready: boolean
  /** Why it is not ready (for people), and whether it ever was in this process. */
  readonly state: { readonly reason: string | null, readonly bootstrapped: boolean }
  whenReady: (signal?: AbortSignal) => Promise<void>
  on: (event: 'state', listener: () => void) => unknown
  off: (event: 'state', listener: () => void) => unknown
}

export interface SchedulerOptions {
  store: BuildStore
  projects: readonly ProjectSettings[]
  builder: BuilderGate
  run: (build: BuildRecord, project: ProjectSettings, signal: AbortSignal, log: Log) => Promise<BuildOutcome>
  maxConcurrent: number
  timeoutSeconds: number
  log: Log
  /** After a build's outcome is recorded (retention). */
  onFinished?: (build: BuildRecord) => void
  /**
   * The head check (docs/contract.md "The newest pushed commit is what runs"): the branch head now, asked of the Git
   * host just before a webhook build starts. Without it, every build builds the commit it was triggered for.
   */
  resolveHead?: (project: ProjectSettings, signal: AbortSignal) => Promise<string>
  headCheckTimeoutMs?: number
}

interface Running {
  build: BuildRecord
  controller: AbortController
}

/**
 * Runs queued builds from the store: one at a time per project, at most `maxConcurrent` projects at once,
 * oldest first, and only while the builder is ready (queued builds wait; they do not fail). The store is
 * the queue, so whatever was queued before a restart runs after it. `waits` says that why a queued build
 * waits may have changed (a build started or ended, the builder's state changed): see `waitReason`.
 */
export class Scheduler extends EventEmitter<{ waits: [] }> {
  readonly #options: SchedulerOptions
  readonly #projects: ReadonlyMap<string, ProjectSettings>
  readonly #running = new Map<number, Running>()
  readonly #stop = new AbortController()
  #waitingForBuilder = false
  #idle: Array<() => void> = []
  // A builder that is back starts the builds waiting for it: the poke that follows says so, with what started.
  readonly #onBuilderState = (): void => { if (!this.#options.builder.ready) this.emit('waits') }

  constructor (options: SchedulerOptions) {
    super()
    this.setMaxListeners(0) // one per follower waiting for a queued build
    this.#options = options
    this.#projects = new Map(options.projects.map(project => [project.slug, project]))
    options.builder.on('state', this.#onBuilderState)
  }

  /** Why queued build `build` does not start now, as this scheduler decides it. */
  waitReason (build: Pick<BuildRecord, 'id' | 'project' | 'trigger'>): WaitReason {
    const { builder, maxConcurrent } = this.#options
    const running = [...this.#running.values()].map(({ build }) => ({ id: build.id, project: build.project }))
    return waitReason(build, { running, maxConcurrent, builder: { ready: builder.ready, reason: builder.state.reason, bootstrapped: builder.state.bootstrapped } })
  }

  /** Starts whatever can start now. Call after recording a build, and whenever a build ends. */
  poke (): void {
    if (this.#stop.signal.aborted) return
    this.#startAll()
    this.emit('waits')
  }

  #startAll (): void {
    while (this.#running.size < this.#options.maxConcurrent) {
      const busy = [...this.#running.values()].map(running => running.build.project)
      // A rollback builds nothing, so it needs no BuildKit: while the builder is down, rollbacks still run.
      const ready = this.#options.builder.ready
      const next = this.#options.store.nextQueued(busy, ready ? 'any' : 'rollback')
      if (!ready) this.#waitForBuilder()
      if (next === null) return
      this.#start(next)
    }
  }

  /** Interrupts a running build; false when this process is not running it. */
  interrupt (id: number, reason: BuildInterrupted): boolean {
    const running = this.#running.get(id)
    if (running === undefined) return false
    running.controller.abort(reason)
    return true
  }

  /** Resolves when no build is running. */
  idle (): Promise<void> {
    if (this.#running.size === 0) return Promise.resolve()
    return new Promise(resolve => this.#idle.push(resolve))
  }

  /**
   * Stops starting builds; lets running ones finish for `graceMs`, then interrupts them (recorded
   * `cancelled`). Queued builds stay queued for the next start.
   */
  async shutdown (graceMs: number): Promise<void> {
    this.#stop.abort()
    this.#options.builder.off('state', this.#onBuilderState)
    if (this.#running.size === 0) return
    this.#options.log.info({ running: this.#running.size, graceMs }, 'Waiting for running builds before shutting down.')
    let timer: NodeJS.Timeout | undefined
    const graceOver = new Promise<'timeout'>(resolve => { timer = setTimeout(() => resolve('timeout'), graceMs) })
    const result = await Promise.race([this.idle(), graceOver])
    clearTimeout(timer)
    if (result === 'timeout') {
      for (const running of this.#running.values()) running.controller.abort(new BuildInterrupted('cancelled', 'cancelled: the service shut down'))
      await this.idle()
    }
  }

  #waitForBuilder (): void {
    if (this.#waitingForBuilder) return
    this.#waitingForBuilder = true
    this.#options.builder.whenReady(this.#stop.signal).then(() => {
      this.#waitingForBuilder = false
      this.poke()
    }, () => { this.#waitingForBuilder = false })
  }

  #start (build: BuildRecord): void {
    const log = this.#options.log.child({ buildId: build.id, project: build.project })
    const project = this.#projects.get(build.project)
    if (project === undefined) {
      this.#options.store.finish(build.id, 'failed', `project '${build.project}' is no longer in the configuration`)
      log.warn({}, 'Build failed: its project is no longer configured.')
      return
    }
    // The project's slot is taken from here on, through the head check: its builds never overlap.
    const controller = new AbortController()
    this.#running.set(build.id, { build, controller })
    if (this.#options.resolveHead === undefined || build.trigger.source === 'api' || build.trigger.source === 'rollback') return this.#begin(build, project, controller, log, undefined)
    // Superseded by a newer push, or cancelled, while its head is checked: the check stops at once.
    const onFinal = (event: FinalEvent): void => {
      if (event.id === build.id) controller.abort(new BuildInterrupted('cancelled', `${event.status} while its branch head was checked`))
    }
    this.#options.store.on('final', onFinal)
    void this.#headCheck(build, project, controller.signal, log).then(commit => {
      this.#options.store.off('final', onFinal)
      this.#begin(build, project, controller, log, commit)
    })
  }

  /** Records the build running (building `commit`, when given) and runs it; synchronous up to the run. */
  #begin (queued: BuildRecord, project: ProjectSettings, controller: AbortController, log: Log, commit: StartCommit | undefined): void {
    const { store } = this.#options
    // Shutdown began during the check: it stays queued for the next start. Interrupted, cancelled or
    // superseded meanwhile: it never starts.
    if (!this.#stop.signal.aborted && controller.signal.aborted) {
      const reason = controller.signal.reason as BuildInterrupted
      store.finish(queued.id, reason.status, reason.message)
    }
    if (this.#stop.signal.aborted || controller.signal.aborted || !store.start(queued.id, new Date(), commit)) {
      this.#release(queued)
      return
    }
    const build = store.get(queued.id)!
    const timeoutSeconds = this.#options.timeoutSeconds
    const timer = setTimeout(() => controller.abort(new BuildInterrupted('failed', `timed out after ${timeoutSeconds} s`, 'timed-out')), timeoutSeconds * 1000)
    const started = performance.now()
    log.info({ commit: build.commit, attempt: build.attempt, ...(build.commitReason === null ? {} : { commitReason: build.commitReason }) }, 'Build started.')
    void this.#options.run(build, project, controller.signal, log)
      .catch((err: unknown): BuildOutcome => {
        log.error({ err }, 'Build crashed.')
        return { status: 'failed', error: 'internal error while building (see the service log)' }
      })
      .then(outcome => {
        clearTimeout(timer)
        // Cancelled or timed out while the attempt was ending: that is its outcome, never another attempt.
        if (outcome.retry !== undefined && controller.signal.aborted) {
          const interrupted = controller.signal.reason as BuildInterrupted
          outcome = { status: interrupted.status, error: interrupted.message }
        }
        // BuildKit went away: not the build's failure. Queued again, it waits for the builder to be back.
        const requeued = outcome.retry === undefined ? null : store.requeue(build.id, outcome.retry)
        if (requeued === null) {
          store.finish(build.id, outcome.status, outcome.error)
          log.info({ status: outcome.status, durationMs: Math.round(performance.now() - started), ...(outcome.error === null ? {} : { error: outcome.error }) }, 'Build finished.')
        } else {
          log.warn({ reason: outcome.retry!.reason, error: outcome.error, attempt: build.attempt, status: requeued },
            requeued === 'queued' ? 'BuildKit went away: the build is queued again.' : 'BuildKit went away: a newer queued build replaces this one.')
        }
        if (requeued !== 'queued') this.#options.onFinished?.(build)
        this.#release(build)
      })
  }

  #release (build: BuildRecord): void {
    this.#running.delete(build.id)
    if (this.#running.size === 0) for (const resolve of this.#idle.splice(0)) resolve()
    this.poke()
  }

  /**
   * Just before a webhook build starts, the branch head: a head that moved since the push is built instead
   * (deliveries that arrive out of order never build an older commit last). A host that cannot be reached
   * in time leaves the pushed commit. (API calls are built as asked: without a commit, the head was resolved
   * when the build was recorded.) Undefined when the check was interrupted (cancel, shutdown).
   */
  async #headCheck (build: BuildRecord, project: ProjectSettings, signal: AbortSignal, log: Log): Promise<StartCommit | undefined> {
    const resolveHead = this.#options.resolveHead!
    const headCheckTimeoutMs = this.#options.headCheckTimeoutMs ?? HEAD_CHECK_TIMEOUT_MS
    const pushed = build.trigger.commit
    // A build that runs again may have built a newer head already: it never goes back before that.
    const known = builtCommit(build)
    const tagsOf = (commit: string): string[][] => project.images.map(image => [image.tag, commitTag(commit)])
    const timeout = new AbortController()
    const timer = setTimeout(() => timeout.abort(new BuildHookError('BH_GIT_UNREACHABLE', `git ls-remote timed out after ${headCheckTimeoutMs} ms`)), headCheckTimeoutMs)
    const check = AbortSignal.any([signal, this.#stop.signal, timeout.signal])
    let head: string
    try {
      head = await untilAborted(resolveHead(project, check), check)
    } catch (err) {
      if (signal.aborted || this.#stop.signal.aborted) return undefined
      const reason = (err as Error).message
      const what = known === pushed ? 'the pushed commit' : `${known}, the head found before`
      log.warn({ reason, commit: known }, 'The branch head could not be checked: building the commit known.')
      return { commit: known, reason: `the branch head could not be checked (${reason}): built ${what}`, tags: tagsOf(known) }
    } finally {
      clearTimeout(timer)
    }
    if (head === pushed) return { commit: head, reason: null, tags: tagsOf(head) }
    log.info({ pushed, head }, 'The branch head moved after the push: building the head.')
    return { commit: head, reason: `the branch head moved to ${head} after this push of ${pushed}: built the head`, tags: tagsOf(head) }
  }
}

/** `promise`, or the signal's reason as soon as it aborts: a resolver that hangs cannot hold a build. */
function untilAborted<T> (promise: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason)
    signal.addEventListener('abort', onAbort, { once: true })
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort))
  })
}

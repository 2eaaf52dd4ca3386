import type { ProjectSettings } from '../config/index.js'
import type { BuildStore } from '../store/build-store.js'
import { BuildInterrupted, type BuildOutcome } from './build-runner.js'
import type { BuildRecord } from './record.js'
import type { Log } from '../log.js'

export interface BuilderGate {
  readonly ready: boolean
  whenReady: (signal?: AbortSignal) => Promise<void>
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
}

interface Running {
  build: BuildRecord
  controller: AbortController
}

/**
 * Runs queued builds from the store: one at a time per project, at most `maxConcurrent` projects at once,
 * oldest first, and only while the builder is ready (queued builds wait; they do not fail). The store is
 * the queue, so whatever was queued before a restart runs after it.
 */
export class Scheduler {
  readonly #options: SchedulerOptions
  readonly #projects: ReadonlyMap<string, ProjectSettings>
  readonly #running = new Map<number, Running>()
  readonly #stop = new AbortController()
  #waitingForBuilder = false
  #idle: Array<() => void> = []

  constructor (options: SchedulerOptions) {
    this.#options = options
    this.#projects = new Map(options.projects.map(project => [project.slug, project]))
  }

  /** Starts whatever can start now. Call after recording a build, and whenever a build ends. */
  poke (): void {
    if (this.#stop.signal.aborted) return
    while (this.#running.size < this.#options.maxConcurrent) {
      if (!this.#options.builder.ready) {
        this.#waitForBuilder()
        return
      }
      const busy = [...this.#running.values()].map(running => running.build.project)
      const next = this.#options.store.nextQueued(busy)
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
    const { store } = this.#options
    const log = this.#options.log.child({ buildId: build.id, project: build.project })
    const project = this.#projects.get(build.project)
    if (project === undefined) {
      store.finish(build.id, 'failed', `project '${build.project}' is no longer in the configuration`)
      log.warn({}, 'Build failed: its project is no longer configured.')
      return
    }
    store.start(build.id)
    const controller = new AbortController()
    const timeoutSeconds = this.#options.timeoutSeconds
    const timer = setTimeout(() => controller.abort(new BuildInterrupted('failed', `timed out after ${timeoutSeconds} s`, 'timed-out')), timeoutSeconds * 1000)
    const started = performance.now()
    log.info({ commit: build.trigger.commit, attempt: build.attempt }, 'Build started.')
    void this.#options.run({ ...build, status: 'running' }, project, controller.signal, log)
      .catch((err: unknown): BuildOutcome => {
        log.error({ err }, 'Build crashed.')
        return { status: 'failed', error: 'internal error while building (see the service log)' }
      })
      .then(outcome => {
        clearTimeout(timer)
        // BuildKit went away: not the build's failure. Queued again, it waits for the builder to be back.
        const requeued = outcome.retry === undefined ? null : store.requeue(build.id, outcome.retry)
        if (requeued === null) {
          store.finish(build.id, outcome.status, outcome.error)
          log.info({ status: outcome.status, durationMs: Math.round(performance.now() - started), ...(outcome.error === null ? {} : { error: outcome.error }) }, 'Build finished.')
        } else {
          log.warn({ reason: outcome.retry!.reason, error: outcome.error, attempt: build.attempt, status: requeued },
            requeued === 'queued' ? 'BuildKit went away: the build is queued again.' : 'BuildKit went away: a newer queued build replaces this one.')
        }
        this.#running.delete(build.id)
        if (requeued !== 'queued') this.#options.onFinished?.(build)
        if (this.#running.size === 0) for (const resolve of this.#idle.splice(0)) resolve()
        this.poke()
      })
    this.#running.set(build.id, { build, controller })
  }
}

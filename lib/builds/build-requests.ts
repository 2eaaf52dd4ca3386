import { BuildHookError } from '../errors.js'
import type { ProjectSettings } from '../config/index.js'
import type { BuildStore, NewBuild, Recorded } from '../store/build-store.js'
import { BuildInterrupted } from './build-runner.js'
import { newBuild, rollbackBuild } from './new-build.js'
import { FINAL_STATUSES, type BuildRecord, type TriggerInput } from '../schemas/build.js'

export type CancelResult =
  | { outcome: 'cancelled' | 'cancelling', build: BuildRecord }
  | { outcome: 'finished', build: BuildRecord }
  | { outcome: 'not-found' }

/**
 * What a trigger came to: a build recorded (or the one it duplicates), or none because the branch head, needed
 * when no commit was given, could not be resolved: `missingGit` when this machine has no git (the hook's own
 * fault, and /ready says so), else the repository's answer (unreachable, no such branch, refused).
 */
export type TriggerResult =
  | ({ outcome: 'recorded' } & Recorded)
  | { outcome: 'head-unknown', missingGit: boolean, message: string }

export type RollbackResult =
  | { outcome: 'queued', recorded: Recorded }
  /** No such build of this project (404). */
  | { outcome: 'not-found', message: string }
  /** Nothing to go back to, or not something that can be deployed again (409). */
  | { outcome: 'refused', message: string }

export interface BuildRequestsOptions {
  store: BuildStore
  /** Resolves the head of the project's branch (git ls-remote). */
  resolveCommit: (project: ProjectSettings) => Promise<string>
  /** Called once a build is recorded, to start it when it can start. */
  onRecorded: () => void
  /** Interrupts a build this process is running; false when it is not running it. */
  interrupt: (id: number, reason: BuildInterrupted) => boolean
}

/** Records build requests, pinned to a full commit, and hands them to the scheduler. */
export class BuildRequests {
  readonly #options: BuildRequestsOptions
  // Triggers waiting for the next commit: all that arrive in one turn of the event loop share it.
  #pending: Array<{ build: NewBuild, resolve: (recorded: Recorded) => void, reject: (err: unknown) => void }> = []

  constructor (options: BuildRequestsOptions) {
    this.#options = options
  }

  #commit (build: NewBuild): Promise<Recorded> {
    return new Promise((resolve, reject) => {
      if (this.#pending.push({ build, resolve, reject }) === 1) setImmediate(() => this.#flush())
    })
  }

  #flush (): void {
    const batch = this.#pending.splice(0)
    let recorded: Recorded[]
    try {
      recorded = this.#options.store.recordAll(batch.map(entry => entry.build))
    } catch (err) {
      for (const entry of batch) entry.reject(err)
      return
    }
    batch.forEach((entry, i) => entry.resolve(recorded[i]!))
    if (recorded.some(entry => !entry.duplicate)) this.#options.onRecorded()
  }

  /**
   * Records a queued build (committed to the store before this resolves), superseding the project's
   * queued builds; or returns the queued or running build that already has this delivery or commit.
   */
  async trigger (project: ProjectSettings, input: TriggerInput): Promise<TriggerResult> {
    let commit = input.commit
    if (commit === undefined) {
      try {
        commit = await this.#options.resolveCommit(project)
      } catch (err) {
        if (err instanceof BuildHookError && err.code.startsWith('BH_GIT_')) return { outcome: 'head-unknown', missingGit: err.code === 'BH_GIT_MISSING', message: err.message }
        throw err
      }
    }
    const recorded = await this.#commit(newBuild(project, {
      source: input.source,
      event: input.event,
      delivery: input.delivery ?? null,
      ref: input.ref ?? `refs/heads/${project.code.branch}`,
      commit: commit.toLowerCase(),
      sender: input.sender ?? null
    }))
    return { outcome: 'recorded', ...recorded }
  }

  /**
   * Records a rollback of the project to build `to`, or without one to the deploy before the current one
   * (DeployHistory.previous). It queues like any build of the project: it replaces queued builds, and a
   * later push replaces it while it waits.
   */
  async rollback (project: ProjectSettings, to?: number): Promise<RollbackResult> {
    const { store } = this.#options
    let target: BuildRecord | null
    if (to === undefined) {
      const previous = store.deploys.previous(project.slug)
      if (previous === null) return { outcome: 'refused', message: `Project ${project.slug} has no earlier deploy to roll back to: name a build` }
      target = store.get(previous.build)
      if (target === null) return { outcome: 'refused', message: `Build ${previous.build}, deployed before the current one, is no longer kept: name a build` }
    } else {
      target = store.get(to)
      if (target === null || target.project !== project.slug) return { outcome: 'not-found', message: `No build ${to} of project ${project.slug}` }
    }
    const rollback = rollbackBuild(project, target)
    if ('refused' in rollback) return { outcome: 'refused', message: rollback.refused }
    return { outcome: 'queued', recorded: await this.#commit(rollback.build) }
  }

  /** A queued build is cancelled at once; a running one is interrupted and recorded cancelled when it stops. */
  cancel (id: number): CancelResult {
    const { store } = this.#options
    if (store.cancelQueued(id, 'cancelled through the API')) {
      // A build whose head is being checked is queued, and holds its project's slot: end the check too.
      this.#options.interrupt(id, new BuildInterrupted('cancelled', 'cancelled through the API'))
      return { outcome: 'cancelled', build: store.get(id)! }
    }
    const build = store.get(id)
    if (build === null) return { outcome: 'not-found' }
    if (FINAL_STATUSES.has(build.status)) return { outcome: 'finished', build }
    if (this.#options.interrupt(id, new BuildInterrupted('cancelled', 'cancelled through the API'))) return { outcome: 'cancelling', build }
    // Running in the store but not in this process: its process died, and recovery has not run it again.
    store.finish(id, 'cancelled', 'cancelled through the API')
    return { outcome: 'cancelled', build: store.get(id)! }
  }
}

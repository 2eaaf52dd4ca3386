import type { Readable } from 'node:stream'
import type { Settings, ProjectSettings } from '../config/index.js'
import type { GitCredential } from '../git/credentials.js'
import { resolveBranch } from '../git/ls-remote.js'
import type { Deployer } from '../kube/kube-deployer.js'
import type { Log } from '../log.js'
import { endLeftovers, type RecordedGroup } from '../process/process-groups.js'
import type { ProcessGroupStore } from '../store/process-group-store.js'
import type { Redactor } from '../secrets/redactor.js'
import type { BuildStore } from '../store/build-store.js'
import type { Builder } from '../buildx/builder.js'
import { builderEndpoints } from '../buildx/builder-spec.js'
import { buildLogPath } from './build-log.js'
import { MAX_ATTEMPTS } from './build-outcome.js'
import { BuildRequests, type CancelResult, type RollbackResult, type TriggerResult } from './build-requests.js'
import type { TriggerInput } from '../schemas/build.js'
import { BuildRunner } from './build-runner.js'
import { LiveLogs } from './live-logs.js'
import { followLog, readLog } from './log-follower.js'
import { Retention } from './retention.js'
import { Scheduler } from './scheduler.js'
import { clearTmpDir } from './tmp-dir.js'

/** How long docker left running by a killed process gets to stop after SIGINT (buildx takes milliseconds); within the plugin timeout. */
export const LEFTOVER_GRACE_MS = 3_000

export interface BuildServiceOptions {
  settings: Settings
  dataDir: string
  store: BuildStore
  /** The remote builder the builds run on (its lifecycle is the buildx plugin's). */
  builder: Builder
  /** Rolls out each project's workloads once its images are pushed. */
  deployer: Deployer
  /** Where each docker child's process group is recorded while it runs. */
  processGroups: ProcessGroupStore
  gitCredentials: ReadonlyMap<string, GitCredential | null>
  redactor: Redactor
  /** The environment of docker and git children (lib/process/child-env.ts). */
  childEnv: Record<string, string>
  log: Log
  /** How long an interrupted docker gets before SIGKILL (default 10 s). */
  killGraceMs?: number
  /** The head check before a webhook build starts (default on; tests whose repositories do not exist turn it off). */
  headCheck?: boolean
  /** How long the head check may take (default 15 s). */
  headCheckTimeoutMs?: number
  /** How often a follower of a queued build repeats why it waits (default 30 s). */
  stillWaitingMs?: number
}

/**
 * The build pipeline, assembled in one place: requests record builds in the store, the scheduler runs
 * them from it on the builder (the runner builds, pushes and deploys), followers read their logs, and old
 * builds are pruned. What a process that died left behind is dealt with at start, and running builds get
 * a grace period at shutdown.
 */
export class BuildService {
  /** Runs one build's images and its deploy (the scheduler calls it). */
  readonly runner: BuildRunner
  /** Logs of the builds running now, for followers. */
  readonly live = new LiveLogs()
  readonly #options: BuildServiceOptions
  readonly #scheduler: Scheduler
  readonly #requests: BuildRequests
  readonly #retention: Retention
  #leftovers: readonly RecordedGroup[] = []
  #stopping: Promise<void> | undefined

  constructor (options: BuildServiceOptions) {
    this.#options = options
    const { settings, store, builder, dataDir, redactor, gitCredentials, childEnv } = options
    // The branch head with git ls-remote: for API calls without a commit, and for the head check.
    const resolveCommit = (project: ProjectSettings, signal?: AbortSignal): Promise<string> =>
      resolveBranch({ url: project.code.url, branch: project.code.branch, credential: gitCredentials.get(project.slug) ?? null, env: childEnv, redactor, signal })
    this.runner = new BuildRunner({
      live: this.live,
      store,
      builderName: settings.builder.name,
      endpoint: builderEndpoints(settings.builder),
      env: childEnv,
      gitCredentials,
      dataDir,
      redactor,
      killGraceMs: options.killGraceMs,
      groups: options.processGroups,
      onBuilderUnavailable: reason => builder.reportUnavailable(reason),
      deployer: options.deployer
    })
    this.#retention = new Retention({ store, dataDir, keep: settings.keepBuilds, onError: err => options.log.error({ err }, 'Deleting old builds failed.') })
    this.#scheduler = new Scheduler({
      store,
      projects: settings.projects,
      builder,
      run: (build, project, signal, log) => this.runner.run(build, project, signal, log),
      maxConcurrent: settings.builder.maxConcurrentBuilds,
      timeoutSeconds: settings.builder.timeoutSeconds,
      log: options.log.child({ component: 'scheduler' }),
      onFinished: build => this.#retention.finished(build.project),
      ...(options.headCheck === false ? {} : { resolveHead: resolveCommit }),
      headCheckTimeoutMs: options.headCheckTimeoutMs
    })
    this.#requests = new BuildRequests({
      store,
      resolveCommit,
      // After the answers are on their way: spawning docker is no work for the requests that recorded builds.
      onRecorded: () => setImmediate(() => this.#scheduler.poke()),
      interrupt: (id, reason) => this.#scheduler.interrupt(id, reason)
    })
  }

  /**
   * Before anything is spawned (the builder starts once the server is ready): empties the builds' temporary
   * directory, and takes the process groups a dead process left behind.
   */
  async prepare (): Promise<void> {
    await clearTmpDir(this.#options.dataDir)
    this.#leftovers = this.#options.processGroups.list()
  }

  /**
   * What a process that died left behind: its docker children are ended first (a stale build must not push a
   * tag after its rerun), then running builds run again (or fail on their last attempt), and each project
   * keeps only its newest queued build. Then queued builds start as the builder allows.
   */
  async start (): Promise<void> {
    const { processGroups, store, log } = this.#options
    await endLeftovers(this.#leftovers, { graceMs: LEFTOVER_GRACE_MS, log: log.child({ component: 'leftovers' }) })
    for (const group of this.#leftovers) processGroups.remove(group.pgid, group.startTime)
    const recovery = store.recover(MAX_ATTEMPTS)
    if (recovery.requeued.length + recovery.failed.length + recovery.superseded.length > 0) {
      log.warn(recovery, 'Recovered builds left by a previous process.')
    }
    this.#scheduler.poke()
  }

  /** Records a build of the project (docs/contract.md "Triggers"). */
  trigger (project: ProjectSettings, input: TriggerInput): Promise<TriggerResult> {
    return this.#requests.trigger(project, input)
  }

  /** Records a rollback of the project to build `to`, or to the deploy before the current one. */
  rollback (project: ProjectSettings, to?: number): Promise<RollbackResult> {
    return this.#requests.rollback(project, to)
  }

  /** Cancels a queued build at once, or interrupts a running one. */
  cancel (id: number): CancelResult {
    return this.#requests.cancel(id)
  }

  /** Build `id`'s log as written so far: empty when it has not started, or never will (superseded, cancelled while queued). */
  async readLog (id: number): Promise<Readable | string> {
    return await readLog(buildLogPath(this.#options.dataDir, id)) ?? ''
  }

  /** Build `id`'s log until the build ends, saying why it waits while it is queued. */
  followLog (id: number): Readable {
    const { dataDir, store, stillWaitingMs } = this.#options
    return followLog({ id, file: buildLogPath(dataDir, id), live: this.live, store, waits: this.#scheduler, stillWaitingMs })
  }

  /**
   * Shutdown's first step (the server's preClose, while open answers such as log followers still hold it up):
   * running builds get `graceMs` to finish before they are interrupted, and followers are told.
   */
  beginShutdown (graceMs: number): void {
    this.#stopping = this.#scheduler.shutdown(graceMs)
    this.live.shutDown({ graceMs })
  }

  /** Once the server has closed: waits for the running builds to stop, and prunes no more. */
  async close (): Promise<void> {
    try {
      await this.#stopping
    } finally {
      this.#retention.stop()
    }
  }
}

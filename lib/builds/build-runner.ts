import type { DeploymentSettings, ProjectSettings } from '../config/index.js'
import { GIT_AUTH_SECRET } from '../buildx/build-argv.js'
import { BUILDER_OUTAGES } from '../buildx/failure.js'
import { buildImage, type ImageBuildResult } from '../buildx/image-build.js'
import { retagImage } from '../buildx/imagetools.js'
import { recordGroups, type GroupRecords } from '../process/process-groups.js'
import type { GroupTracker } from '../process/run-process.js'
import type { BuildStore } from '../store/build-store.js'
import type { Redactor } from '../secrets/redactor.js'
import type { GitCredential } from '../git/credentials.js'
import { BuildLog, buildLogPath } from './build-log.js'
import { tmpDir } from './tmp-dir.js'
import type { LiveLogs } from './live-logs.js'
import type { Deployer } from '../kube/kube-deployer.js'
import { BuildInterrupted, buildOutcome, MAX_ATTEMPTS, type BuildOutcome, type ImageOutcome } from './build-outcome.js'
import { builtCommit, type BuildRecord } from '../schemas/build.js'
import type { Log } from '../log.js'

export { BuildInterrupted, type BuildOutcome } from './build-outcome.js'

export interface BuildRunnerOptions {
  store: BuildStore
  builderName: string
  endpoint: string
  /** The docker children's environment (lib/process/child-env.ts), without the git token. */
  env: Record<string, string>
  /**
   * Each project's Git credential (by slug): handed to BuildKit as the GIT_AUTH_TOKEN.<host> secret, through
   * the child's environment only.
   */
  gitCredentials: ReadonlyMap<string, GitCredential | null>
  dataDir: string
  redactor: Redactor
  killGraceMs?: number
  /** Where each docker child's process group is recorded while it runs (ended at the next start if left). */
  groups: GroupRecords
  /** A build found BuildKit unreachable or lost it. */
  onBuilderUnavailable?: (reason: string) => void
  /** A build that loses BuildKit runs again, up to this many attempts in all (default MAX_ATTEMPTS). */
  maxAttempts?: number
  /** Where running builds' logs are announced to followers. */
  live?: LiveLogs
  /** Rolls out the project's workloads once every image is pushed. */
  deployer: Deployer
}

/** How long a failed rollback may take to point the tags it moved back. */
export const RESTORE_TAGS_MS = 60_000

/** Runs every image of a build concurrently and records each result; the caller records the outcome. */
export class BuildRunner {
  readonly #options: BuildRunnerOptions

  constructor (options: BuildRunnerOptions) {
    this.#options = options
  }

  /**
   * Runs every image, then the deploy. The first image to fail cancels its siblings, and a build log that
   * cannot be written stops the build; either way every docker child has exited before the log closes.
   */
  async run (build: BuildRecord, project: ProjectSettings, signal: AbortSignal, log: Log): Promise<BuildOutcome> {
    const options = this.#options
    const buildLog = new BuildLog(buildLogPath(options.dataDir, build.id), options.redactor)
    options.live?.open(build.id, buildLog)
    // Stops this build's children: the scheduler's interrupt, the log failing, or an image failing first.
    const own = new AbortController()
    const stop = AbortSignal.any([signal, own.signal])
    const halt = (reason: BuildInterrupted): void => { if (!stop.aborted) own.abort(reason) }
    buildLog.once('failed', err => {
      log.error({ err }, 'The build log cannot be written: stopping the build.')
      halt(new BuildInterrupted('failed', err.message, 'log-failed'))
    })
    const groups = recordGroups(options.groups, { buildId: build.id, command: build.rollbackOf === null ? 'docker buildx build' : 'docker buildx imagetools create' })
    let cause: number | null = null
    const commit = builtCommit(build)
    buildLog.write('build-hook', `build ${build.id} of ${project.slug} at ${commit} (attempt ${build.attempt})`)
    if (build.commitReason !== null) buildLog.write('build-hook', build.commitReason)
    try {
      // A rollback builds nothing: it restores the images it deploys again (their tags, with restart).
      const names = build.rollbackOf === null ? project.images.map(image => image.name) : build.images.map(image => image.image)
      const results = await Promise.all(names.map(async (name, position): Promise<ImageOutcome> => {
        const result = build.rollbackOf === null
          ? await this.#image(build, project, position, stop, groups, buildLog, log)
          : await this.#restore(build, position, stop, groups, buildLog, log)
        if (result.status === 'failed' && cause === null && !stop.aborted) {
          cause = position
          halt(new BuildInterrupted('cancelled', `cancelled: ${name} failed`))
        }
        return { name, result }
      }))
      let outcome = buildOutcome(results, cause, stop, build.attempt, options.maxAttempts ?? MAX_ATTEMPTS)
      if (build.rollbackOf !== null && outcome.status !== 'succeeded') await this.#unmoveTags(build, results, groups, buildLog, log)
      const outage = results.find(image => image.result.reason !== null && BUILDER_OUTAGES.has(image.result.reason))
      if (outage !== undefined) options.onBuilderUnavailable?.(outage.result.error!)
      // A build whose images did not all push never deploys.
      if (outcome.status === 'succeeded' && project.deployments !== null) outcome = await this.#deploy(build.id, project.deployments, stop, buildLog, log)
      buildLog.write('build-hook', outcome.retry === undefined
        ? `build ${build.id} ${outcome.status}${outcome.error === null ? '' : `: ${outcome.error}`}`
        : `build ${build.id} attempt ${build.attempt} ended (${outcome.retry.reason}): ${outcome.error!}; it runs again as attempt ${build.attempt + 1} once BuildKit is back`)
      return outcome
    } finally {
      await buildLog.close()
      options.live?.close(build.id)
    }
  }

  /** Builds one image and records its result; never rejects (a failure to even start is the image's failure). */
  async #image (build: BuildRecord, project: ProjectSettings, position: number, signal: AbortSignal, groups: GroupTracker, buildLog: BuildLog, log: Log): Promise<ImageBuildResult> {
    const options = this.#options
    const image = project.images[position]!
    const credential = options.gitCredentials.get(project.slug) ?? null
    const env = credential === null ? options.env : { ...options.env, [GIT_AUTH_SECRET]: credential.token }
    options.store.updateImage(build.id, position, { status: 'running' })
    let result: ImageBuildResult
    try {
      result = await buildImage({
        spec: { builder: options.builderName, image, repositoryUrl: project.code.url, commit: builtCommit(build), gitAuthHost: credential?.host ?? null },
        endpoint: options.endpoint,
        tmpRoot: tmpDir(options.dataDir),
        env,
        signal,
        killGraceMs: options.killGraceMs,
        groups,
        onLine: this.#lines(image.repository, buildLog, log)
      })
    } catch (err) {
      // Its temporary directory could not be made (a full or read-only DATA_DIR): no docker child started.
      log.error({ err, image: image.name }, 'The image build could not start.')
      result = { status: 'failed', digest: null, durationMs: 0, error: `the build could not start: ${(err as Error).message}`, reason: 'unknown' }
    }
    return this.#imageDone(build, position, image.name, result, signal, buildLog, log)
  }

  /**
   * A rollback's image: its tag pointed back at the digest it deploys (`docker buildx imagetools create`);
   * with the digest strategy no tag moves, and the image is ready as it is.
   */
  async #restore (build: BuildRecord, position: number, signal: AbortSignal, groups: GroupTracker, buildLog: BuildLog, log: Log): Promise<ImageBuildResult> {
    const options = this.#options
    const image = build.images[position]!
    const digest = image.digest!
    if (image.tags.length === 0) {
      return this.#imageDone(build, position, image.image, { status: 'succeeded', digest, durationMs: 0, error: null, reason: null }, signal, buildLog, log)
    }
    options.store.updateImage(build.id, position, { status: 'running' })
    const tag = `${image.image}:${image.tags[0]!}`
    buildLog.write('build-hook', `${tag}: pointing it back at ${digest}, pushed by build ${build.rollbackOf!}`)
    const result: ImageBuildResult = await retagImage({
      spec: { builder: options.builderName, source: `${image.image}@${digest}`, tag },
      env: options.env,
      signal,
      killGraceMs: options.killGraceMs,
      groups,
      // Named in full: the image is the one that build pushed, whatever the config says now.
      onLine: this.#lines(image.image, buildLog, log)
    })
    // The digest stays what the rollback deploys, moved or not (it runs again with it after a restart).
    return this.#imageDone(build, position, image.image, { ...result, digest }, signal, buildLog, log)
  }

  /**
   * A rollback that did not restore every image leaves no tag half moved: each tag it moved (or may have,
   * when interrupted) points again at the digest the project's current deploy runs. Best effort, after the
   * rollback's own signal ended, within RESTORE_TAGS_MS; what cannot be put back is said in the build log.
   */
  async #unmoveTags (build: BuildRecord, results: readonly ImageOutcome[], groups: GroupTracker, buildLog: BuildLog, log: Log): Promise<void> {
    const options = this.#options
    const current = options.store.deploys.current(build.project)
    const signal = AbortSignal.timeout(RESTORE_TAGS_MS)
    await Promise.all(build.images.map(async (image, position) => {
      if (image.tags.length === 0 || results[position]!.result.status === 'failed') return // never moved
      const tag = `${image.image}:${image.tags[0]!}`
      const digest = current?.digests[image.image]
      if (digest === undefined) {
        buildLog.write('build-hook', `${tag} stays at ${image.digest!}: no deploy of ${build.project} records what it pointed at before`)
        return
      }
      // Its docker child is recorded like any other, so a killed hook's next start ends it.
      const result = await retagImage({
        spec: { builder: options.builderName, source: `${image.image}@${digest}`, tag },
        env: options.env,
        signal,
        killGraceMs: options.killGraceMs,
        groups,
        onLine: this.#lines(image.image, buildLog, log)
      })
      // No error: it was interrupted (RESTORE_TAGS_MS ran out).
      const error = result.error === null ? 'interrupted' : options.redactor.redact(result.error)
      if (result.status === 'succeeded') {
        buildLog.write('build-hook', `${tag} points again at ${digest}, as deployed by build ${current!.build}`)
        return
      }
      buildLog.write('build-hook', `${tag} could not be pointed back at ${digest}: ${error}`)
      log.error({ tag, digest, error }, 'A tag moved by a failed rollback could not be pointed back.')
    }))
  }

  /** A docker child's output: into the build log under the image's repository, and (debug) the service log. */
  #lines (repository: string, buildLog: BuildLog, log: Log): (line: string) => void {
    return line => {
      const written = buildLog.write(repository, line)
      if (written !== null) log.debug({ image: repository }, written)
    }
  }

  /** Records an image's result (an interrupted one with why it was interrupted), redacted, in store, log and build log. */
  #imageDone (build: BuildRecord, position: number, name: string, image: ImageBuildResult, signal: AbortSignal, buildLog: BuildLog, log: Log): ImageBuildResult {
    const options = this.#options
    let result = image
    if (result.status === 'cancelled') {
      const stopped = signal.reason as BuildInterrupted
      result = { ...result, error: stopped.message, reason: stopped.reason }
    }
    const error = result.error === null ? null : options.redactor.redact(result.error)
    options.store.updateImage(build.id, position, { status: result.status, digest: result.digest, durationMs: result.durationMs, error, reason: result.reason })
    buildLog.write('build-hook', `${name}: ${result.status}${error === null ? '' : `: ${error}`}${result.digest === null ? '' : ` (${result.digest})`}`)
    log.info({ image: name, status: result.status, durationMs: result.durationMs, digest: result.digest, ...(result.reason === null ? {} : { reason: result.reason }) }, 'Image finished.')
    return { ...result, error }
  }

  /**
   * Rolls the images out (docs/contract.md "Deploy by digest", "Never deploy backwards"): not at all when a newer build
   * of the project has deployed meanwhile; else by the project's strategy, recording in the project's deploy
   * history what the workloads were changed to.
   */
  async #deploy (id: number, deployments: DeploymentSettings, signal: AbortSignal, buildLog: BuildLog, log: Log): Promise<BuildOutcome> {
    const { store, deployer } = this.#options
    const { strategy } = deployments
    const build = store.get(id)! // with the digests just pushed
    const current = store.deploys.current(build.project)
    if (current !== null && current.build > build.id) {
      const reason = `build ${current.build} (${current.commit.slice(0, 12)}), newer than this one, deployed at ${current.at}: an older build never deploys over it`
      store.setDeploy(id, { status: 'skipped', error: null, strategy, reason })
      buildLog.write('deploy', `skipped: ${reason}`)
      log.info({ deployed: current.build }, 'Deploy skipped: a newer build has deployed.')
      return { status: 'succeeded', error: null }
    }
    store.setDeploy(id, { status: 'running', error: null, strategy })
    const started = performance.now()
    const images = build.images.map(image => ({ repository: image.image, digest: image.digest! }))
    // From the first patch on, the workloads run (or roll out) this build's images: the deploy history says so
    // at once, and then how the rollout ended (a crash during the rollout leaves it 'running').
    const commit = builtCommit(build)
    const result = await deployer.deploy(deployments, { signal, images, onLine: line => buildLog.write('deploy', line), onChanged: () => store.recordDeploy(id, { strategy, status: 'running', commit }) })
    store.setDeploy(id, { status: result.status, error: result.error })
    if (result.changed) store.recordDeploy(id, { strategy, status: result.status, commit })
    log.info({ status: result.status, strategy, durationMs: Math.round(performance.now() - started), ...(result.error === null ? {} : { error: result.error }) }, 'Deploy finished.')
    if (signal.aborted) return this.#interrupted(signal)
    return result.status === 'succeeded' ? { status: 'succeeded', error: null } : { status: 'failed', error: `deploy: ${result.error!}` }
  }

  #interrupted (signal: AbortSignal): BuildOutcome {
    // Only the scheduler and the build's own log interrupt a deploy, always with a BuildInterrupted.
    const reason = signal.reason as BuildInterrupted
    return { status: reason.status, error: reason.message }
  }
}

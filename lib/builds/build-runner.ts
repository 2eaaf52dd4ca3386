import type { DeploymentSettings, ProjectSettings } from '../config/index.js'
import { GIT_AUTH_SECRET } from '../buildx/build-argv.js'
import { buildImage, type ImageBuildResult } from '../buildx/image-build.js'
import type { BuildStore } from '../store/build-store.js'
import type { Redactor } from '../secrets/redactor.js'
import { BuildLog, buildLogPath } from './build-log.js'
import { tmpDir } from './tmp-dir.js'
import type { LiveLogs } from './live-logs.js'
import type { Deployer } from '../kube/kube-deployer.js'
import { builtCommit, type BuildRecord, type BuildStatus } from './record.js'
import type { Log } from '../log.js'

/** Why a running build was interrupted: the AbortSignal's reason. */
export class BuildInterrupted extends Error {
  constructor (readonly status: 'failed' | 'cancelled', message: string) {
    super(message)
    this.name = 'BuildInterrupted'
  }
}

export interface BuildOutcome {
  status: Extract<BuildStatus, 'succeeded' | 'failed' | 'cancelled'>
  error: string | null
}

export interface BuildRunnerOptions {
  store: BuildStore
  builderName: string
  endpoint: string
  /** The docker children's environment (lib/process/child-env.ts), without the git token. */
  env: Record<string, string>
  /** GIT_TOKEN: handed to BuildKit as the GIT_AUTH_TOKEN secret, through the child's environment only. */
  gitToken: string | null
  dataDir: string
  redactor: Redactor
  killGraceMs?: number
  maxLogBytes?: number
  /** A build found BuildKit unreachable. */
  onBuilderUnavailable?: (reason: string) => void
  /** Where running builds' logs are announced to followers. */
  live?: LiveLogs
  /** Rolls out the project's workloads once every image is pushed. */
  deployer: Deployer
}

/** Runs every image of a build concurrently and records each result; the caller records the outcome. */
export class BuildRunner {
  readonly #options: BuildRunnerOptions

  constructor (options: BuildRunnerOptions) {
    this.#options = options
  }

  async run (build: BuildRecord, project: ProjectSettings, signal: AbortSignal, log: Log): Promise<BuildOutcome> {
    const options = this.#options
    const buildLog = new BuildLog(buildLogPath(options.dataDir, build.id), options.redactor, options.maxLogBytes)
    options.live?.open(build.id, buildLog)
    const env = options.gitToken === null ? options.env : { ...options.env, [GIT_AUTH_SECRET]: options.gitToken }
    const commit = builtCommit(build)
    buildLog.write('build-hook', `build ${build.id} of ${project.slug} at ${commit} (attempt ${build.attempt})`)
    if (build.commitReason !== null) buildLog.write('build-hook', build.commitReason)
    try {
      const results = await Promise.all(project.images.map(async (image, position): Promise<ImageBuildResult> => {
        options.store.updateImage(build.id, position, { status: 'running' })
        const result = await buildImage({
          spec: { builder: options.builderName, image, repositoryUrl: project.code.url, commit, gitAuth: options.gitToken !== null },
          endpoint: options.endpoint,
          tmpRoot: tmpDir(options.dataDir),
          env,
          signal,
          killGraceMs: options.killGraceMs,
          onLine: line => {
            const written = buildLog.write(image.repository, line)
            if (written !== null) log.debug({ image: image.repository }, written)
          }
        })
        const error = result.error === null ? null : options.redactor.redact(result.error)
        options.store.updateImage(build.id, position, { status: result.status, digest: result.digest, durationMs: result.durationMs, error })
        buildLog.write('build-hook', `${image.name}: ${result.status}${error === null ? '' : `: ${error}`}${result.digest === null ? '' : ` (${result.digest})`}`)
        log.info({ image: image.name, status: result.status, durationMs: result.durationMs, digest: result.digest }, 'Image finished.')
        return { ...result, error }
      }))
      let outcome = this.#outcome(results, project, signal)
      // A build whose images did not all push never deploys.
      if (outcome.status === 'succeeded' && project.deployments !== null) outcome = await this.#deploy(build, project.deployments, signal, buildLog, log)
      buildLog.write('build-hook', `build ${build.id} ${outcome.status}${outcome.error === null ? '' : `: ${outcome.error}`}`)
      return outcome
    } finally {
      await buildLog.close()
      options.live?.close(build.id)
    }
  }

  async #deploy (build: BuildRecord, deployments: DeploymentSettings, signal: AbortSignal, buildLog: BuildLog, log: Log): Promise<BuildOutcome> {
    const { store, deployer } = this.#options
    store.setDeploy(build.id, { status: 'running', error: null })
    const started = performance.now()
    const result = await deployer.deploy(deployments, { signal, onLine: line => buildLog.write('deploy', line) })
    store.setDeploy(build.id, result)
    log.info({ status: result.status, durationMs: Math.round(performance.now() - started), ...(result.error === null ? {} : { error: result.error }) }, 'Deploy finished.')
    if (signal.aborted) return this.#interrupted(signal)
    return result.status === 'succeeded' ? { status: 'succeeded', error: null } : { status: 'failed', error: `deploy: ${result.error!}` }
  }

  #interrupted (signal: AbortSignal): BuildOutcome {
    // The scheduler is the only one to interrupt a build, always with a BuildInterrupted.
    const reason = signal.reason as BuildInterrupted
    return { status: reason.status, error: reason.message }
  }

  #outcome (results: ImageBuildResult[], project: ProjectSettings, signal: AbortSignal): BuildOutcome {
    if (signal.aborted) return this.#interrupted(signal)
    const failed = results.flatMap((result, i) => result.status === 'failed' ? [{ image: project.images[i]!, result }] : [])
    if (failed.length === 0) return { status: 'succeeded', error: null }
    const unavailable = failed.find(f => f.result.builderUnavailable)
    if (unavailable !== undefined) this.#options.onBuilderUnavailable?.(unavailable.result.error!)
    const first = failed[0]!
    const more = failed.length > 1 ? ` (and ${failed.length - 1} more image${failed.length > 2 ? 's' : ''} failed)` : ''
    return { status: 'failed', error: `${first.image.name}: ${first.result.error!}${more}` }
  }
}

import type { CacheMode, DeployStrategy } from './schema.js'
import type { ResourceRef } from './rules.js'

// The validated, normalised configuration every other module receives (frozen, never re-checked).

export interface TlsSettings {
  ca: string | null
  cert: string | null
  key: string | null
  serverName: string | null
}

export interface BuilderSettings {
  name: string
  endpoint: string
  tls: TlsSettings | null
  maxConcurrentBuilds: number
  timeoutSeconds: number
  /** On shutdown, how long running builds may go on before they are interrupted. */
  shutdownGraceSeconds: number
}

export interface ImageSettings {
  repository: string
  /** registry/repository, without a tag. */
  name: string
  tag: string
  /** The Dockerfile path as written in the config, relative to the repository root. */
  location: string
  /** Build context directory relative to the repository root ('.' for the root). */
  context: string
  /** The Dockerfile path relative to the context directory, as buildx's -f wants it for a git context. */
  dockerfile: string
  target: string | null
  platforms: readonly string[]
  buildArgs: Readonly<Record<string, string>>
  cache: CacheMode
}

export interface DeploymentSettings {
  namespace: string
  resources: readonly ResourceRef[]
  /**
   * restart: restart the workloads as `kubectl rollout restart` does (pods re-pull a mutable tag only with
   * imagePullPolicy: Always); digest: pin each container of a built image to the digest pushed, as
   * `kubectl set image` does.
   */
  strategy: DeployStrategy
  wait: boolean
  timeoutSeconds: number
}

export interface ProjectSettings {
  name: string
  slug: string
  code: {
    url: string
    branch: string
    /** Name of the environment variable holding this project's Git token, sent to code.url's host only. */
    tokenEnv: string | null
  }
  images: readonly ImageSettings[]
  deployments: DeploymentSettings | null
  /** Name of the environment variable holding this project's webhook secret (project's own, else app's). */
  webhookSecretEnv: string | null
  /** Accept GitHub's legacy SHA-1 X-Hub-Signature when a delivery has no X-Hub-Signature-256. */
  webhookAllowSha1: boolean
}

export interface Settings {
  /** Absolute path of the file these settings came from. */
  source: string
  registry: string
  /** Finished builds kept per project (with their logs); older ones are deleted. */
  keepBuilds: number
  builder: BuilderSettings
  projects: readonly ProjectSettings[]
}

export const DEFAULTS = Object.freeze({
  builderName: 'build-hook',
  builderEndpoint: 'tcp://buildkitd.build.svc.cluster.local:1234',
  maxConcurrentBuilds: 2,
  buildTimeoutSeconds: 3600,
  shutdownGraceSeconds: 120,
  keepBuilds: 100,
  cache: 'registry' as CacheMode,
  deployStrategy: 'restart' as DeployStrategy,
  deployWait: true,
  deployTimeoutSeconds: 600
})

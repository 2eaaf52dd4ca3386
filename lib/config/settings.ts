import type { CacheMode, DeployStrategy, NotifyEvent, NotifyFormat, StatusProvider } from './schema.js'
import type { NamedVariable } from './named-variables.js'
import type { ResourceRef } from './rules.js'

// The validated, normalised configuration every other module receives (frozen, never re-checked).

export interface TlsSettings {
  ca: string | null
  cert: string | null
  key: string | null
  serverName: string | null
}

/** One BuildKit node of the buildx builder. */
export interface BuilderNode {
  /** <builder>-<index> for [[app.builder.nodes]]; buildx's own <builder>0 for a single app.builder.endpoint. */
  name: string
  endpoint: string
  /** Empty only for a single app.builder.endpoint: created as before, without --node and --platform. */
  platforms: readonly string[]
  tls: TlsSettings | null
}

export interface BuilderSettings {
  name: string
  /** The first node's endpoint (the only one with a single app.builder.endpoint). */
  endpoint: string
  /** The first node's TLS options. */
  tls: TlsSettings | null
  /** Every node, in config order; one for a single app.builder.endpoint. */
  nodes: readonly BuilderNode[]
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

/** [projects.status]: each build reported on its commit through the Git host's commit status API. */
export interface StatusSettings {
  /** github, gitlab, gitea, forgejo or bitbucket (Bitbucket Cloud); inferred from code.url for the public hosts. */
  provider: StatusProvider
  /** The API root the host's status path is appended to, without a trailing slash (e.g. https://api.github.com). */
  apiUrl: string
  /**
   * The repository as the API names it: owner/repo (GitHub, Gitea, Forgejo), workspace/repo_slug
   * (Bitbucket), or the full namespace/path (GitLab, URL-encoded only when the request is made).
   */
  repository: string
  /** The status's name on the commit (GitHub/Gitea context, GitLab name, Bitbucket key); default build-hook/<slug>. */
  context: string
  /** Name of the environment variable holding the API token. */
  tokenEnv: string
}

/** One [[projects.notify]] entry: an outgoing webhook for chosen build events. */
export interface NotifySettings {
  url: string
  events: readonly NotifyEvent[]
  /** json: the build record (signed when secretEnv is set); slack: an incoming-webhook message. */
  format: NotifyFormat
  /** Name of the environment variable holding the HMAC secret that signs the body; null: unsigned. */
  secretEnv: string | null
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
  /** Commit statuses for this project's builds; null: none. */
  status: StatusSettings | null
  notify: readonly NotifySettings[]
}

export interface Settings {
  /** Absolute path of the file these settings came from. */
  source: string
  registry: string
  /** app.public_url without a trailing slash: links back to a build are <publicUrl>/ui/builds/<id>; null: no links. */
  publicUrl: string | null
  /** Finished builds kept per project (with their logs); older ones are deleted. */
  keepBuilds: number
  builder: BuilderSettings
  projects: readonly ProjectSettings[]
  /** The environment variables the config names (secrets and tokens), each with the keys that name it. */
  variables: readonly NamedVariable[]
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
  deployTimeoutSeconds: 600,
  notifyEvents: ['succeeded', 'failed'] as readonly NotifyEvent[],
  notifyFormat: 'json' as NotifyFormat
})

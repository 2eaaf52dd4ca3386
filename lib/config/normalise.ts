import path from 'node:path'
import { canonicalPlatform } from './platform.js'
import type { ConfigFile, ImageFile, ProjectFile, TlsFile } from './schema.js'
import { parseResource, type ResourceRef } from './rules.js'
import { namedVariables } from './named-variables.js'
import {
  DEFAULTS, type BuilderNode, type ImageSettings, type NotifySettings, type ProjectSettings, type Settings, type StatusSettings, type TlsSettings
} from './settings.js'
import { DEFAULT_CONTEXT_PREFIX, inferProvider, statusTarget, withoutTrailingSlashes } from './status-target.js'

export interface SettingsOverrides {
  /** BUILDKIT_HOST: replaces app.builder.endpoint. */
  builderEndpoint?: string | undefined
}

/** Turns a file that passed validation into frozen settings with every default filled in. */
export function normalise (file: ConfigFile, source: string, overrides: SettingsOverrides = {}): Settings {
  const builder = file.app.builder ?? {}
  const name = builder.name ?? DEFAULTS.builderName
  const nodes: BuilderNode[] = builder.nodes === undefined
    ? [{
        name: `${name}0`,
        endpoint: overrides.builderEndpoint ?? builder.endpoint ?? DEFAULTS.builderEndpoint,
        platforms: [],
        tls: builder.tls === undefined ? null : tlsSettings(builder.tls)
      }]
    : builder.nodes.map((node, i) => ({
      name: `${name}-${i}`,
      endpoint: node.endpoint,
      platforms: node.platforms.map(canonicalPlatform),
      tls: node.tls === undefined ? null : tlsSettings(node.tls)
    }))
  const settings: Settings = {
    source,
    registry: file.app.registry,
    publicUrl: file.app.public_url === undefined ? null : withoutTrailingSlashes(file.app.public_url),
    keepBuilds: file.app.keep_builds ?? DEFAULTS.keepBuilds,
    builder: {
      name,
      endpoint: nodes[0]!.endpoint,
      tls: nodes[0]!.tls,
      nodes,
      maxConcurrentBuilds: builder.max_concurrent_builds ?? DEFAULTS.maxConcurrentBuilds,
      timeoutSeconds: builder.timeout_seconds ?? DEFAULTS.buildTimeoutSeconds,
      shutdownGraceSeconds: builder.shutdown_grace_seconds ?? DEFAULTS.shutdownGraceSeconds
    },
    projects: file.projects.map(project => projectSettings(project, file)),
    variables: namedVariables(file)
  }
  return deepFreeze(settings)
}

function tlsSettings (tls: TlsFile): TlsSettings {
  return { ca: tls.ca ?? null, cert: tls.cert ?? null, key: tls.key ?? null, serverName: tls.server_name ?? null }
}

function projectSettings (project: ProjectFile, file: ConfigFile): ProjectSettings {
  const deployments = project.deployments
  return {
    name: project.name,
    slug: project.slug,
    code: { url: project.code.url, branch: project.code.branch, tokenEnv: project.code.token_env ?? null },
    images: project.image.map(image => imageSettings(image, file.app.registry)),
    deployments: deployments === undefined
      ? null
      : {
          namespace: deployments.namespace,
          resources: deployments.resources.map(resource => parseResource(resource) as ResourceRef),
          strategy: deployments.strategy ?? DEFAULTS.deployStrategy,
          wait: deployments.wait ?? DEFAULTS.deployWait,
          timeoutSeconds: deployments.timeout_seconds ?? DEFAULTS.deployTimeoutSeconds
        },
    webhookSecretEnv: project.webhook?.secret_env ?? file.app.webhook?.secret_env ?? null,
    webhookAllowSha1: project.webhook?.allow_sha1 ?? file.app.webhook?.allow_sha1 ?? false,
    status: project.status === undefined ? null : statusSettings(project.status, project),
    notify: (project.notify ?? []).map(notifySettings)
  }
}

function statusSettings (status: NonNullable<ProjectFile['status']>, project: ProjectFile): StatusSettings {
  const codeUrl = new URL(project.code.url)
  // Validation rejected gogs, and a missing provider where code.url's host does not imply one.
  const provider = status.provider === undefined ? inferProvider(codeUrl)! : status.provider as StatusSettings['provider']
  const target = statusTarget(provider, codeUrl, status.api_url)
  return {
    provider,
    apiUrl: target.apiUrl,
    repository: target.repository.join('/'),
    context: status.context ?? `${DEFAULT_CONTEXT_PREFIX}${project.slug}`,
    tokenEnv: status.token_env
  }
}

function notifySettings (notify: NonNullable<ProjectFile['notify']>[number]): NotifySettings {
  return {
    url: notify.url,
    events: notify.events ?? [...DEFAULTS.notifyEvents],
    format: notify.format ?? DEFAULTS.notifyFormat,
    secretEnv: notify.secret_env ?? null
  }
}

function imageSettings (image: ImageFile, registry: string): ImageSettings {
  const location = path.posix.normalize(image.location)
  // As the original service: the build context is the Dockerfile's directory unless set.
  const context = path.posix.normalize(image.context ?? path.posix.dirname(location))
  return {
    repository: image.repository,
    name: `${registry}/${image.repository}`,
    tag: image.tag,
    location,
    context,
    dockerfile: path.posix.relative(context === '.' ? '' : context, location),
    target: image.target ?? null,
    platforms: image.platforms ?? [],
    buildArgs: image.build_args ?? {},
    cache: image.cache ?? DEFAULTS.cache
  }
}

function deepFreeze<T> (value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value)
    for (const child of Object.values(value)) deepFreeze(child)
  }
  return value
}

import type { ImageSettings } from '../config/index.js'

export interface ImageBuildSpec {
  /** The buildx builder to use (--builder on every call, never `buildx use`). */
  builder: string
  image: ImageSettings
  /** The repository URL as configured (the OCI source label). */
  repositoryUrl: string
  /** Full 40-hex commit SHA the build is pinned to. */
  commit: string
  /** Where buildx writes the build's metadata (the pushed digest). */
  metadataFile: string
  /**
   * The host BuildKit may send the project's Git token to (GIT_AUTH_TOKEN in the child's environment), or
   * null when the project has none.
   */
  gitAuthHost: string | null
}

/** The child's environment variable that holds the Git token for BuildKit. */
export const GIT_AUTH_SECRET = 'GIT_AUTH_TOKEN'

/**
 * The build secret BuildKit offers to one git host only: it looks up GIT_AUTH_TOKEN.<host> (the URL's host
 * as written) before the plain GIT_AUTH_TOKEN that it would offer to every host the build fetches from.
 */
export function gitAuthSecretFlag (host: string): string {
  return `id=${GIT_AUTH_SECRET}.${host},env=${GIT_AUTH_SECRET}`
}

/** The tag every build adds for its commit: sha-<first 12 hex>. */
export function commitTag (commit: string): string {
  return `sha-${commit.slice(0, 12)}`
}

/**
 * BuildKit's remote git context, pinned to the commit: `<url>.git#<sha>[:<dir>]`. buildx treats an http(s)
 * URL as git only when its path ends in .git (otherwise it downloads it as a tarball).
 */
export function gitContext (repositoryUrl: string, commit: string, contextDir: string): string {
  const url = repositoryUrl.replace(/\/+$/, '')
  const git = url.endsWith('.git') ? url : `${url}.git`
  return `${git}#${commit}${contextDir === '.' ? '' : `:${contextDir}`}`
}

function cacheFlags (image: ImageSettings): string[] {
  switch (image.cache) {
    case 'registry': {
      const ref = `${image.name}:buildcache`
      return ['--cache-from', `type=registry,ref=${ref}`, '--cache-to', `type=registry,ref=${ref},mode=max`]
    }
    case 'inline':
      return ['--cache-from', `type=registry,ref=${image.name}:${image.tag}`, '--cache-to', 'type=inline']
    case 'none':
      return []
  }
}

/** The argv (after `docker`) of one image's build: docs/contract.md, Builds, Images. */
export function buildArgv (spec: ImageBuildSpec): string[] {
  const { image, commit } = spec
  return [
    'buildx', 'build',
    '--builder', spec.builder,
    '--progress=plain',
    '--push',
    '-t', `${image.name}:${image.tag}`,
    '-t', `${image.name}:${commitTag(commit)}`,
    '--label', `org.opencontainers.image.revision=${commit}`,
    '--label', `org.opencontainers.image.source=${spec.repositoryUrl}`,
    '--metadata-file', spec.metadataFile,
    ...cacheFlags(image),
    ...(image.target === null ? [] : ['--target', image.target]),
    ...(image.platforms.length === 0 ? [] : ['--platform', image.platforms.join(',')]),
    ...Object.entries(image.buildArgs).flatMap(([name, value]) => ['--build-arg', `${name}=${value}`]),
    ...(spec.gitAuthHost === null ? [] : ['--secret', gitAuthSecretFlag(spec.gitAuthHost)]),
    '-f', image.dockerfile,
    gitContext(spec.repositoryUrl, commit, image.context)
  ]
}

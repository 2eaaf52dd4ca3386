import type { FailureReason } from '../schemas/build.js'
import { TOKEN_HINT } from '../git/credentials.js'
import type { ProcessResult } from '../process/run-process.js'

/** What a failure message can name: the things a user would go and check. */
export interface FailureContext {
  endpoint: string
  repositoryUrl: string
  commit: string
  /** The Dockerfile path in the repository, as configured. */
  location: string
}

/** A failed docker run: why (decides what happens next), and one line a user can act on. */
export interface Failure {
  reason: FailureReason
  message: string
}

/** Failures that are BuildKit's, not the build's: the builder needs bootstrapping and the build runs again. */
export const BUILDER_OUTAGES: ReadonlySet<FailureReason> = new Set(['builder-unreachable', 'builder-connection-lost'])

const MAX_ERROR_LENGTH = 500

/** The last lines of a failed step's output (buildx prints them between ------ fences). */
function stepOutput (lines: readonly string[]): string[] {
  const start = lines.findIndex(line => /^ > \[.*\]/.test(line))
  if (start < 0) return []
  const end = lines.findIndex((line, i) => i > start && line === '------')
  return lines.slice(start + 1, end < 0 ? undefined : end).map(line => line.replace(/^\d+\.\d+ /, '').trim()).filter(Boolean).slice(-3)
}

function truncate (text: string): string {
  return text.length <= MAX_ERROR_LENGTH ? text : `${text.slice(0, MAX_ERROR_LENGTH - 1)}…`
}

/**
 * buildx's final error: from its last line that starts with `ERROR:` to the end (git's stderr follows on
 * lines of its own). Earlier `ERROR` lines are progress (a first build's missing cache, a step's own
 * line) and must not decide anything. Without an ERROR line, everything printed.
 */
function finalError (lines: readonly string[]): string {
  let last = -1
  for (let i = lines.length - 1; i >= 0; i--) {
    if (lines[i]!.startsWith('ERROR:')) {
      last = i
      break
    }
  }
  return lines.slice(Math.max(last, 0)).join('\n')
}

/** A git failure's own line (`fatal: ...`), without git's prefix. */
function gitCause (text: string): string {
  const fatal = text.match(/^fatal: (.+)$/m)
  return fatal === null ? 'git failed' : fatal[1]!
}

const NETWORK = /(connection refused|no such host|i\/o timeout|network is unreachable|context deadline exceeded|connection reset by peer)/

/** The short cause of a registry error (what follows the reference): `not authorised`, a network error, `not found`, or itself. */
function registryCause (rest: string): string {
  if (/insufficient_scope|authorization failed|access denied|unauthorized|401 Unauthorized|403 Forbidden/i.test(rest)) return 'not authorised'
  const network = rest.match(NETWORK)
  if (network !== null) return network[1]!
  if (/: not found$/m.test(rest)) return 'not found'
  return truncate(rest.split('\n')[0]!)
}

export const DOCKER_MISSING = "docker is not installed: no 'docker' executable on PATH"
export const BUILDX_MISSING = "the docker buildx plugin is not installed: docker has no 'buildx' command (install your distribution's docker-buildx-plugin package, or put the docker-buildx binary in ~/.docker/cli-plugins/ or, with DOCKER_CONFIG set, in $DOCKER_CONFIG/cli-plugins/)"

/**
 * docker without a buildx plugin runs its root command with buildx's arguments (docker CLI 28,
 * cmd/docker/docker.go): a command with flags fails on the first one, exit 125 with the root's usage line
 * (`unknown flag: --format ... Usage:  docker [OPTIONS] COMMAND [ARG...]`); one without flags exits 1 with
 * `docker: unknown command: docker buildx`. Docker before 23 said `'buildx' is not a docker command`.
 */
function buildxMissing (result: ProcessResult, text: string): boolean {
  return (result.code === 125 && /^Usage: {2}docker \[OPTIONS\] COMMAND/m.test(text)) ||
    /^docker: unknown command: docker buildx$|'buildx' is not a docker command/m.test(text)
}

/** docker not runnable, or without its buildx plugin: the same for every `docker buildx` command. */
function toolFailure (result: ProcessResult, text: string): Failure | null {
  if (result.spawnError !== null) {
    return {
      reason: 'docker-missing',
      message: result.spawnError.code === 'ENOENT' ? DOCKER_MISSING : `cannot run docker: ${result.spawnError.message}`
    }
  }
  if (buildxMissing(result, text)) return { reason: 'buildx-missing', message: BUILDX_MISSING }
  return null
}

/**
 * Why a docker run failed, from its spawn error or exit status and the lines it printed (stderr, in order).
 * The patterns are the real CLI's messages (docs/buildx-facts.md); the most specific is tried first, and
 * only buildx's final error is read, so a registry or Git host that refuses a connection is never taken for
 * BuildKit.
 */
export function classifyFailure (result: ProcessResult, lines: readonly string[], context: FailureContext): Failure {
  const text = finalError(lines)
  return toolFailure(result, text) ?? buildFailure(text, lines, context) ?? builderOrUnknown(result, text, context.endpoint, ' during the build')
}

/**
 * Why one of the builder's own docker runs failed (`buildx ls`, `create`, `inspect --bootstrap`, `rm`): the
 * tool, BuildKit at `endpoint`, or buildx's final error. Nothing of a build (repository, commit, Dockerfile)
 * is involved.
 */
export function describeBuilderFailure (result: ProcessResult, lines: readonly string[], endpoint: string): string {
  const text = finalError(lines)
  return (toolFailure(result, text) ?? builderOrUnknown(result, text, endpoint, '')).message
}

/** The failures only a build has: its push, base image, repository, Dockerfile or a step; null for others. */
function buildFailure (text: string, lines: readonly string[], context: FailureContext): Failure | null {
  const short = context.commit.slice(0, 12)
  let match: RegExpMatchArray | null
  if ((match = text.match(/failed to push ([^\s:]+(?::[^\s:]+)?): (.*)/)) !== null) {
    const cause = registryCause(match[2]!)
    if (cause === 'not authorised') {
      return { reason: 'push-denied', message: `the registry refused the push of ${match[1]!}: not authorised (check the registry credentials in the Docker config)` }
    }
    return { reason: 'push-failed', message: NETWORK.test(cause) ? `the registry is unreachable: pushing ${match[1]!} failed (${cause})` : `pushing ${match[1]!} failed: ${cause}` }
  }
  if ((match = text.match(/failed to resolve source metadata for (\S+?): ([^]*)/)) !== null) {
    return { reason: 'base-image-pull-failed', message: `the base image ${match[1]!} could not be pulled (${registryCause(match[2]!)}): check the FROM line and that its registry is reachable from BuildKit` }
  }
  if (/could not read Username|Authentication failed|terminal prompts disabled/.test(text)) {
    return { reason: 'git-auth', message: `BuildKit could not fetch ${context.repositoryUrl}: authentication required (${TOKEN_HINT})` }
  }
  if (/reference is not a tree|repository does not contain ref/.test(text)) {
    return { reason: 'commit-not-found', message: `commit ${context.commit} was not found in ${context.repositoryUrl}` }
  }
  if (/failed to (fetch|checkout) remote /.test(text)) {
    return { reason: 'git-fetch-failed', message: truncate(`BuildKit could not fetch ${context.repositoryUrl}: ${gitCause(text)} (is the Git host up and reachable from BuildKit?)`) }
  }
  if (/failed to read dockerfile: open .*: no such file or directory/.test(text)) {
    return { reason: 'dockerfile-not-found', message: `Dockerfile '${context.location}' not found in ${context.repositoryUrl} at commit ${short}` }
  }
  if ((match = text.match(/process "(?:\/bin\/sh -c )?(.*)" did not complete successfully: exit code: (\d+)/)) !== null) {
    const output = stepOutput(lines)
    return { reason: 'step-failed', message: truncate(`build step 'RUN ${match[1]!}' failed with exit code ${match[2]!}${output.length > 0 ? `: ${output.join(' | ')}` : ''}`) }
  }
  return null
}

/**
 * BuildKit lost or unreachable at `endpoint`, else buildx's final error, else the exit status. `during` says
 * what the connection was lost during (' during the build'), or nothing for the builder's own commands.
 */
function builderOrUnknown (result: ProcessResult, text: string, endpoint: string, during: string): Failure {
  let match: RegExpMatchArray | null
  if ((match = text.match(/rpc error: code = Unavailable desc = (.*)$/m)) !== null) {
    return { reason: 'builder-connection-lost', message: `the connection to BuildKit at ${endpoint} was lost${during} (${match[1]!})` }
  }
  // Only a failure to reach BuildKit itself ends with these, before any solve started.
  if (/^ERROR: (failed to build: )?(context deadline exceeded|.*Cannot connect to the BuildKit)/.test(text)) {
    return { reason: 'builder-unreachable', message: `BuildKit is unreachable at ${endpoint} (context deadline exceeded)` }
  }
  if (text.startsWith('ERROR:')) {
    return { reason: 'unknown', message: truncate(text.split('\n')[0]!.replace(/^ERROR: (failed to build: )?(failed to solve: )?/, '')) }
  }
  return { reason: 'unknown', message: `docker exited with code ${String(result.code)}` }
}

/** What a retag names: the image (`<registry>/<repository>@sha256:…`) its tag (`<registry>/<repository>:<tag>`) is pointed back at. */
export interface RetagContext {
  builder: string
  source: string
  tag: string
}

/** Errors from the registry (containerd's resolver and pusher), as opposed to buildx refusing its arguments. */
const REGISTRY_ERROR = /unexpected status from|failed to do request|failed commit on ref|failed to copy|authorization failed|access denied/

/**
 * Why a `docker buildx imagetools create` failed. It never talks to BuildKit, so its failures are the tool's,
 * the builder's name, and the registry's (buildx v0.28 commands/imagetools/create.go, containerd's docker
 * resolver and pusher): the source gone (`<ref>: not found`), the registry refusing or unreachable.
 */
export function classifyRetagFailure (result: ProcessResult, lines: readonly string[], context: RetagContext): Failure {
  const text = finalError(lines)
  const tool = toolFailure(result, text)
  if (tool !== null) return tool
  const digest = context.source.slice(context.source.lastIndexOf('@') + 1)
  let match: RegExpMatchArray | null
  if (/^ERROR: no builder ".*" found/.test(text)) {
    return { reason: 'unknown', message: `cannot retag ${context.tag}: the buildx builder "${context.builder}" does not exist (it is created when the service starts)` }
  }
  if ((match = text.match(/^ERROR: (\S+): not found$/m)) !== null) {
    return { reason: 'image-not-found', message: `${match[1]!}: the image is no longer in the registry (deleted or garbage-collected); it cannot be restored by retagging` }
  }
  if (text.startsWith('ERROR:') && REGISTRY_ERROR.test(text)) {
    const cause = registryCause(text.replace(/^ERROR: /, ''))
    if (cause === 'not authorised') {
      return { reason: 'push-denied', message: `the registry refused to point ${context.tag} at ${digest}: not authorised (check the registry credentials in the Docker config)` }
    }
    return {
      reason: 'push-failed',
      message: truncate(NETWORK.test(cause) ? `the registry is unreachable: pointing ${context.tag} at ${digest} failed (${cause})` : `pointing ${context.tag} at ${digest} failed: ${cause}`)
    }
  }
  if (text.startsWith('ERROR:')) return { reason: 'unknown', message: truncate(`cannot retag ${context.tag}: ${text.split('\n')[0]!.replace(/^ERROR: /, '')}`) }
  return { reason: 'unknown', message: `docker exited with code ${String(result.code)}` }
}

import type { CommitState } from '../commit-status/types.js'
import type { BuildRecord, FailureReason } from '../schemas/build.js'

// What a build means for its commit, in one line, whatever the host: the state and description of a commit
// status, and the summary of a chat notification.

/** GitHub's limit for a status description, the shortest of the hosts'. */
export const MAX_DESCRIPTION = 140

/** Failures that are not the commit's: the service, BuildKit, the Git host or the registry could not do their part. */
const NOT_THE_COMMITS: ReadonlySet<FailureReason> = new Set([
  'docker-missing', 'buildx-missing', 'builder-unreachable', 'builder-connection-lost', 'git-auth', 'git-fetch-failed',
  'push-denied', 'push-failed', 'no-digest', 'log-failed'
])

export interface BuildSummary {
  state: CommitState
  description: string
}

/**
 * The build's state and description for its commit. `repositories` maps each image (registry/repository)
 * to its repository as configured, the short name descriptions use.
 */
export function summarise (build: BuildRecord, repositories: ReadonlyMap<string, string>): BuildSummary {
  const name = (image: string): string => repositories.get(image) ?? image
  switch (build.status) {
    case 'queued':
      return build.retry === null
        ? summary('pending', `Queued as build #${build.id}`)
        : summary('pending', `Queued again for attempt ${build.attempt}: ${firstLine(build.retry.error)}`)
    case 'running':
      return summary('running', build.rollbackOf === null
        ? `Building ${build.images.map(image => name(image.image)).join(', ')} (build #${build.id})`
        : `Rolling back to build #${build.rollbackOf} (build #${build.id})`)
    case 'succeeded':
      return summary('success', succeeded(build, name))
    case 'failed':
      return summary(failureState(build), firstLine(build.error!))
    case 'cancelled':
      return summary('cancelled', cancelled(build.error))
    case 'superseded':
      return summary('cancelled', `Not built: superseded by build #${build.supersededBy!} of a newer push`)
  }
}

/** For the pushed commit of a build that built the branch head instead (docs/contract.md "Head check"). */
export function notBuilt (build: BuildRecord): BuildSummary {
  return summary('cancelled', `Not built: the branch had moved on to ${build.commit!.slice(0, 12)}, which build #${build.id} builds`)
}

function succeeded (build: BuildRecord, name: (image: string) => string): string {
  const images = build.images.map(image => image.digest === null ? name(image.image) : `${name(image.image)}@${shortDigest(image.digest)}`).join(', ')
  const { deploy } = build
  if (deploy.status === 'succeeded') return `Deployed ${images} to ${deploy.namespace!}`
  if (deploy.reason !== null) return `Pushed ${images}; not deployed: ${firstLine(deploy.reason)}`
  return `Pushed ${images}`
}

// Most cancellations already say so ("cancelled through the API"): no "Cancelled: cancelled ...".
function cancelled (error: string | null): string {
  if (error === null) return 'Cancelled'
  const line = firstLine(error)
  return /^cancelled\b/i.test(line) ? `C${line.slice(1)}` : `Cancelled: ${line}`
}

/**
 * failure: the commit's build or deploy failed (or ran past the timeout); error: something else kept the
 * service from doing its job.
 */
function failureState (build: BuildRecord): CommitState {
  const cause = build.images.find(image => image.status === 'failed' || image.reason === 'timed-out')
  if (cause !== undefined) return cause.reason === null || NOT_THE_COMMITS.has(cause.reason) ? 'error' : 'failure'
  return build.deploy.status === 'failed' ? 'failure' : 'error'
}

function summary (state: CommitState, description: string): BuildSummary {
  if (description.length <= MAX_DESCRIPTION) return { state, description }
  // Never half a surrogate pair (an emoji cut in two is not valid text for the hosts).
  return { state, description: `${description.slice(0, MAX_DESCRIPTION - 1).replace(/[\uD800-\uDBFF]$/, '')}…` }
}

function shortDigest (digest: string): string {
  const [algorithm, hex] = digest.split(':')
  return `${algorithm!}:${hex!.slice(0, 12)}…`
}

function firstLine (text: string): string {
  return text.split('\n')[0]!.trim()
}

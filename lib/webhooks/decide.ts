import type { ProjectSettings } from '../config/index.js'
import type { TriggerInput } from '../schemas/build.js'
import type { Delivery } from './types.js'

export type Decision =
  | { action: 'build', trigger: TriggerInput }
  | { action: 'ignored', reason: string }
  | { action: 'pong' }

// Every push of a repository names the same four or five URLs (html, clone, ssh, git): each is reduced once
// (URL parsing was 2% of the server's CPU under webhook load). What is kept stays small: at most 1,024 URLs
// of at most 2,048 characters (a verified sender could otherwise pin large strings from its bodies).
const normalised = new Map<string, string>()
export const NORMALISED_URLS_KEPT = 1024
export const NORMALISED_URL_LENGTH_KEPT = 2048

/** How many reduced URLs are kept (for tests). */
export function normalisedUrlsKept (): number {
  return normalised.size
}

/** A repository URL reduced to host/path: lower case, no scheme, credentials, `.git` or trailing slash. */
export function normaliseRepositoryUrl (url: string): string {
  let result = normalised.get(url)
  if (result === undefined) {
    result = reduceRepositoryUrl(url)
    if (url.length > NORMALISED_URL_LENGTH_KEPT) return result
    if (normalised.size >= NORMALISED_URLS_KEPT) normalised.clear()
    normalised.set(url, result)
  }
  return result
}

function reduceRepositoryUrl (url: string): string {
  const scp = /^[^@/]+@([^:/]+):(.+)$/.exec(url) // git@github.com:org/repo.git
  let hostAndPath: string
  if (scp !== null) hostAndPath = `${scp[1]!}/${scp[2]!}`
  else {
    try {
      const parsed = new URL(url)
      hostAndPath = `${parsed.hostname}${parsed.pathname}`
    } catch {
      hostAndPath = url
    }
  }
  return hostAndPath.toLowerCase().replace(/\/+$/, '').replace(/\.git$/, '').replace(/\/+$/, '')
}

/**
 * What to do with a verified delivery for this project: only a push that moves refs/heads/<branch> of the
 * project's own repository builds; pings are answered; everything else is ignored with the reason (a 2xx,
 * so that hosts such as GitLab do not disable the hook).
 */
export function decide (delivery: Delivery, project: ProjectSettings): Decision {
  if (delivery.kind === 'ping') return { action: 'pong' }
  if (delivery.kind === 'other') return { action: 'ignored', reason: `${delivery.source} event '${delivery.event}' is not a push` }
  const own = normaliseRepositoryUrl(project.code.url)
  if (!delivery.repositoryUrls.some(url => normaliseRepositoryUrl(url) === own)) {
    return { action: 'ignored', reason: `the push is for ${delivery.repositoryUrls[0] ?? 'an unnamed repository'}, not ${project.code.url}` }
  }
  const wanted = `refs/heads/${project.code.branch}`
  const update = delivery.updates.find(candidate => candidate.ref === wanted)
  if (update === undefined) {
    const refs = delivery.updates.map(candidate => candidate.ref)
    if (refs.length > 0 && refs.every(ref => ref.startsWith('refs/tags/'))) return { action: 'ignored', reason: `tag push (${refs.join(', ')})` }
    return { action: 'ignored', reason: `push to ${refs.join(', ') || 'no ref'}, not ${wanted}` }
  }
  if (update.deleted) return { action: 'ignored', reason: `branch ${project.code.branch} was deleted` }
  return {
    action: 'build',
    trigger: { source: delivery.source, event: delivery.event, delivery: delivery.delivery, ref: update.ref, commit: update.commit!, sender: delivery.sender }
  }
}

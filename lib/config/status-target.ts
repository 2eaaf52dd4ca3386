import type { StatusProvider } from './schema.js'

// Where a project's commit statuses go, derived from its code.url: the provider of the public hosts, the
// default API root, and the repository as the API names it. Pure, and shared by semantic-problems.ts (which
// reports what cannot be derived) and normalise.ts (which derives it from a file that passed validation).

/** The hosts whose provider needs no `provider` key (exact hostnames; www. is another host). */
export const PUBLIC_HOSTS: Readonly<Record<string, StatusProvider>> = Object.freeze({
  'github.com': 'github',
  'gitlab.com': 'gitlab',
  'bitbucket.org': 'bitbucket'
})

/** Bitbucket Cloud's API: the only Bitbucket status API supported (Bitbucket Data Center's differs). */
export const BITBUCKET_CLOUD_API = 'https://api.bitbucket.org'
const GITHUB_COM_API = 'https://api.github.com'
/** Bitbucket Cloud refuses a status key (our context) longer than this. */
export const BITBUCKET_MAX_KEY = 40
/** A project's default status context is this and its slug. */
export const DEFAULT_CONTEXT_PREFIX = 'build-hook/'

export interface StatusTarget {
  apiUrl: string
  /** The repository's path segments as the API names it (owner, repo; or GitLab's namespaces and project). */
  repository: string[]
}

/** The provider code.url's host implies, or null when the host is not one of PUBLIC_HOSTS. */
export function inferProvider (codeUrl: URL): StatusProvider | null {
  return PUBLIC_HOSTS[codeUrl.hostname.toLowerCase()] ?? null
}

export function withoutTrailingSlashes (value: string): string {
  return value.replace(/\/+$/, '')
}

/** code.url's path as segments: no empty segment, no trailing .git. */
export function codePath (codeUrl: URL): string[] {
  const segments = codeUrl.pathname.split('/').filter(segment => segment !== '')
  const last = segments.pop()
  if (last !== undefined && last !== '.git') segments.push(last.replace(/\.git$/, ''))
  return segments
}

/**
 * The API root (api_url as given, without trailing slashes, else the provider's default for code.url's host)
 * and the repository: the last two segments of code.url's path (Gitea and Forgejo may be served under a
 * sub-path), or for GitLab the whole path (groups nest) minus the sub-path the API root has before /api.
 */
export function statusTarget (provider: StatusProvider, codeUrl: URL, apiUrl?: string): StatusTarget {
  const segments = codePath(codeUrl)
  if (provider !== 'gitlab') {
    const root = apiUrl === undefined ? defaultApiUrl(provider, codeUrl, segments.slice(0, -2)) : withoutTrailingSlashes(apiUrl)
    return { apiUrl: root, repository: segments.slice(-2) }
  }
  const root = apiUrl === undefined ? `${codeUrl.origin}/api/v4` : withoutTrailingSlashes(apiUrl)
  const prefix = apiPrefix(root)
  const under = prefix.length > 0 && prefix.every((segment, i) => segments[i] === segment)
  return { apiUrl: root, repository: under ? segments.slice(prefix.length) : segments }
}

function defaultApiUrl (provider: Exclude<StatusProvider, 'gitlab'>, codeUrl: URL, subPath: string[]): string {
  switch (provider) {
    case 'github':
      // GitHub Enterprise Server serves its REST API under /api/v3 of its own host.
      return inferProvider(codeUrl) === 'github' ? GITHUB_COM_API : `${codeUrl.origin}/api/v3`
    case 'bitbucket':
      return BITBUCKET_CLOUD_API
    default: // gitea, forgejo: the API sits under the instance's root, which may be a sub-path
      return [codeUrl.origin, ...subPath, 'api', 'v1'].join('/')
  }
}

/** The segments an API root's path has before /api (e.g. ['gitlab'] for https://example.com/gitlab/api/v4). */
export function apiPrefix (apiUrl: string): string[] {
  const match = /^(.*?)\/api(?:\/|$)/.exec(new URL(apiUrl).pathname)
  return match === null ? [] : match[1]!.split('/').filter(segment => segment !== '')
}

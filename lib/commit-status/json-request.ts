import type { StatusRequest } from './types.js'

/** Headers every host gets: GitHub refuses a request without a User-Agent (403), and the name shows in the hosts' logs. */
export const JSON_HEADERS: Readonly<Record<string, string>> = Object.freeze({ 'Content-Type': 'application/json', 'User-Agent': 'build-hook' })

/** A POST of `body` as JSON; the body's keys stay in the order the host module wrote them. */
export function jsonPost (url: string, body: Readonly<Record<string, unknown>>, headers: Readonly<Record<string, string>> = JSON_HEADERS): StatusRequest {
  return { method: 'POST', url, headers, body: JSON.stringify(body) }
}

/** owner/repo as a URL path: each segment encoded on its own, so the slash between them stays a slash. */
export function repositoryPath (repository: string): string {
  return repository.split('/').map(encodeURIComponent).join('/')
}

/** `{ target_url }` when there is a link; no link is no key, not null (Gitea types target_url as a plain string). */
export function targetUrl (url: string | null): { target_url?: string } {
  return url === null ? {} : { target_url: url }
}

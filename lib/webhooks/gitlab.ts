import { optionalObject, optionalString, sha, string, strings } from './payload.js'
import { safeEqual } from './signature.js'
import { header, ZERO_SHA, type WebhookHost } from './types.js'

const PUSH_EVENTS = new Set(['Push Hook', 'Tag Push Hook', 'System Hook'])

/** GitLab: X-Gitlab-Event, X-Gitlab-Token (the secret itself), Idempotency-Key or X-Gitlab-Event-UUID. */
export const gitlab: WebhookHost = {
  source: 'gitlab',
  name: 'GitLab',
  eventHeader: 'X-Gitlab-Event',
  signatureHeaders: ['X-Gitlab-Token'],
  detect: headers => header(headers, 'x-gitlab-event') !== undefined,
  verify: (headers, _raw, secret) => safeEqual(header(headers, 'x-gitlab-token') ?? '', secret),
  parse: (headers, payload) => {
    const event = header(headers, 'x-gitlab-event')!
    const project = optionalObject(payload.project)
    const repository = optionalObject(payload.repository)
    const base = {
      source: 'gitlab' as const,
      event,
      // Idempotency-Key is what GitLab repeats on its retries; the event UUID identifies the event.
      delivery: header(headers, 'idempotency-key') ?? header(headers, 'x-gitlab-event-uuid') ?? null,
      repositoryUrls: strings(project.git_http_url, project.web_url, project.git_ssh_url, repository.git_http_url, repository.homepage, repository.git_ssh_url),
      sender: optionalString(payload.user_username)
    }
    const kind = payload.object_kind
    if (!PUSH_EVENTS.has(event) || (kind !== 'push' && kind !== 'tag_push')) return { ...base, kind: 'other', updates: [] }
    const after = sha(payload.after, 'after')
    const deleted = after === ZERO_SHA
    // checkout_sha is the commit to check out (null when the ref was deleted).
    const commit = deleted ? null : payload.checkout_sha == null ? after : sha(payload.checkout_sha, 'checkout_sha')
    return { ...base, kind: 'push', updates: [{ ref: string(payload.ref, 'ref'), commit, deleted }] }
  }
}

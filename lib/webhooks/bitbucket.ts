import { array, object, optionalObject, optionalString, sha, string, strings } from './payload.js'
import { refsChanged } from './bitbucket-server.js'
import { verifyHmac } from './signature.js'
import { header, type RefUpdate, type WebhookHost } from './types.js'

/**
 * Bitbucket Cloud (push: repo:push, delivery id X-Request-UUID) and Bitbucket Server / Data Center (push:
 * repo:refs_changed, delivery id X-Request-Id, ping diagnostics:ping) share X-Event-Key and X-Hub-Signature:
 * sha256=<hex>, and are both recorded as bitbucket; one push may move several refs.
 */
export const bitbucket: WebhookHost = {
  source: 'bitbucket',
  name: 'Bitbucket',
  eventHeader: 'X-Event-Key',
  signatureHeaders: ['X-Hub-Signature'],
  detect: headers => header(headers, 'x-event-key') !== undefined,
  verify: (headers, raw, secret) => verifyHmac(header(headers, 'x-hub-signature'), raw, secret, 'sha256', 'sha256='),
  parse: (headers, payload) => {
    const event = header(headers, 'x-event-key')!
    const actor = optionalObject(payload.actor)
    const base = {
      source: 'bitbucket' as const,
      event,
      delivery: header(headers, 'x-request-uuid') ?? header(headers, 'x-request-id') ?? null,
      repositoryUrls: strings(optionalObject(optionalObject(optionalObject(payload.repository).links).html).href),
      sender: optionalString(actor.nickname) ?? optionalString(actor.display_name)
    }
    if (event === 'diagnostics:ping') return { ...base, kind: 'ping', updates: [] }
    if (event === 'repo:refs_changed') return { ...base, kind: 'push', ...refsChanged(payload) }
    if (event !== 'repo:push') return { ...base, kind: 'other', updates: [] }
    const changes = array(object(payload.push, 'push').changes, 'push.changes')
    return { ...base, kind: 'push', updates: changes.map((entry, i) => refUpdate(object(entry, `push.changes[${i}]`), `push.changes[${i}]`)) }
  }
}

function refUpdate (change: Record<string, unknown>, at: string): RefUpdate {
  const moved = change.new ?? null
  const side = object(moved ?? change.old, moved === null ? `${at}.old` : `${at}.new`)
  const name = string(side.name, `${at}.name`)
  const ref = side.type === 'tag' ? `refs/tags/${name}` : `refs/heads/${name}`
  if (moved === null) return { ref, commit: null, deleted: true }
  return { ref, commit: sha(object(side.target, `${at}.new.target`).hash, `${at}.new.target.hash`), deleted: false }
}

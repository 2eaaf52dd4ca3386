import { optionalObject, optionalString, sha, string, strings } from './payload.js'
import { verifyHmac } from './signature.js'
import { header, ZERO_SHA, type Delivery, type WebhookHost } from './types.js'

/**
 * Gitea and its descendants (Forgejo) and ancestor (Gogs) send the same payloads under their own header
 * prefix: X-<Host>-Event, X-<Host>-Delivery, X-<Host>-Signature (hex HMAC-SHA256, no prefix). A deleted
 * branch comes as a `delete` event, not as a push.
 */
export function giteaLike (source: Extract<Delivery['source'], 'gitea' | 'forgejo' | 'gogs'>, name: string): WebhookHost {
  const prefix = `x-${source}-`
  return {
    source,
    name,
    eventHeader: `X-${name}-Event`,
    signatureHeaders: [`X-${name}-Signature`],
    detect: headers => header(headers, `${prefix}event`) !== undefined,
    verify: (headers, raw, secret) => verifyHmac(header(headers, `${prefix}signature`), raw, secret, 'sha256'),
    parse: (headers, payload) => {
      const event = header(headers, `${prefix}event`)!
      const repository = optionalObject(payload.repository)
      const sender = optionalObject(payload.sender)
      const base = {
        source,
        event,
        delivery: header(headers, `${prefix}delivery`) ?? null,
        repositoryUrls: strings(repository.clone_url, repository.html_url, repository.ssh_url),
        sender: optionalString(sender.login) ?? optionalString(sender.username)
      }
      if (event !== 'push') return { ...base, kind: 'other', updates: [] }
      const after = sha(payload.after, 'after')
      const deleted = after === ZERO_SHA
      return { ...base, kind: 'push', updates: [{ ref: string(payload.ref, 'ref'), commit: deleted ? null : after, deleted }] }
    }
  }
}

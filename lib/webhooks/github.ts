import { optionalObject, optionalString, sha, string, strings } from './payload.js'
import { verifyHmac } from './signature.js'
import { header, ZERO_SHA, type WebhookHost } from './types.js'

/** GitHub: X-GitHub-Event, X-GitHub-Delivery, X-Hub-Signature-256 (SHA-1 X-Hub-Signature only if allowed). */
export const github: WebhookHost = {
  source: 'github',
  name: 'GitHub',
  eventHeader: 'X-GitHub-Event',
  // X-Hub-Signature (SHA-1) is always sent beside it, and alone it is Bitbucket's.
  signatureHeaders: ['X-Hub-Signature-256'],
  detect: headers => header(headers, 'x-github-event') !== undefined,
  verify: (headers, raw, secret, { allowSha1 }) => {
    const sha256 = header(headers, 'x-hub-signature-256')
    if (sha256 !== undefined || !allowSha1) return verifyHmac(sha256, raw, secret, 'sha256', 'sha256=')
    return verifyHmac(header(headers, 'x-hub-signature'), raw, secret, 'sha1', 'sha1=')
  },
  parse: (headers, payload) => {
    const event = header(headers, 'x-github-event')!
    const repository = optionalObject(payload.repository)
    const base = {
      source: 'github' as const,
      event,
      delivery: header(headers, 'x-github-delivery') ?? null,
      repositoryUrls: strings(repository.clone_url, repository.html_url, repository.ssh_url, repository.git_url),
      sender: optionalString(optionalObject(payload.sender).login)
    }
    if (event === 'ping') return { ...base, kind: 'ping', updates: [] }
    if (event !== 'push') return { ...base, kind: 'other', updates: [] }
    const after = sha(payload.after, 'after')
    const deleted = payload.deleted === true || after === ZERO_SHA
    return { ...base, kind: 'push', updates: [{ ref: string(payload.ref, 'ref'), commit: deleted ? null : after, deleted }] }
  }
}

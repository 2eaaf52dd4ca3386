import { bitbucket } from './bitbucket.js'
import { forgejo } from './forgejo.js'
import { gitea } from './gitea.js'
import { github } from './github.js'
import { gitlab } from './gitlab.js'
import { gogs } from './gogs.js'
import { header, type Headers, type WebhookHost } from './types.js'

/**
 * In detection order: Forgejo also sends every Gitea, Gogs and GitHub header, and Gitea also sends Gogs and
 * GitHub ones, so the most specific host is asked first and the build records the real source.
 */
export const HOSTS: readonly WebhookHost[] = [forgejo, gitea, gogs, github, gitlab, bitbucket]

/** The Git host that sent the request, by its event header; undefined for a plain API call. */
export function detectHost (headers: Headers): WebhookHost | undefined {
  return HOSTS.find(host => host.detect(headers))
}

/**
 * For a request with no host's event header and no Authorization header: what is wrong, when it carries a
 * host's signature (or token) header, so that the sender is not told to send a bearer token it never meant
 * to. Depends on the headers only: an unknown slug answers the same.
 */
export function missingEventHeader (headers: Headers): string | undefined {
  for (const host of HOSTS) {
    const signature = host.signatureHeaders.find(name => header(headers, name.toLowerCase()) !== undefined)
    if (signature !== undefined) return `${signature} came without an event header: a ${host.name} delivery needs ${host.eventHeader} (or send Authorization: Bearer <token>)`
  }
  return undefined
}

import { bitbucket } from './bitbucket.js'
import { forgejo } from './forgejo.js'
import { gitea } from './gitea.js'
import { github } from './github.js'
import { gitlab } from './gitlab.js'
import { gogs } from './gogs.js'
import type { Headers, WebhookHost } from './types.js'

/**
 * In detection order: Forgejo also sends every Gitea, Gogs and GitHub header, and Gitea also sends Gogs and
 * GitHub ones, so the most specific host is asked first and the build records the real source.
 */
export const HOSTS: readonly WebhookHost[] = [forgejo, gitea, gogs, github, gitlab, bitbucket]

/** The Git host that sent the request, by its event header; undefined for a plain API call. */
export function detectHost (headers: Headers): WebhookHost | undefined {
  return HOSTS.find(host => host.detect(headers))
}

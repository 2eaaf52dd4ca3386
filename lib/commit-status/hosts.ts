import type { StatusProvider } from '../config/schema.js'
import { bitbucket } from './bitbucket.js'
import { forgejo } from './forgejo.js'
import { gitea } from './gitea.js'
import { github } from './github.js'
import { gitlab } from './gitlab.js'
import type { StatusHost } from './types.js'

export const STATUS_HOSTS: Readonly<Record<StatusProvider, StatusHost>> = Object.freeze({ github, gitlab, gitea, forgejo, bitbucket })

/** The module that speaks `provider`'s commit status API (the config allows no other provider). */
export function statusHost (provider: StatusProvider): StatusHost {
  return STATUS_HOSTS[provider]
}

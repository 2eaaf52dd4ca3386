import { giteaLike } from './gitea-like.js'

/** Forgejo: Gitea's API under its own name, Authorization: token <access token>. */
export const forgejo = giteaLike('forgejo')

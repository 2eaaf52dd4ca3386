import { giteaLike } from './gitea-like.js'

/** Gitea: Authorization: token <access token>. */
export const gitea = giteaLike('gitea')

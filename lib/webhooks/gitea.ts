import { giteaLike } from './gitea-like.js'

/** Gitea: X-Gitea-Event, X-Gitea-Delivery, X-Gitea-Signature (it also sends Gogs and GitHub headers). */
export const gitea = giteaLike('gitea', 'Gitea')

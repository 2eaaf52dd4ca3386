import { giteaLike } from './gitea-like.js'

/** Forgejo: X-Forgejo-Event, X-Forgejo-Delivery, X-Forgejo-Signature (it also sends Gitea, Gogs and GitHub headers). */
export const forgejo = giteaLike('forgejo', 'Forgejo')

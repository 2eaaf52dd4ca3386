import { giteaLike } from './gitea-like.js'

/** Gogs: X-Gogs-Event, X-Gogs-Delivery, X-Gogs-Signature. */
export const gogs = giteaLike('gogs', 'Gogs')

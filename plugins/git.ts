import fp from 'fastify-plugin'
import { gitVersion } from '../lib/git/git-version.js'
import { childEnv } from '../lib/process/child-env.js'

// git resolves branch heads (API calls without a commit, and the head check before a webhook build):
// checked once at start-up, and reported on /ready as the `git` component.
export default fp(async function gitPlugin (fastify) {
  try {
    const version = await gitVersion(childEnv(fastify.env))
    fastify.readiness.set('git', { ready: true, detail: { version } })
  } catch (err) {
    const reason = (err as Error).message
    fastify.readiness.set('git', { ready: false, reason })
    fastify.log.error({ reason }, 'git cannot be run: branch heads cannot be resolved, and /ready answers 503.')
  }
}, { name: 'git', dependencies: ['config', 'readiness'] })

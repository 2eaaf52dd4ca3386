import { setTimeout as sleep } from 'node:timers/promises'
import fp from 'fastify-plugin'
import { Readiness } from '../lib/readiness.js'

declare module 'fastify' {
  interface FastifyInstance {
    readiness: Readiness
  }
}

// Plugins report their component's state here; /ready reads it. Close turns it 503 first of all, while the
// listener still accepts connections (preClose runs before the server closes), for SHUTDOWN_DRAIN_SECONDS.
export default fp(async function readinessPlugin (fastify) {
  const readiness = new Readiness()
  readiness.set('config', { ready: true, detail: { projects: fastify.settings.projects.length } })
  fastify.decorate('readiness', readiness)
  // A keep-alive connection whose request was in flight when close began would otherwise hold the
  // listener open until its idle timeout: tell the client to hang up after this answer.
  fastify.addHook('onSend', (_request, reply, payload, done) => {
    if (readiness.shuttingDown) reply.header('connection', 'close')
    done(null, payload)
  })

  fastify.addHook('preClose', async () => {
    readiness.beginShutdown()
    const drainSeconds = fastify.env.SHUTDOWN_DRAIN_SECONDS
    if (drainSeconds > 0) {
      fastify.log.info({ drainSeconds }, 'Not ready any more: draining before closing the listener.')
      await sleep(drainSeconds * 1000)
    }
  })
}, { name: 'readiness', dependencies: ['config'] })

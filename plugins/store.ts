import fp from 'fastify-plugin'
import { BuildStore } from '../lib/store/build-store.js'
import type { ProcessGroupStore } from '../lib/store/process-group-store.js'

declare module 'fastify' {
  interface FastifyInstance {
    store: BuildStore
    /** The docker children's process groups while they run (lib/process/process-groups.ts). */
    processGroups: ProcessGroupStore
  }
}

// The embedded SQLite store under DATA_DIR: opened at start-up (a bad DATA_DIR stops it), closed last.
export default fp(async function storePlugin (fastify) {
  const store = new BuildStore(fastify.env.DATA_DIR)
  fastify.decorate('store', store)
  fastify.decorate('processGroups', store.processGroups)
  fastify.readiness.set('store', { ready: true })
  fastify.log.info({ file: store.file }, 'Build store opened.')
  fastify.addHook('onClose', async () => store.close())
}, { name: 'store', dependencies: ['config', 'readiness'] })

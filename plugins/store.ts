import fp from 'fastify-plugin'
import { BuildStore } from '../lib/store/build-store.js'

declare module 'fastify' {
  interface FastifyInstance {
    store: BuildStore
  }
}

// The embedded SQLite store under DATA_DIR: opened at start-up (a bad DATA_DIR stops it), closed last.
export default fp(async function storePlugin (fastify) {
  const store = new BuildStore(fastify.env.DATA_DIR)
  fastify.decorate('store', store)
  fastify.readiness.set('store', { ready: true })
  fastify.log.info({ file: store.file }, 'Build store opened.')
  fastify.addHook('onClose', async () => store.close())
}, { name: 'store', dependencies: ['config', 'readiness'] })

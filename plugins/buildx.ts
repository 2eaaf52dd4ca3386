import fp from 'fastify-plugin'
import { Builder } from '../lib/buildx/builder.js'
import { builderReadiness } from '../lib/buildx/builder-readiness.js'
import { declaredNodes } from '../lib/buildx/builder-spec.js'
import { childEnv } from '../lib/process/child-env.js'
import { recordGroups } from '../lib/process/process-groups.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** The remote buildx builder: its state, and whether builds may start on it. */
    builder: Builder
  }
}

export interface BuildxPluginOptions {
  /** Backoff between bootstrap attempts (defaults: 1 s doubling to 60 s). */
  retry?: { initialMs?: number, maxMs?: number }
}

// The remote builder's lifecycle, in the background from `onReady` (an unreachable BuildKit takes ~20 s per
// try, far past the plugin timeout), and its state on /ready.
export default fp<BuildxPluginOptions>(async function buildxPlugin (fastify, options) {
  const { builder: settings } = fastify.settings
  const log = fastify.log.child({ component: 'buildx' })
  const groups = recordGroups(fastify.store.processGroups, { buildId: null, command: 'docker buildx (builder)' })
  const builder = new Builder({ settings, env: childEnv(fastify.env), log, retry: options.retry, groups })
  const listNodes = declaredNodes(settings) !== null
  fastify.readiness.set('builder', builderReadiness(builder.state, listNodes))
  builder.on('state', state => fastify.readiness.set('builder', builderReadiness(state, listNodes)))
  fastify.decorate('builder', builder)
  fastify.addHook('onReady', async () => builder.start())
  fastify.addHook('onClose', async () => builder.stop())
}, { name: 'buildx', dependencies: ['config', 'readiness', 'store'] })

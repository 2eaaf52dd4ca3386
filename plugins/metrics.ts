import fp from 'fastify-plugin'
import { BuildMetrics } from '../lib/metrics/build-metrics.js'

declare module 'fastify' {
  interface FastifyInstance {
    metrics: BuildMetrics
  }
}

// Prometheus metrics of this instance (a registry of its own), fed by the store and the hook route.
export default fp(async function metricsPlugin (fastify) {
  const { settings, store, builder } = fastify
  const metrics = new BuildMetrics({
    projects: settings.projects.map(project => project.slug),
    repositories: new Map(settings.projects.map(project => [project.slug, project.images.map(image => image.repository)])),
    store,
    builderReady: () => builder.ready,
    builderNodes: () => {
      const state = builder.state
      return state.nodes.map(node => ({ builder: state.name, node: node.name, endpoint: node.endpoint, up: node.status === 'ready' }))
    },
    reports: fastify.reports
  })
  fastify.decorate('metrics', metrics)
  fastify.addHook('onClose', async () => metrics.close())
}, { name: 'metrics', dependencies: ['config', 'store', 'buildx', 'reports'] })

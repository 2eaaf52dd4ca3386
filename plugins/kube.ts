import fp from 'fastify-plugin'
import { KubeDeployer } from '../lib/kube/kube-deployer.js'
import { loadKubeConfig } from '../lib/kube/kube-config.js'

declare module 'fastify' {
  interface FastifyInstance {
    kube: KubeDeployer
  }
}

export interface KubePluginOptions {
  /** How often a rollout is looked at while waiting for it (default 1 s). */
  pollMs?: number
}

// The deploy step's Kubernetes client: in-cluster service account, KUBECONFIG, or ~/.kube/config,
// loaded when the first build deploys (a hook whose projects deploy nothing needs no cluster).
export default fp<KubePluginOptions>(async function kubePlugin (fastify, options) {
  const env = fastify.env
  const kube = new KubeDeployer({ kubeConfig: () => loadKubeConfig(env), pollMs: options.pollMs ?? 1_000 })
  fastify.decorate('kube', kube)
  if (fastify.settings.projects.some(project => project.deployments !== null)) {
    // In the background once started: loading the client must not delay start-up or /health.
    fastify.addHook('onReady', async () => {
      loadKubeConfig(env).catch((err: Error) => {
        fastify.log.warn({ reason: err.message }, 'Projects deploy to Kubernetes, but there is no cluster to deploy to: their deploy steps will fail.')
      })
    })
  }
}, { name: 'kube', dependencies: ['config'] })

import fp from 'fastify-plugin'
import { KubeDeployer } from '../lib/kube/kube-deployer.js'
import { kubeConfigSource, loadKubeConfig, NO_KUBE_CONFIG } from '../lib/kube/kube-config.js'

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
  // Only where the configuration would come from: loading the client (70 MB) waits for the first deploy.
  if (fastify.settings.projects.some(project => project.deployments !== null) && kubeConfigSource(env) === null) {
    fastify.log.warn({ reason: NO_KUBE_CONFIG }, 'Projects deploy to Kubernetes, but there is no cluster to deploy to: their deploy steps will fail.')
  }
}, { name: 'kube', dependencies: ['config'] })

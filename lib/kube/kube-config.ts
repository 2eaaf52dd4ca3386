import { existsSync } from 'node:fs'
import net from 'node:net'
import path from 'node:path'
import type { KubeConfig } from '@kubernetes/client-node'
import { BuildHookError } from '../errors.js'

export interface KubeEnv {
  KUBECONFIG?: string | undefined
  KUBERNETES_SERVICE_HOST?: string | undefined
  KUBERNETES_SERVICE_PORT?: string | undefined
  HOME?: string | undefined
}

/** Where Kubernetes mounts a pod's service account. */
export const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount'

/** The API server as the pod sees it, with the service account's CA and (rotated) token file. */
function inCluster (kubeConfig: KubeConfig, env: KubeEnv): void {
  const host = net.isIPv6(env.KUBERNETES_SERVICE_HOST!) ? `[${env.KUBERNETES_SERVICE_HOST!}]` : env.KUBERNETES_SERVICE_HOST!
  kubeConfig.loadFromClusterAndUser(
    { name: 'in-cluster', server: `https://${host}:${env.KUBERNETES_SERVICE_PORT ?? '443'}`, caFile: path.join(SERVICE_ACCOUNT_DIR, 'ca.crt'), skipTLSVerify: false },
    { name: 'service-account', authProvider: { name: 'tokenFile', config: { tokenFile: path.join(SERVICE_ACCOUNT_DIR, 'token') } } }
  )
}

export const NO_KUBE_CONFIG = 'no Kubernetes configuration: set KUBECONFIG, or run the hook in a pod with a service account'

export type KubeConfigSource = { kind: 'file', file: string } | { kind: 'in-cluster' }

/** Where the cluster's configuration comes from, found without loading the client; null when nowhere. */
export function kubeConfigSource (env: KubeEnv): KubeConfigSource | null {
  if (env.KUBECONFIG !== undefined && env.KUBECONFIG !== '') return { kind: 'file', file: env.KUBECONFIG }
  if (env.KUBERNETES_SERVICE_HOST !== undefined) return { kind: 'in-cluster' }
  const home = env.HOME === undefined ? undefined : path.join(env.HOME, '.kube', 'config')
  return home !== undefined && existsSync(home) ? { kind: 'file', file: home } : null
}

/**
 * The cluster to deploy to: KUBECONFIG when set; in a pod, its service account (KUBERNETES_SERVICE_HOST
 * is set by Kubernetes); otherwise ~/.kube/config. Throws when there is none. The client library is
 * loaded here, on first use: it takes a third of a second and 70 MB, which a hook that deploys nothing
 * (or has not deployed yet) need not pay at start-up.
 */
export async function loadKubeConfig (env: KubeEnv): Promise<KubeConfig> {
  const { KubeConfig } = await import('@kubernetes/client-node')
  const kubeConfig = new KubeConfig()
  const source = kubeConfigSource(env)
  try {
    if (source?.kind === 'file') kubeConfig.loadFromFile(source.file)
    else if (source?.kind === 'in-cluster') inCluster(kubeConfig, env)
  } catch (err) {
    throw new BuildHookError('BH_KUBE_CONFIG', `cannot read the Kubernetes configuration: ${(err as Error).message}`, { cause: err })
  }
  if (kubeConfig.getCurrentCluster() === null) {
    throw new BuildHookError('BH_KUBE_CONFIG', NO_KUBE_CONFIG)
  }
  return kubeConfig
}

import { setTimeout as sleep } from 'node:timers/promises'
import type { ApiException, AppsV1Api, ConfigurationOptions, KubeConfig, ObservableMiddleware, RequestContext, ResponseContext } from '@kubernetes/client-node'
import type { DeploymentSettings } from '../config/index.js'
import type { ResourceKind, ResourceRef } from '../config/rules.js'
import { describe, FIELD_MANAGER, restartPatch } from './restart.js'
import { rolloutStatus, type WorkloadObject } from './rollout-status.js'
import { type BuiltImage, type PodTemplateObject, SET_IMAGE_FIELD_MANAGER, setImage, type SetImagePatch, setImageLine } from './set-image.js'

export interface DeployOutcome {
  status: 'succeeded' | 'failed'
  error: string | null
  /**
   * Whether a PATCH went out that the API server did not refuse: the cluster may have changed (a call
   * cut off by cancel or shutdown counts, since the server may have applied it). False means untouched.
   */
  changed: boolean
}

export interface DeployOptions {
  signal: AbortSignal
  /** What the deploy step has to say, for the build log. */
  onLine: (line: string) => void
  now?: () => Date
  /** The images built and the digests pushed: what strategy 'digest' pins the containers to (required for it). */
  images?: readonly BuiltImage[]
  /** Once, when the first patch went out that the server may have applied: from then on the workloads may run the new images. */
  onChanged?: () => void
}

/** Whether the deploy may have changed the cluster yet; tells `onChanged` the first time it has. */
class Progress {
  changed = false
  constructor (readonly onChanged: (() => void) | undefined) {}

  change (): void {
    if (this.changed) return
    this.changed = true
    this.onChanged?.()
  }
}

export interface Deployer {
  deploy: (deployments: DeploymentSettings, options: DeployOptions) => Promise<DeployOutcome>
}

export interface KubeDeployerOptions {
  /** The cluster's configuration, loaded when first needed (a hook that deploys nothing needs none). */
  kubeConfig: () => Promise<KubeConfig>
  /** How often a rollout is looked at while waiting (kubectl watches; polling is equivalent here). */
  pollMs: number
}

class DeployFailed extends Error {}

type Workload = WorkloadObject & PodTemplateObject

/** Request options that end the API call when `signal` aborts (cancel, timeout, shutdown). */
function abortable (k8s: Client, signal: AbortSignal): ConfigurationOptions<ObservableMiddleware> {
  const middleware: ObservableMiddleware = {
    pre: (context: RequestContext) => {
      context.setSignal(signal)
      return new k8s.Observable(Promise.resolve(context))
    },
    post: (context: ResponseContext) => new k8s.Observable(Promise.resolve(context))
  }
  return { middleware: [middleware], middlewareMergeStrategy: 'append' }
}

type Client = typeof import('@kubernetes/client-node')

/** The client module, once the first deploy has loaded it (it is 70 MB of memory: not loaded at start). */
let loaded: Client | undefined

/** An error the API server answered (with its status code), as opposed to one on the way to it. */
function isApiException (err: unknown): err is ApiException<unknown> {
  return loaded !== undefined && err instanceof loaded.ApiException
}

/** The message of the API's Status answer (e.g. RBAC's "... cannot patch resource ..."), or the transport error. */
function apiMessage (err: unknown): string {
  if (isApiException(err)) {
    // The API server answers a Status object; whatever answers in its place (a proxy, say) may not.
    const text = String(err.body ?? '')
    let message: unknown
    try { message = (JSON.parse(text) as { message?: unknown }).message } catch { /* not a Status */ }
    if (typeof message === 'string') return message
    return text === '' ? `HTTP ${err.code}` : `HTTP ${err.code}: ${text}`
  }
  return (err as Error).message
}

/**
 * Restarts a project's workloads the way `kubectl rollout restart` does (GET, then a strategic-merge
 * patch of the pod template's restartedAt annotation, as field manager kubectl-rollout), or with
 * strategy 'digest' pins their containers to the digests pushed the way `kubectl set image` does (GET,
 * then a strategic-merge patch of the containers by name, as field manager kubectl-set), and, with
 * `wait`, follows each rollout the way `kubectl rollout status` decides it is done.
 */
export class KubeDeployer implements Deployer {
  readonly #options: KubeDeployerOptions
  #client: { api: AppsV1Api, k8s: Client } | null = null

  constructor (options: KubeDeployerOptions) {
    this.#options = options
  }

  async deploy (deployments: DeploymentSettings, options: DeployOptions): Promise<DeployOutcome> {
    const progress = new Progress(options.onChanged)
    try {
      if (deployments.strategy === 'digest' && options.images === undefined) {
        // The build runner passes the digests it pushed: deploying by digest without them is a bug, not a cluster problem.
        throw new DeployFailed('deploying by digest needs the images built and their digests, and none were passed to the deploy step')
      }
      this.#client ??= await this.#connect()
      const { api } = this.#client
      const { namespace } = deployments
      const { signal } = options
      // Every resource is read before any is patched: a missing or unreadable one leaves no half rollout.
      const objects: Workload[] = []
      for (const resource of deployments.resources) objects.push(await this.#read(api, namespace, resource, signal))
      if (deployments.strategy === 'digest') {
        await this.#setImages(api, deployments, objects, options.images!, options, progress)
      } else {
        const now = (options.now ?? (() => new Date()))()
        for (const resource of deployments.resources) {
          await this.#patch(api, namespace, resource, 'restarting', restartPatch(now), FIELD_MANAGER, signal, progress)
          options.onLine(`${describe(resource)} restarted in namespace ${namespace}`)
        }
      }
      if (deployments.wait) await this.#wait(api, deployments, options)
      return { status: 'succeeded', error: null, changed: progress.changed }
    } catch (err) {
      if (options.signal.aborted) return { status: 'failed', error: 'interrupted', changed: progress.changed }
      return { status: 'failed', error: err instanceof DeployFailed ? err.message : apiMessage(err), changed: progress.changed }
    }
  }

  /** Every patch is worked out before any is sent: a resource that runs none of the images fails the deploy untouched. */
  async #setImages (api: AppsV1Api, deployments: DeploymentSettings, objects: readonly Workload[], images: readonly BuiltImage[], options: DeployOptions, progress: Progress): Promise<void> {
    const plans = deployments.resources.map((resource, i) => {
      const plan = setImage(objects[i]!, resource, images)
      if (plan.error !== null) throw new DeployFailed(plan.error)
      return { resource, ...plan }
    })
    for (const plan of plans) {
      // Nothing to change: kubectl sends no patch either, and no rollout starts.
      if (plan.patch !== null) await this.#patch(api, deployments.namespace, plan.resource, 'setting the image', plan.patch, SET_IMAGE_FIELD_MANAGER, options.signal, progress)
      options.onLine(setImageLine(plan.resource, plan))
    }
  }

  async #connect (): Promise<{ api: AppsV1Api, k8s: Client }> {
    const kubeConfig = await this.#options.kubeConfig()
    const k8s = loaded = await import('@kubernetes/client-node')
    return { api: kubeConfig.makeApiClient(k8s.AppsV1Api), k8s }
  }

  async #wait (api: AppsV1Api, deployments: DeploymentSettings, options: DeployOptions): Promise<void> {
    const deadline = Date.now() + deployments.timeoutSeconds * 1000
    const last = new Map<string, string>()
    let pending = [...deployments.resources]
    for (;;) {
      const still: ResourceRef[] = []
      for (const resource of pending) {
        const status = rolloutStatus(resource.kind, await this.#read(api, deployments.namespace, resource, options.signal))
        if (status.state === 'failed') throw new DeployFailed(`${describe(resource)}: ${status.message}`)
        if (last.get(describe(resource)) !== status.message) options.onLine(status.message)
        last.set(describe(resource), status.message)
        if (status.state === 'waiting') still.push(resource)
      }
      pending = still
      if (pending.length === 0) return
      if (Date.now() >= deadline) {
        throw new DeployFailed(`${describe(pending[0]!)}: the rollout did not finish within ${deployments.timeoutSeconds} s: ${last.get(describe(pending[0]!))!}`)
      }
      await sleep(this.#options.pollMs, undefined, { signal: options.signal })
    }
  }

  async #read (api: AppsV1Api, namespace: string, resource: ResourceRef, signal: AbortSignal): Promise<Workload> {
    const request = { name: resource.name, namespace }
    const options = abortable(this.#client!.k8s, signal)
    const read: Record<ResourceKind, () => Promise<Workload>> = {
      deployment: () => api.readNamespacedDeployment(request, options),
      statefulset: () => api.readNamespacedStatefulSet(request, options),
      daemonset: () => api.readNamespacedDaemonSet(request, options)
    }
    return this.#call(resource, 'reading', read[resource.kind], namespace)
  }

  /** A strategic-merge patch as `fieldManager`; `progress.changed` once the server may have applied it. */
  async #patch (
    api: AppsV1Api, namespace: string, resource: ResourceRef, doing: string,
    body: ReturnType<typeof restartPatch> | SetImagePatch, fieldManager: string, signal: AbortSignal, progress: Progress
  ): Promise<void> {
    const request = { name: resource.name, namespace, body, fieldManager }
    const { setHeaderOptions, PatchStrategy } = this.#client!.k8s
    const strategic = setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch, abortable(this.#client!.k8s, signal))
    const patch: Record<ResourceKind, () => Promise<unknown>> = {
      deployment: () => api.patchNamespacedDeployment(request, strategic),
      statefulset: () => api.patchNamespacedStatefulSet(request, strategic),
      daemonset: () => api.patchNamespacedDaemonSet(request, strategic)
    }
    await this.#call(resource, doing, async () => {
      try {
        await patch[resource.kind]()
      } catch (err) {
        // An error answer means the server applied nothing; a call cut off or unanswered may have been applied.
        if (!isApiException(err)) progress.change()
        throw err
      }
      progress.change()
    })
  }

  /** An API call whose failure names the resource: not found (by name), forbidden (RBAC's message), other. */
  async #call<T> (resource: ResourceRef, doing: string, call: () => Promise<T>, namespace?: string): Promise<T> {
    try {
      return await call()
    } catch (err) {
      if (isApiException(err) && err.code === 404 && namespace !== undefined) {
        throw new DeployFailed(`${describe(resource)} was not found in namespace ${namespace}`)
      }
      throw new DeployFailed(`${describe(resource)}: ${doing} failed: ${apiMessage(err)}`)
    }
  }
}

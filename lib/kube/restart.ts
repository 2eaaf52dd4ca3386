import type { ResourceKind, ResourceRef } from '../config/rules.js'

export const RESTARTED_AT = 'kubectl.kubernetes.io/restartedAt'

/** kubectl's field manager for `rollout restart`: the same owner of the annotation as a manual restart. */
export const FIELD_MANAGER = 'kubectl-rollout'

/** The API verbs and resources the deploy step uses: exactly what its RBAC must grant. */
export const KUBE_VERBS: readonly string[] = ['get', 'patch']
export const KUBE_RESOURCES: Readonly<Record<ResourceKind, string>> = { deployment: 'deployments', statefulset: 'statefulsets', daemonset: 'daemonsets' }

/** The strategic-merge patch `kubectl rollout restart` sends: the pod template's restartedAt, UTC, whole seconds. */
export function restartPatch (now: Date): { spec: { template: { metadata: { annotations: Record<string, string> } } } } {
  return { spec: { template: { metadata: { annotations: { [RESTARTED_AT]: now.toISOString().replace(/\.\d{3}Z$/, 'Z') } } } } }
}

export function describe (resource: ResourceRef): string {
  return `${resource.kind}/${resource.name}`
}

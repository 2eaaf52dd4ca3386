import type { ResourceRef } from '../config/rules.js'

export const RESTARTED_AT = 'kubectl.kubernetes.io/restartedAt'

/** kubectl's field manager for `rollout restart`: the same owner of the annotation as a manual restart. */
export const FIELD_MANAGER = 'kubectl-rollout'

/** The strategic-merge patch `kubectl rollout restart` sends: the pod template's restartedAt, UTC, whole seconds. */
export function restartPatch (now: Date): { spec: { template: { metadata: { annotations: Record<string, string> } } } } {
  return { spec: { template: { metadata: { annotations: { [RESTARTED_AT]: now.toISOString().replace(/\.\d{3}Z$/, 'Z') } } } } }
}

export function describe (resource: ResourceRef): string {
  return `${resource.kind}/${resource.name}`
}

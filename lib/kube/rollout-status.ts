import type { ResourceKind } from '../config/rules.js'

// When a rollout is done, decided the way `kubectl rollout status` decides it (docs/kube-facts.md),
// from the object the API returns. Only the fields read here are typed.

interface Condition { type?: string, reason?: string }

export interface WorkloadObject {
  metadata?: { name?: string, generation?: number }
  spec?: {
    replicas?: number
    updateStrategy?: { type?: string, rollingUpdate?: { partition?: number, maxUnavailable?: unknown } }
  }
  status?: {
    observedGeneration?: number
    replicas?: number
    updatedReplicas?: number
    readyReplicas?: number
    availableReplicas?: number
    currentRevision?: string
    updateRevision?: string
    desiredNumberScheduled?: number
    updatedNumberScheduled?: number
    numberAvailable?: number
    conditions?: Condition[]
  }
}

export type RolloutStatus =
  | { state: 'done', message: string }
  | { state: 'waiting', message: string }
  | { state: 'failed', message: string }

export function rolloutStatus (kind: ResourceKind, object: WorkloadObject): RolloutStatus {
  switch (kind) {
    case 'deployment': return deploymentStatus(object)
    case 'statefulset': return statefulSetStatus(object)
    case 'daemonset': return daemonSetStatus(object)
  }
}

function deploymentStatus (object: WorkloadObject): RolloutStatus {
  const name = object.metadata?.name
  const status = object.status ?? {}
  if ((object.metadata?.generation ?? 0) > (status.observedGeneration ?? 0)) {
    return { state: 'waiting', message: 'Waiting for deployment spec update to be observed...' }
  }
  if (status.conditions?.some(condition => condition.type === 'Progressing' && condition.reason === 'ProgressDeadlineExceeded') === true) {
    return { state: 'failed', message: `deployment "${name}" exceeded its progress deadline` }
  }
  const wanted = object.spec?.replicas ?? 1
  const updated = status.updatedReplicas ?? 0
  if (updated < wanted) {
    return { state: 'waiting', message: `Waiting for deployment "${name}" rollout to finish: ${updated} out of ${wanted} new replicas have been updated...` }
  }
  const replicas = status.replicas ?? 0
  if (replicas > updated) {
    return { state: 'waiting', message: `Waiting for deployment "${name}" rollout to finish: ${replicas - updated} old replicas are pending termination...` }
  }
  const available = status.availableReplicas ?? 0
  if (available < updated) {
    return { state: 'waiting', message: `Waiting for deployment "${name}" rollout to finish: ${available} of ${updated} updated replicas are available...` }
  }
  return { state: 'done', message: `deployment "${name}" successfully rolled out` }
}

function statefulSetStatus (object: WorkloadObject): RolloutStatus {
  const status = object.status ?? {}
  const strategy = object.spec?.updateStrategy?.type ?? 'RollingUpdate'
  if (strategy !== 'RollingUpdate') {
    return { state: 'failed', message: `rollout status is only available for RollingUpdate strategy type (this statefulset uses ${strategy})` }
  }
  const observed = status.observedGeneration ?? 0
  if (observed === 0 || (object.metadata?.generation ?? 0) > observed) {
    return { state: 'waiting', message: 'Waiting for statefulset spec update to be observed...' }
  }
  const wanted = object.spec?.replicas ?? 1
  const ready = status.readyReplicas ?? 0
  if (ready < wanted) return { state: 'waiting', message: `Waiting for ${wanted - ready} pods to be ready...` }
  const partition = object.spec?.updateStrategy?.rollingUpdate?.partition ?? 0
  if (partition > 0) {
    const updated = status.updatedReplicas ?? 0
    if (updated < wanted - partition) {
      return { state: 'waiting', message: `Waiting for partitioned roll out to finish: ${updated} out of ${wanted - partition} new pods have been updated...` }
    }
    return { state: 'done', message: `partitioned roll out complete: ${updated} new pods have been updated...` }
  }
  if (status.updateRevision !== status.currentRevision) {
    return { state: 'waiting', message: `waiting for statefulset rolling update to complete ${status.updatedReplicas ?? 0} pods at revision ${status.updateRevision}...` }
  }
  return { state: 'done', message: `statefulset rolling update complete ${ready} pods at revision ${status.currentRevision}...` }
}

function daemonSetStatus (object: WorkloadObject): RolloutStatus {
  const name = object.metadata?.name
  const status = object.status ?? {}
  const strategy = object.spec?.updateStrategy?.type ?? 'RollingUpdate'
  if (strategy !== 'RollingUpdate') {
    return { state: 'failed', message: `rollout status is only available for RollingUpdate strategy type (this daemonset uses ${strategy})` }
  }
  if ((object.metadata?.generation ?? 0) > (status.observedGeneration ?? 0)) {
    return { state: 'waiting', message: 'Waiting for daemon set spec update to be observed...' }
  }
  const desired = status.desiredNumberScheduled ?? 0
  const updated = status.updatedNumberScheduled ?? 0
  if (updated < desired) return { state: 'waiting', message: `Waiting for daemon set "${name}" rollout to finish: ${updated} out of ${desired} new pods have been updated...` }
  const available = status.numberAvailable ?? 0
  if (available < desired) return { state: 'waiting', message: `Waiting for daemon set "${name}" rollout to finish: ${available} of ${desired} updated pods are available...` }
  return { state: 'done', message: `daemon set "${name}" successfully rolled out` }
}

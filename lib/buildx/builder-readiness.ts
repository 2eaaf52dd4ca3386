import type { ComponentState } from '../readiness.js'
import type { BuilderState } from './builder.js'

/**
 * The builder's entry on /ready. Ready once bootstrapped: a later outage queues builds instead of turning
 * webhooks away. A builder that is not ready always says why. With several nodes each one is listed; a
 * single endpoint's detail stays as it was.
 */
export function builderReadiness (state: BuilderState, listNodes: boolean): ComponentState {
  const nodes = state.nodes.map(({ name, endpoint, platforms, status, reason }) => ({ name, endpoint, platforms, status, reason }))
  const detail = { name: state.name, endpoint: state.endpoint, state: state.status, since: state.since, ...(listNodes ? { nodes } : {}) }
  return state.bootstrapped
    ? { ready: true, detail: state.reason === null ? detail : { ...detail, reason: state.reason } }
    : { ready: false, reason: state.reason!, detail }
}

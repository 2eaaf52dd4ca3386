/** The state of one thing readiness depends on (the builder, the store, ...). */
export interface ComponentState {
  ready: boolean
  /** Why it is not ready, for people: e.g. 'builder is unreachable at tcp://...'. */
  reason?: string
  /** Extra, non-secret facts shown on /ready. */
  detail?: Record<string, unknown>
}

export type ReadinessReport =
  | { ready: true, status: 'ready', components: Record<string, ComponentState> }
  | { ready: false, status: 'unavailable' | 'shutting_down', reason: string, components: Record<string, ComponentState> }

/** Whether the service can take work now: every component ready, and not shutting down. */
export class Readiness {
  #components = new Map<string, ComponentState>()
  #shuttingDown = false

  set (component: string, state: ComponentState): void {
    this.#components.set(component, state)
  }

  beginShutdown (): void {
    this.#shuttingDown = true
  }

  get shuttingDown (): boolean {
    return this.#shuttingDown
  }

  report (): ReadinessReport {
    const components = Object.fromEntries(this.#components)
    if (this.#shuttingDown) return { ready: false, status: 'shutting_down', reason: 'the server is shutting down', components }
    for (const [name, state] of this.#components) {
      if (!state.ready) return { ready: false, status: 'unavailable', reason: state.reason ?? `${name} is not ready`, components }
    }
    return { ready: true, status: 'ready', components }
  }
}

import { EventEmitter } from 'node:events'
import { setTimeout as sleep } from 'node:timers/promises'
import type { BuilderNode, BuilderSettings } from '../config/index.js'
import { runProcess, type GroupTracker, type ProcessResult } from '../process/run-process.js'
import type { Log } from '../log.js'
import { describeBuilderFailure } from './failure.js'
import { builderEndpoints, builderMatches, createArgvs, declaredNodes, parseBuilderList, type DesiredBuilder } from './builder-spec.js'
import { unreadableTlsFiles } from './tls-files.js'

export type BuilderStatus = 'starting' | 'ready' | 'unavailable' | 'stopped'

/** One BuildKit node of the builder, as /ready and /metrics show it. */
export interface NodeState {
  name: string
  endpoint: string
  /** The platforms configured for it (empty for a single app.builder.endpoint). */
  platforms: readonly string[]
  status: BuilderStatus
  /** Why the node cannot be used, for people. */
  reason: string | null
}

export interface BuilderState {
  status: BuilderStatus
  name: string
  endpoint: string
  /** Why the builder cannot be used, for people. */
  reason: string | null
  /** When this status began (ISO 8601). */
  since: string
  /** Whether a bootstrap ever succeeded in this process. */
  bootstrapped: boolean
  nodes: readonly NodeState[]
}

export interface BuilderOptions {
  settings: BuilderSettings
  /** The environment of every docker child (lib/process/child-env.ts). */
  env: Record<string, string>
  log: Log
  /** Backoff between failed attempts: doubles from initialMs up to maxMs, ±20% jitter. */
  retry?: { initialMs?: number, maxMs?: number }
  /** An unreachable BuildKit makes `inspect --bootstrap` wait ~20 s; give up on one attempt after this. */
  attemptTimeoutMs?: number
  random?: () => number
  /** Records each docker child's process group while it runs. */
  groups?: GroupTracker
}

const DEFAULT_RETRY = { initialMs: 1_000, maxMs: 60_000 }
/** How long an interrupted builder command (ls, create, inspect) gets before SIGKILL. */
export const BUILDER_KILL_GRACE_MS = 2_000

class AttemptFailed extends Error {
  /** The nodes found down, by name, with why; null: not known (every node is given the attempt's reason). */
  readonly down: ReadonlyMap<string, string> | null

  constructor (message: string, down: ReadonlyMap<string, string> | null = null) {
    super(message)
    this.down = down
  }
}

/**
 * Keeps the buildx builder `settings.name` on the remote driver at the configured endpoint: creates it, or
 * recreates it when its endpoint or TLS options differ, bootstraps it, and retries with capped, jittered
 * exponential backoff while docker, buildx or BuildKit is missing. Runs in the background: nothing waits on
 * it but the builds that need it.
 */
export class Builder extends EventEmitter<{ state: [BuilderState] }> {
  readonly #options: BuilderOptions
  readonly #desired: DesiredBuilder
  #state: BuilderState
  #stop = new AbortController()
  #loop: Promise<void> = Promise.resolve()
  #looping = false

  constructor (options: BuilderOptions) {
    super()
    this.#options = options
    const { name, endpoint, tls, nodes } = options.settings
    this.#desired = { name, endpoint, tls, nodes }
    const reason = `bootstrapping builder ${name} at ${endpoint}`
    this.#state = {
      status: 'starting',
      name,
      endpoint,
      reason,
      since: new Date().toISOString(),
      bootstrapped: false,
      nodes: nodes.map(node => ({ name: node.name, endpoint: node.endpoint, platforms: node.platforms, status: 'starting', reason: `bootstrapping node ${node.name} at ${node.endpoint}` }))
    }
  }

  get state (): BuilderState {
    return this.#state
  }

  get ready (): boolean {
    return this.#state.status === 'ready'
  }

  /** Starts (or restarts, after a build found BuildKit gone) the ensure-and-bootstrap loop. */
  start (): void {
    if (this.#looping || this.#stop.signal.aborted) return
    this.#looping = true
    this.#loop = this.#run()
  }

  /** A build found BuildKit unreachable: builds wait again until a bootstrap succeeds. */
  reportUnavailable (reason: string): void {
    if (this.#state.status !== 'ready') return
    this.#setState('unavailable', reason)
    this.start()
  }

  /** Resolves once the builder is ready; rejects when `signal` aborts first. */
  whenReady (signal?: AbortSignal): Promise<void> {
    if (this.ready) return Promise.resolve()
    return new Promise((resolve, reject) => {
      const onState = (state: BuilderState): void => {
        if (state.status !== 'ready') return
        cleanup()
        resolve()
      }
      const onAbort = (): void => {
        cleanup()
        reject(signal!.reason)
      }
      const cleanup = (): void => {
        this.off('state', onState)
        signal?.removeEventListener('abort', onAbort)
      }
      if (signal?.aborted === true) return reject(signal.reason)
      this.on('state', onState)
      signal?.addEventListener('abort', onAbort, { once: true })
    })
  }

  async stop (): Promise<void> {
    this.#stop.abort(new Error('the builder is stopping'))
    await this.#loop
    this.#setState('stopped', 'the service is shutting down')
  }

  async #run (): Promise<void> {
    const retry = { ...DEFAULT_RETRY, ...this.#options.retry }
    let delay = retry.initialMs
    while (!this.#stop.signal.aborted) {
      try {
        await this.#attempt()
        // Not looping any more before anyone hears of it, so a build that finds BuildKit gone can restart it.
        this.#looping = false
        this.#setState('ready', null)
        return
      } catch (err) {
        if (this.#stop.signal.aborted) break
        this.#setState('unavailable', (err as Error).message, (err as AttemptFailed).down ?? null)
      }
      const jitter = 0.8 + 0.4 * (this.#options.random ?? Math.random)()
      try {
        await sleep(Math.round(delay * jitter), undefined, { signal: this.#stop.signal })
      } catch {
        break
      }
      delay = Math.min(delay * 2, retry.maxMs)
    }
    this.#looping = false
  }

  async #attempt (): Promise<void> {
    const listed = await this.#docker(['buildx', 'ls', '--format', 'json'])
    const current = parseBuilderList(listed).find(builder => builder.Name === this.#desired.name)
    if (current !== undefined && !builderMatches(current, this.#desired)) {
      this.#options.log.info({ builder: this.#desired.name, endpoint: builderEndpoints(this.#desired) }, 'Recreating the builder: its nodes, endpoints, platforms or TLS options changed.')
      await this.#docker(['buildx', 'rm', this.#desired.name])
    }
    if (current === undefined || !builderMatches(current, this.#desired)) {
      for (const argv of createArgvs(this.#desired)) await this.#docker(argv)
      this.#options.log.info({ builder: this.#desired.name, endpoint: builderEndpoints(this.#desired) }, 'Created the builder.')
    }
    try {
      await this.#docker(['buildx', 'inspect', '--bootstrap', this.#desired.name])
    } catch (err) {
      throw await this.#nodesDown(err as AttemptFailed)
    }
  }

  /**
   * Why the bootstrap failed, as precisely as can be told: a TLS file that cannot be read (buildx only says
   * `context deadline exceeded` then), and with several nodes which of them: those `buildx ls` does not show running.
   */
  async #nodesDown (failed: AttemptFailed): Promise<AttemptFailed> {
    if (this.#stop.signal.aborted) return failed
    const unreadable = await unreadableTlsFiles(this.#desired)
    const nodes = declaredNodes(this.#desired)
    if (nodes === null) return unreadable.size === 0 ? failed : new AttemptFailed(unreadable.get(this.#desired.name)!)
    const listed = parseBuilderList(await this.#docker(['buildx', 'ls', '--format', 'json'])).find(builder => builder.Name === this.#desired.name)
    const down = new Map<string, string>()
    for (const node of nodes) {
      const status = listed?.Nodes?.find(found => found.Name === node.name)?.Status
      if (status !== 'running') down.set(node.name, unreadable.get(node.name) ?? `BuildKit is unreachable at ${node.endpoint}`)
    }
    // Every node answers by now (one came up just after buildx gave up): buildx's own reason, and the next try.
    if (down.size === 0) return failed
    const named = (node: BuilderNode) => `${node.name} (${node.endpoint})`
    const unreachable = nodes.filter(node => down.has(node.name) && !unreadable.has(node.name)).map(named)
    const reasons = nodes.filter(node => down.has(node.name) && unreadable.has(node.name)).map(node => `builder node ${named(node)}: ${unreadable.get(node.name)!}`)
    if (unreachable.length === 1) reasons.unshift(`builder node ${unreachable[0]!} is unreachable`)
    if (unreachable.length > 1) reasons.unshift(`builder nodes ${unreachable.join(', ')} are unreachable`)
    return new AttemptFailed(reasons.join('; '), down)
  }

  /** Runs docker; returns its stdout lines, or throws a one-line reason. */
  async #docker (args: string[]): Promise<string[]> {
    const stdout: string[] = []
    const stderr: string[] = []
    const signal = AbortSignal.any([this.#stop.signal, AbortSignal.timeout(this.#options.attemptTimeoutMs ?? 60_000)])
    const result: ProcessResult = await runProcess('docker', args, {
      env: this.#options.env,
      signal,
      killGraceMs: BUILDER_KILL_GRACE_MS,
      groups: this.#options.groups,
      onLine: (line, stream) => (stream === 'stdout' ? stdout : stderr).push(line)
    })
    this.#options.log.debug({ args, code: result.code }, 'docker finished.')
    if (result.code === 0) return stdout
    if (result.aborted && !this.#stop.signal.aborted) {
      throw new AttemptFailed(`BuildKit is unreachable at ${builderEndpoints(this.#desired)} (docker ${args.slice(0, 2).join(' ')} timed out)`)
    }
    throw new AttemptFailed(describeBuilderFailure(result, stderr, builderEndpoints(this.#desired)))
  }

  #setState (status: BuilderStatus, reason: string | null, down: ReadonlyMap<string, string> | null = null): void {
    const previous = this.#state
    if (previous.status === status && previous.reason === reason) return
    const bootstrapped = previous.bootstrapped || status === 'ready'
    // Known down nodes are unavailable and the others ready; otherwise every node shares the builder's state.
    const nodes = previous.nodes.map(node => down === null
      ? { ...node, status, reason }
      : down.has(node.name) ? { ...node, status, reason: down.get(node.name)! } : { ...node, status: 'ready' as const, reason: null })
    this.#state = { ...previous, status, reason, bootstrapped, nodes, since: new Date().toISOString() }
    const fields = { builder: previous.name, endpoint: previous.endpoint, status, ...(reason === null ? {} : { reason }) }
    // Logged once per change of state or reason, not once per try.
    if (status === 'ready') this.#options.log.info(fields, 'The builder is ready.')
    else if (status === 'unavailable') this.#options.log.warn(fields, 'The builder is unavailable: builds wait until it is back.')
    this.emit('state', this.#state)
  }
}

import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client'
import { DELIVERY_SOURCES, REPORT_KINDS, type BuildRecord, type BuildStatus, type Source } from '../schemas/build.js'
import { DeployStrategies } from '../config/schema.js'
import type { EventEmitter } from 'node:events'
import { SEND_OUTCOMES, type SentEvent } from '../reports/report-sender.js'
import type { BuildStore, FinalEvent } from '../store/build-store.js'

export const DELIVERY_OUTCOMES = ['accepted', 'duplicate', 'ignored', 'pong', 'unauthorized', 'invalid', 'error'] as const
export type DeliveryOutcome = typeof DELIVERY_OUTCOMES[number]

const FINAL: readonly BuildStatus[] = ['succeeded', 'failed', 'cancelled', 'superseded']
// A superseded rollback is counted with the builds only: it never ran (and reading it would cost every superseded build a read).
const ROLLBACK_FINAL: readonly BuildStatus[] = ['succeeded', 'failed', 'cancelled']
const DEPLOY_OUTCOMES = ['succeeded', 'failed', 'skipped'] as const
// Builds take seconds to an hour.
const DURATION_BUCKETS = [5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600]

export interface BuildMetricsOptions {
  /** The configured project slugs: the only values of the `project` label. */
  projects: readonly string[]
  /** Each configured project's image repositories: the only values of the `repository` label. */
  repositories: ReadonlyMap<string, readonly string[]>
  store: BuildStore
  builderReady: () => boolean
  /** Each builder node, 1 when up: the builder's name, the node's name and endpoint are config's, never request input. */
  builderNodes?: () => ReadonlyArray<{ builder: string, node: string, endpoint: string, up: boolean }>
  /** Commit statuses and notifications: each attempt's outcome. */
  reports: EventEmitter<{ sent: [SentEvent] }>
}

/**
 * The service's Prometheus metrics, in a registry of its own. Label values come from the config (slugs,
 * repositories) and fixed sets (statuses, sources, outcomes), never from request input, so the number of
 * series is bounded. Build counts follow the store's final-status events, so no path is counted twice.
 */
export class BuildMetrics {
  readonly registry = new Registry()
  readonly #projects: ReadonlySet<string>
  readonly #repositories: ReadonlyMap<string, readonly string[]>
  readonly #store: BuildStore
  readonly #builds: Counter<'project' | 'status'>
  readonly #buildDuration: Histogram<'project' | 'status'>
  readonly #imageDuration: Histogram<'project' | 'repository' | 'status'>
  readonly #deliveries: Counter<'source' | 'outcome'>
  readonly #deploys: Counter<'project' | 'strategy' | 'outcome'>
  readonly #rollbacks: Counter<'project' | 'status'>
  readonly #reports: Counter<'project' | 'kind' | 'outcome'>
  readonly #sender: EventEmitter<{ sent: [SentEvent] }>
  readonly #onFinal = (event: FinalEvent): void => this.#finished(event)
  readonly #onSent = (event: SentEvent): void => {
    if (this.#projects.has(event.project)) this.#reports.inc({ project: event.project, kind: event.kind, outcome: event.outcome })
  }

  constructor (options: BuildMetricsOptions) {
    const registers = [this.registry]
    const { store, projects } = options
    this.#store = store
    this.#projects = new Set(projects)
    this.#repositories = options.repositories
    collectDefaultMetrics({ register: this.registry })
    this.#builds = new Counter({ name: 'build_hook_builds_total', help: 'Builds that reached a final status, by project and status.', labelNames: ['project', 'status'], registers })
    this.#buildDuration = new Histogram({ name: 'build_hook_build_duration_seconds', help: 'Time from a build starting to its final status.', labelNames: ['project', 'status'], buckets: DURATION_BUCKETS, registers })
    this.#imageDuration = new Histogram({ name: 'build_hook_image_build_duration_seconds', help: 'Time one image took to build and push.', labelNames: ['project', 'repository', 'status'], buckets: DURATION_BUCKETS, registers })
    this.#deploys = new Counter({ name: 'build_hook_deploys_total', help: 'Deploy steps of finished builds, by project, strategy and outcome (succeeded, failed, or skipped: a newer build had deployed).', labelNames: ['project', 'strategy', 'outcome'], registers })
    this.#rollbacks = new Counter({ name: 'build_hook_rollbacks_total', help: 'Rollbacks that ran or were cancelled, by project and final status.', labelNames: ['project', 'status'], registers })
    this.#reports = new Counter({ name: 'build_hook_reports_total', help: 'Attempts to send a commit status (kind status) or notification (kind notify), by outcome: delivered, retried (will be sent again) or failed (given up).', labelNames: ['project', 'kind', 'outcome'], registers })
    new Gauge({ // eslint-disable-line no-new
      name: 'build_hook_reports_pending',
      help: 'Commit statuses and notifications waiting to be sent (or retried), by project and kind.',
      labelNames: ['project', 'kind'],
      registers,
      collect () {
        const pending = store.reports.pending()
        for (const project of projects) {
          for (const kind of REPORT_KINDS) this.set({ project, kind }, pending.find(row => row.project === project && row.kind === kind)?.n ?? 0)
        }
      }
    })
    this.#deliveries = new Counter({ name: 'build_hook_webhook_deliveries_total', help: 'Requests to POST /<slug>, by sender and outcome.', labelNames: ['source', 'outcome'], registers })
    const perProject = (status: BuildStatus) => function (this: Gauge<'project'>) {
      const counts = store.countByProject(status)
      for (const project of projects) this.set({ project }, counts.get(project) ?? 0)
    }
    new Gauge({ name: 'build_hook_queue_depth', help: 'Builds waiting to run, by project.', labelNames: ['project'], registers, collect: perProject('queued') }) // eslint-disable-line no-new
    new Gauge({ name: 'build_hook_builds_running', help: 'Builds running now, by project.', labelNames: ['project'], registers, collect: perProject('running') }) // eslint-disable-line no-new
    new Gauge({ name: 'build_hook_builder_ready', help: '1 when the buildx builder is bootstrapped and reachable, else 0.', registers, collect () { this.set(options.builderReady() ? 1 : 0) } }) // eslint-disable-line no-new
    new Gauge({ // eslint-disable-line no-new
      name: 'build_hook_builder_node_up',
      help: '1 when the builder node is bootstrapped and reachable, else 0, by builder, node and endpoint.',
      labelNames: ['builder', 'node', 'endpoint'],
      registers,
      collect () {
        for (const node of options.builderNodes?.() ?? []) this.set({ builder: node.builder, node: node.node, endpoint: node.endpoint }, node.up ? 1 : 0)
      }
    })
    // Every series exists from the start (at 0), so rates and alerts work before the first event.
    for (const project of projects) {
      for (const status of FINAL) this.#builds.inc({ project, status }, 0)
      for (const status of ROLLBACK_FINAL) this.#rollbacks.inc({ project, status }, 0)
      for (const strategy of DeployStrategies) for (const outcome of DEPLOY_OUTCOMES) this.#deploys.inc({ project, strategy, outcome }, 0)
      for (const kind of REPORT_KINDS) for (const outcome of SEND_OUTCOMES) this.#reports.inc({ project, kind, outcome }, 0)
    }
    for (const source of DELIVERY_SOURCES) for (const outcome of DELIVERY_OUTCOMES) this.#deliveries.inc({ source, outcome }, 0)
    store.on('final', this.#onFinal)
    this.#sender = options.reports
    this.#sender.on('sent', this.#onSent)
  }

  delivery (source: Source, outcome: DeliveryOutcome): void {
    this.#deliveries.inc({ source, outcome })
  }

  async text (): Promise<string> {
    return this.registry.metrics()
  }

  close (): void {
    this.#store.off('final', this.#onFinal)
    this.#sender.off('sent', this.#onSent)
    this.registry.clear()
  }

  #finished ({ id, project, status }: FinalEvent): void {
    if (!this.#projects.has(project)) return // a build of a project no longer configured
    this.#builds.inc({ project, status })
    if (status === 'superseded') return // it never ran: no durations (and no read per superseded build)
    const build = this.#store.get(id)!
    if (build.rollbackOf !== null) this.#rollbacks.inc({ project, status })
    // The deploy step ran (or was skipped for a newer deploy) once it has a strategy.
    const { strategy, status: outcome } = build.deploy
    if (strategy !== null && (outcome === 'succeeded' || outcome === 'failed' || outcome === 'skipped')) this.#deploys.inc({ project, strategy, outcome })
    if (build.startedAt === null || build.finishedAt === null) return // never ran (superseded, cancelled while queued)
    this.#buildDuration.observe({ project, status }, seconds(build.startedAt, build.finishedAt))
    this.#images(build)
  }

  #images (build: BuildRecord): void {
    const repositories = this.#repositories.get(build.project)!
    for (const image of build.images) {
      const repository = repositories.find(candidate => image.image.endsWith(`/${candidate}`))
      if (image.durationMs === null || repository === undefined) continue
      this.#imageDuration.observe({ project: build.project, repository, status: image.status }, image.durationMs / 1000)
    }
  }
}

function seconds (from: string, to: string): number {
  return (Date.parse(to) - Date.parse(from)) / 1000
}

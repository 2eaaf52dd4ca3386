import fp from 'fastify-plugin'
import { ConfiguredReports } from '../lib/reports/report-planner.js'
import { ReportSender } from '../lib/reports/report-sender.js'
import { configuredTargets } from '../lib/reports/send-targets.js'
import type { RetryPolicy } from '../lib/reports/retry-policy.js'
import type { ChangeEvent } from '../lib/store/build-store.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** Sends commit statuses and notifications in the background. */
    reports: ReportSender
  }
}

export interface ReportsPluginOptions {
  /** Retry timings (tests shorten them). */
  retry?: Partial<RetryPolicy>
  /** How long one attempt may take (default 10 s). */
  timeoutMs?: number
  /** On close, how long reports being sent get to finish (default 3 s). */
  closeGraceMs?: number
}

// Commit statuses ([projects.status]) and notifications ([[projects.notify]]): the store keeps what each build
// change sends (in the change's own transaction), the sender delivers it. Registered before the builds plugin,
// so that it closes after it: the statuses of builds cancelled by the shutdown still get their chance.
export default fp<ReportsPluginOptions>(async function reportsPlugin (fastify, options) {
  const { settings, store, secrets } = fastify
  const planner = new ConfiguredReports(settings)
  // Before any build changes: the builds plugin recovers a dead process's builds in onReady.
  store.reportPlanner = planner
  const sender = new ReportSender({
    store: store.reports,
    target: configuredTargets(settings.projects, secrets.reports),
    redactor: secrets.redactor,
    log: fastify.log.child({ component: 'reports' }),
    policy: options.retry,
    timeoutMs: options.timeoutMs
  })
  fastify.decorate('reports', sender)
  const onChange = (event: ChangeEvent): void => { if (planner.reports(event.project)) sender.poke() }
  store.on('change', onChange)
  // What a previous process left unsent goes at once: a restart is when a fixed token or config takes effect.
  fastify.addHook('onReady', async () => {
    store.reports.dueNow()
    sender.poke()
  })
  fastify.addHook('onClose', async () => {
    store.off('change', onChange)
    await sender.stop(options.closeGraceMs ?? 3_000)
  })
}, { name: 'reports', dependencies: ['config', 'store'] })

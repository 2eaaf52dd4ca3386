import fp from 'fastify-plugin'
import { Builder, type BuilderState } from '../lib/buildx/builder.js'
import { builderEndpoints, declaredNodes } from '../lib/buildx/builder-spec.js'
import { BuildRunner } from '../lib/builds/build-runner.js'
import { LiveLogs } from '../lib/builds/live-logs.js'
import { childEnv } from '../lib/process/child-env.js'
import { recordGroups } from '../lib/process/process-groups.js'

export interface Buildx {
  builder: Builder
  runner: BuildRunner
  /** Logs of the builds running now, for followers. */
  logs: LiveLogs
}

declare module 'fastify' {
  interface FastifyInstance {
    buildx: Buildx
  }
}

export interface BuildxPluginOptions {
  /** Backoff between bootstrap attempts (defaults: 1 s doubling to 60 s). */
  retry?: { initialMs?: number, maxMs?: number }
  /** How long an interrupted docker gets before SIGKILL (default 10 s). */
  killGraceMs?: number
}

// The remote builder's lifecycle, in the background from `onReady` (an unreachable BuildKit takes ~20 s per
// try, far past the plugin timeout), and the runner that builds images on it.
export default fp<BuildxPluginOptions>(async function buildxPlugin (fastify, options) {
  const { builder: settings } = fastify.settings
  const env = childEnv(fastify.env)
  const log = fastify.log.child({ component: 'buildx' })
  const groups = fastify.processGroups
  const builder = new Builder({ settings, env, log, retry: options.retry, groups: recordGroups(groups, { buildId: null, command: 'docker buildx (builder)' }) })
  const logs = new LiveLogs()
  const runner = new BuildRunner({
    live: logs,
    store: fastify.store,
    builderName: settings.name,
    endpoint: builderEndpoints(settings),
    env,
    gitCredentials: fastify.gitCredentials,
    dataDir: fastify.env.DATA_DIR,
    redactor: fastify.redactor,
    killGraceMs: options.killGraceMs,
    groups,
    onBuilderUnavailable: reason => builder.reportUnavailable(reason),
    deployer: fastify.kube
  })

  // Several nodes: each one listed; a single endpoint's detail stays as it was.
  const listNodes = declaredNodes(settings) !== null
  const report = (state: BuilderState): void => {
    const nodes = state.nodes.map(({ name, endpoint, platforms, status, reason }) => ({ name, endpoint, platforms, status, reason }))
    const detail = { name: state.name, endpoint: state.endpoint, state: state.status, since: state.since, ...(listNodes ? { nodes } : {}) }
    // Ready once bootstrapped: a later outage queues builds instead of turning webhooks away.
    fastify.readiness.set('builder', state.bootstrapped
      ? { ready: true, detail: state.reason === null ? detail : { ...detail, reason: state.reason } }
      : { ready: false, reason: state.reason!, detail }) // a builder that is not ready always says why
  }
  report(builder.state)
  builder.on('state', report)

  fastify.decorate('buildx', { builder, runner, logs })
  fastify.addHook('onReady', async () => builder.start())
  fastify.addHook('onClose', async () => builder.stop())
}, { name: 'buildx', dependencies: ['config', 'readiness', 'store', 'kube'] })

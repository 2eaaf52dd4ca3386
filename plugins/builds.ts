import fp from 'fastify-plugin'
import { BuildService } from '../lib/builds/build-service.js'
import { childEnv } from '../lib/process/child-env.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** Records, cancels and rolls back builds, and reads their logs; runs them on the builder. */
    builds: BuildService
  }
}

export interface BuildsPluginOptions {
  /** On close, how long running builds may go on before they are interrupted (default: the config's). */
  shutdownGraceMs?: number
  /** The head check before a webhook build starts (default on; tests whose repositories do not exist turn it off). */
  headCheck?: boolean
  /** How long the head check may take (default 15 s). */
  headCheckTimeoutMs?: number
  /** How often a follower of a queued build repeats why it waits (default 30 s; tests shorten it). */
  stillWaitingMs?: number
  /** How long an interrupted docker gets before SIGKILL (default 10 s). */
  killGraceMs?: number
}

// The build pipeline (lib/builds/build-service.ts), given what the other plugins own, and its start and shutdown.
export default fp<BuildsPluginOptions>(async function buildsPlugin (fastify, options) {
  const { settings, env } = fastify
  const service = new BuildService({
    settings,
    dataDir: env.DATA_DIR,
    store: fastify.store,
    builder: fastify.builder,
    deployer: fastify.kube,
    processGroups: fastify.store.processGroups,
    gitCredentials: fastify.secrets.git,
    redactor: fastify.secrets.redactor,
    childEnv: childEnv(env),
    log: fastify.log,
    killGraceMs: options.killGraceMs,
    headCheck: options.headCheck,
    headCheckTimeoutMs: options.headCheckTimeoutMs,
    stillWaitingMs: options.stillWaitingMs
  })
  // Before this process spawns anything (the builder starts in onReady).
  await service.prepare()
  fastify.decorate('builds', service)
  // In onReady, once every plugin (metrics) listens to the store's events, and before the listener opens.
  fastify.addHook('onReady', async () => service.start())
  // The grace period starts in preClose: the server waits for open responses (log followers) before any
  // onClose runs, so a follower would otherwise hold the builds' shutdown back until the forced exit.
  const graceMs = options.shutdownGraceMs ?? settings.builder.shutdownGraceSeconds * 1000
  fastify.addHook('preClose', async () => service.beginShutdown(graceMs))
  // (No preClose ran only when close came before ready: then no build ever started.)
  fastify.addHook('onClose', async () => service.close())
}, { name: 'builds', dependencies: ['config', 'store', 'kube', 'buildx'] })

import fp from 'fastify-plugin'
import { BuildQueue } from '../lib/builds/build-queue.js'
import { Scheduler } from '../lib/builds/scheduler.js'
import { gitToken } from '../lib/env.js'
import { resolveBranch } from '../lib/git/ls-remote.js'
import { childEnv } from '../lib/process/child-env.js'

declare module 'fastify' {
  interface FastifyInstance {
    builds: BuildQueue
    scheduler: Scheduler
  }
}

export interface BuildsPluginOptions {
  /** On close, how long running builds may go on before they are interrupted (default 120 s). */
  shutdownGraceMs?: number
}

// Routes record builds through `builds`; the scheduler runs them on the builder from the store.
export default fp<BuildsPluginOptions>(async function buildsPlugin (fastify, options) {
  const { settings, env, store, buildx } = fastify
  const scheduler = new Scheduler({
    store,
    projects: settings.projects,
    builder: buildx.builder,
    run: (build, project, signal, log) => buildx.runner.run(build, project, signal, log),
    maxConcurrent: settings.builder.maxConcurrentBuilds,
    timeoutSeconds: settings.builder.timeoutSeconds,
    log: fastify.log.child({ component: 'scheduler' })
  })
  const gitEnv = childEnv(env)
  const queue = new BuildQueue({
    store,
    resolveCommit: project => resolveBranch({ url: project.code.url, branch: project.code.branch, token: gitToken(env), env: gitEnv, redactor: fastify.redactor }),
    onRecorded: () => scheduler.poke()
  })
  fastify.decorate('builds', queue)
  fastify.decorate('scheduler', scheduler)
  fastify.addHook('onReady', async () => scheduler.poke())
  fastify.addHook('onClose', async () => scheduler.shutdown(options.shutdownGraceMs ?? 120_000))
}, { name: 'builds', dependencies: ['config', 'store', 'buildx'] })

import fp from 'fastify-plugin'
import { BuildQueue } from '../lib/builds/build-queue.js'
import { pruneBuilds } from '../lib/builds/retention.js'
import { clearTmpDir } from '../lib/builds/tmp-dir.js'
import { Scheduler } from '../lib/builds/scheduler.js'
import { gitToken } from '../lib/env.js'
import { resolveBranch } from '../lib/git/ls-remote.js'
import { childEnv } from '../lib/process/child-env.js'
import type { ProjectSettings } from '../lib/config/index.js'

declare module 'fastify' {
  interface FastifyInstance {
    builds: BuildQueue
    scheduler: Scheduler
  }
}

export interface BuildsPluginOptions {
  /** On close, how long running builds may go on before they are interrupted (default: the config's). */
  shutdownGraceMs?: number
  /** The head check before a webhook build starts (default on; tests whose repositories do not exist turn it off). */
  headCheck?: boolean
  /** How long the head check may take (default 15 s). */
  headCheckTimeoutMs?: number
}

/** A build that was running when the process died is run again, up to this many attempts in all. */
export const MAX_ATTEMPTS = 3

// Routes record builds through `builds`; the scheduler runs them on the builder from the store.
export default fp<BuildsPluginOptions>(async function buildsPlugin (fastify, options) {
  const { settings, env, store, buildx } = fastify
  const gitEnv = childEnv(env)
  // The branch head with git ls-remote: for API calls without a commit, and for the head check.
  const resolveCommit = (project: ProjectSettings, signal?: AbortSignal): Promise<string> =>
    resolveBranch({ url: project.code.url, branch: project.code.branch, token: gitToken(env), env: gitEnv, redactor: fastify.redactor, signal })
  const scheduler = new Scheduler({
    store,
    projects: settings.projects,
    builder: buildx.builder,
    run: (build, project, signal, log) => buildx.runner.run(build, project, signal, log),
    maxConcurrent: settings.builder.maxConcurrentBuilds,
    timeoutSeconds: settings.builder.timeoutSeconds,
    log: fastify.log.child({ component: 'scheduler' }),
    onFinished: build => {
      pruneBuilds(store, env.DATA_DIR, build.project, settings.keepBuilds).catch((err: unknown) => fastify.log.error({ err }, 'Deleting old builds failed.'))
    },
    ...(options.headCheck === false ? {} : { resolveHead: resolveCommit }),
    headCheckTimeoutMs: options.headCheckTimeoutMs
  })
  const queue = new BuildQueue({
    store,
    resolveCommit,
    // After the answers are on their way: spawning docker is no work for the requests that recorded builds.
    onRecorded: () => setImmediate(() => scheduler.poke()),
    interrupt: (id, reason) => scheduler.interrupt(id, reason)
  })

  // What a process that died left behind: running builds run again (or fail on their last attempt), and
  // each project keeps only its newest queued build.
  await clearTmpDir(env.DATA_DIR)
  const recovery = store.recover(MAX_ATTEMPTS)
  if (recovery.requeued.length + recovery.failed.length + recovery.superseded.length > 0) {
    fastify.log.warn(recovery, 'Recovered builds left by a previous process.')
  }
  fastify.decorate('builds', queue)
  fastify.decorate('scheduler', scheduler)
  fastify.addHook('onReady', async () => scheduler.poke())
  fastify.addHook('onClose', async () => scheduler.shutdown(options.shutdownGraceMs ?? settings.builder.shutdownGraceSeconds * 1000))
}, { name: 'builds', dependencies: ['config', 'store', 'buildx'] })

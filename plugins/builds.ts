import type { Readable } from 'node:stream'
import fp from 'fastify-plugin'
import { buildLogPath } from '../lib/builds/build-log.js'
import { MAX_ATTEMPTS } from '../lib/builds/build-outcome.js'
import { BuildQueue } from '../lib/builds/build-queue.js'
import { followLog } from '../lib/builds/log-follower.js'
import { Retention } from '../lib/builds/retention.js'
import { clearTmpDir } from '../lib/builds/tmp-dir.js'
import { Scheduler } from '../lib/builds/scheduler.js'
import { resolveBranch } from '../lib/git/ls-remote.js'
import { childEnv } from '../lib/process/child-env.js'
import { endLeftovers } from '../lib/process/process-groups.js'
import type { ProjectSettings } from '../lib/config/index.js'

declare module 'fastify' {
  interface FastifyInstance {
    builds: BuildQueue
    scheduler: Scheduler
    /** Build `id`'s log until the build ends, saying why it waits while it is queued (GET /builds/:id/logs?follow=true). */
    followBuildLog: (id: number) => Readable
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
}

/** A build that was running when the process died (or lost BuildKit) is run again, up to this many attempts in all. */
export { MAX_ATTEMPTS }

/** How long docker left running by a killed process gets to stop after SIGINT (buildx takes milliseconds); within the plugin timeout. */
export const LEFTOVER_GRACE_MS = 3_000

// Routes record builds through `builds`; the scheduler runs them on the builder from the store.
export default fp<BuildsPluginOptions>(async function buildsPlugin (fastify, options) {
  const { settings, env, store, buildx } = fastify
  const gitEnv = childEnv(env)
  // The branch head with git ls-remote: for API calls without a commit, and for the head check.
  const resolveCommit = (project: ProjectSettings, signal?: AbortSignal): Promise<string> =>
    resolveBranch({ url: project.code.url, branch: project.code.branch, credential: fastify.gitCredentials.get(project.slug) ?? null, env: gitEnv, redactor: fastify.redactor, signal })
  const retention = new Retention({ store, dataDir: env.DATA_DIR, keep: settings.keepBuilds, onError: err => fastify.log.error({ err }, 'Deleting old builds failed.') })
  const scheduler = new Scheduler({
    store,
    projects: settings.projects,
    builder: buildx.builder,
    run: (build, project, signal, log) => buildx.runner.run(build, project, signal, log),
    maxConcurrent: settings.builder.maxConcurrentBuilds,
    timeoutSeconds: settings.builder.timeoutSeconds,
    log: fastify.log.child({ component: 'scheduler' }),
    onFinished: build => retention.finished(build.project),
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

  await clearTmpDir(env.DATA_DIR)
  // Taken before this process spawns anything (the builder starts in onReady): all of these are a dead process's.
  const leftovers = fastify.processGroups.list()
  fastify.decorate('builds', queue)
  fastify.decorate('scheduler', scheduler)
  fastify.decorate('followBuildLog', (id: number) => followLog({
    id, file: buildLogPath(env.DATA_DIR, id), live: buildx.logs, store, waits: scheduler, stillWaitingMs: options.stillWaitingMs
  }))
  // What a process that died left behind: its docker children are ended first (a stale build must not push
  // a tag after its rerun), then running builds run again (or fail on their last attempt), and each project
  // keeps only its newest queued build. In onReady, once every plugin (metrics) listens to the store's
  // events, and before the listener opens.
  fastify.addHook('onReady', async () => {
    await endLeftovers(leftovers, { graceMs: LEFTOVER_GRACE_MS, log: fastify.log.child({ component: 'leftovers' }) })
    for (const group of leftovers) fastify.processGroups.remove(group.pgid, group.startTime)
    const recovery = store.recover(MAX_ATTEMPTS)
    if (recovery.requeued.length + recovery.failed.length + recovery.superseded.length > 0) {
      fastify.log.warn(recovery, 'Recovered builds left by a previous process.')
    }
    scheduler.poke()
  })
  // The grace period starts in preClose: the server waits for open responses (log followers) before any
  // onClose runs, so a follower would otherwise hold the builds' shutdown back until the forced exit.
  const graceMs = options.shutdownGraceMs ?? settings.builder.shutdownGraceSeconds * 1000
  let stopping: Promise<void> | undefined
  fastify.addHook('preClose', async () => {
    stopping = scheduler.shutdown(graceMs)
    buildx.logs.shutDown({ graceMs })
  })
  // (No preClose ran only when close came before ready: then no build ever started.)
  fastify.addHook('onClose', async () => {
    try {
      await stopping
    } finally {
      retention.stop()
    }
  })
}, { name: 'builds', dependencies: ['config', 'store', 'buildx'] })

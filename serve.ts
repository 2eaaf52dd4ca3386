import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { Writable } from 'node:stream'
import { setTimeout } from 'node:timers/promises'
import closeWithGrace from 'close-with-grace'
import { buildApp } from './app.js'
import { logCodeCacheUse, type CodeCacheUse } from './lib/code-cache-notice.js'
import { BuildHookError } from './lib/errors.js'
import { collectWhenIdle } from './lib/memory/idle-collector.js'
import { DEFAULT_KILL_GRACE_MS } from './lib/process/run-process.js'
import { forcedExitDelayMs } from './lib/shutdown.js'

/**
 * Runs the server: composes the app, shuts it down gracefully on SIGTERM and SIGINT, listens. Started by
 * server.ts (from the sources) and by dist/server.js, which loads the bundle (with how its code cache was used).
 */
export async function serve ({ codeCache }: { codeCache?: CodeCacheUse } = {}): Promise<void> {
  const app = buildApp({ env: process.env })

  // Start-up problems are meant for people: the whole message on stderr, a line in the log. What already
  // started (the builder's docker children, in process groups of their own) is closed before exiting.
  async function startupFailed (err: Error): Promise<never> {
    app.log.fatal(err instanceof BuildHookError ? { code: err.code } : { err }, 'Start-up failed.')
    process.stderr.write(`build-hook: ${err.message}\n`)
    await Promise.race([app.close(), setTimeout(forcedExitDelayMs({ drainSeconds: 0, graceSeconds: 0, killGraceMs: DEFAULT_KILL_GRACE_MS }))]).catch(() => {})
    process.exit(1)
  }

  logCodeCacheUse(app.log, codeCache)
  await app.ready().then(() => {}, startupFailed)
  // The memory a burst of pushes left behind, given back once the server idles (bench/results.md, step 17).
  const idleCollection = collectWhenIdle(app.log)

  closeWithGrace({
    // Strictly after the drain, the grace period and the kill grace of the builds' docker children (the
    // builds plugin keeps run-process's default): a forced exit must never beat the SIGKILL it waits for.
    delay: forcedExitDelayMs({ drainSeconds: app.env.SHUTDOWN_DRAIN_SECONDS, graceSeconds: app.settings.builder.shutdownGraceSeconds, killGraceMs: DEFAULT_KILL_GRACE_MS }),
    onSecondSignal: (signal) => app.log.error({ signal }, 'Second signal: exiting now.'),
    /* c8 ignore next -- needs a close that hangs for the whole timeout */
    onTimeout: (delay) => app.log.error({ delay }, 'Shutdown timed out: exiting now.')
  }, async ({ signal, err }) => {
    /* c8 ignore next -- only an uncaught exception gets here, and nothing from outside can provoke one */
    if (err !== undefined) app.log.error({ err }, 'Unexpected error: shutting down.')
    else app.log.info({ signal }, 'Shutting down.')
    idleCollection.stop()
    await app.close()
    app.log.info('Shut down.')
  })

  await app.listen({ host: app.env.HOST, port: app.env.PORT }).catch(startupFailed)
}

/**
 * What the bundle runs before its code cache is written (scripts/write-code-cache.mjs), so that the cache
 * holds what a start compiles: the app composed and started, then asked for /health, in a temporary folder
 * (under `tmpRoot`), logging nowhere, with no docker or git to run (PATH is that folder, with no program in
 * it), then closed. Returns /health's status code.
 */
export async function warmUp ({ tmpRoot = os.tmpdir() }: { tmpRoot?: string } = {}): Promise<number> {
  const dir = mkdtempSync(path.join(tmpRoot, 'build-hook-warm-up-'))
  try {
    const configPath = path.join(dir, 'config.toml')
    writeFileSync(configPath, '[app]\nregistry = "registry.invalid"\n[[projects]]\nname = "warm-up"\nslug = "warm-up"\ncode = { url = "https://git.invalid/warm-up", branch = "main" }\n[[projects.image]]\nrepository = "warm-up"\nlocation = "Dockerfile"\ntag = "latest"\n')
    const app = buildApp({
      env: { CONFIG_PATH: configPath, DATA_DIR: path.join(dir, 'data'), BEARER_TOKENS: randomBytes(24).toString('hex'), PATH: dir, HOME: dir },
      logStream: new Writable({ write: (_chunk, _encoding, done) => done() })
    })
    await app.ready()
    const health = await app.inject({ url: '/health' })
    await app.close()
    return health.statusCode
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

import { setTimeout } from 'node:timers/promises'
import closeWithGrace from 'close-with-grace'
import { buildApp } from './app.js'
import { BuildHookError } from './lib/errors.js'
import { DEFAULT_KILL_GRACE_MS } from './lib/process/run-process.js'
import { forcedExitDelayMs } from './lib/shutdown.js'

const app = buildApp({ env: process.env })

// Start-up problems are meant for people: the whole message on stderr, a line in the log. What already
// started (the builder's docker children, in process groups of their own) is closed before exiting.
async function startupFailed (err: Error): Promise<never> {
  app.log.fatal(err instanceof BuildHookError ? { code: err.code } : { err }, 'Start-up failed.')
  process.stderr.write(`build-hook: ${err.message}\n`)
  await Promise.race([app.close(), setTimeout(forcedExitDelayMs({ drainSeconds: 0, graceSeconds: 0, killGraceMs: DEFAULT_KILL_GRACE_MS }))]).catch(() => {})
  process.exit(1)
}

await app.ready().then(() => {}, startupFailed)

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
  await app.close()
  app.log.info('Shut down.')
})

await app.listen({ host: app.env.HOST, port: app.env.PORT }).catch(startupFailed)

import closeWithGrace from 'close-with-grace'
import { buildApp } from './app.js'
import { BuildHookError } from './lib/errors.js'

// A shutdown still waiting this long after the drain (on requests, then on onClose hooks) is forced.
const SHUTDOWN_TIMEOUT_MS = 10_000

const app = buildApp({ env: process.env })

try {
  await app.ready()
} catch (err) {
  // Start-up problems are meant for people: the full message on stderr, a short line in the log.
  const known = err instanceof BuildHookError
  app.log.fatal(known ? { code: err.code } : { err }, 'Start-up failed.')
  process.stderr.write(`build-hook: ${known ? err.message : String((err as Error).stack ?? err)}\n`)
  process.exit(1)
}

closeWithGrace({
  delay: app.env.SHUTDOWN_DRAIN_SECONDS * 1000 + SHUTDOWN_TIMEOUT_MS,
  onSecondSignal: (signal) => app.log.error({ signal }, 'Second signal: exiting now.'),
  onTimeout: (delay) => app.log.error({ delay }, 'Shutdown timed out: exiting now.')
}, async ({ signal, err }) => {
  if (err !== undefined) app.log.error({ err }, 'Unexpected error: shutting down.')
  else app.log.info({ signal }, 'Shutting down.')
  await app.close()
  app.log.info('Shut down.')
})

await app.listen({ host: app.env.HOST, port: app.env.PORT })

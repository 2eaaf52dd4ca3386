import closeWithGrace from 'close-with-grace'
import { buildApp } from './app.js'
import { BuildHookError } from './lib/errors.js'

// A shutdown still waiting this long after the drain (on requests, then on onClose hooks) is forced.
const SHUTDOWN_TIMEOUT_MS = 10_000

const app = buildApp({ env: process.env })

// Start-up problems are meant for people: the whole message on stderr, a line in the log.
function startupFailed (err: Error): never {
  app.log.fatal(err instanceof BuildHookError ? { code: err.code } : { err }, 'Start-up failed.')
  process.stderr.write(`build-hook: ${err.message}\n`)
  process.exit(1)
}

try {
  await app.ready()
} catch (err) {
  startupFailed(err as Error)
}

closeWithGrace({
  delay: app.env.SHUTDOWN_DRAIN_SECONDS * 1000 + SHUTDOWN_TIMEOUT_MS,
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

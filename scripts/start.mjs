// `npm start`: compiles when a source is newer than dist/, then runs the server in this same process, so
// that a signal sent to the pid npm started (Ctrl-C, `kill`, a process manager) reaches the server itself.
// Production runs `node dist/server.js` directly (the Dockerfile's CMD), with no npm in between.
import { ensureBuilt } from './ensure-built.mjs'

const status = await ensureBuilt()
if (status !== 0) process.exit(status)
await import('../dist/server.js')

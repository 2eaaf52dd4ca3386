// `node scripts/write-code-cache.mjs <bundle>`: loads the bundle, runs its warmUp() (serve.ts: a start, with
// nothing to build and nowhere to log), then writes its V8 code cache next to it (lib/code-cache.ts), with
// the Node.js that will run it. scripts/bundle.mjs and scripts/ensure-built.mjs run it in a process of its
// own (writeCodeCacheInChild), so that nothing of theirs is in the cache, and nothing it leaves running
// holds them up.
import { spawnSync } from 'node:child_process'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

// A warm-up start takes about a second; one that hangs fails the build instead of holding it forever.
const TIMEOUT_MS = 120_000

/**
 * Writes the code cache of `bundle` in a child process; returns why it could not, or null. The child has no
 * NODE_OPTIONS: V8 refuses a cache written under other V8 flags, and the server is started with none (the
 * Dockerfile's CMD, `npm start`, the README's systemd unit).
 */
export function writeCodeCacheInChild (bundle) {
  const { NODE_OPTIONS: _, ...env } = process.env
  const written = spawnSync(process.execPath, [fileURLToPath(import.meta.url), bundle], { stdio: 'inherit', env, timeout: TIMEOUT_MS })
  if (written.error !== undefined) return written.error.message
  return written.status === 0 ? null : `it exited with ${written.status ?? written.signal}`
}

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { writeCodeCache } = await import('../dist/lib/code-cache.js')
  await writeCodeCache(process.argv[2], specifier => import(specifier), async exports => {
    const health = await exports.warmUp()
    if (health !== 200) throw new Error(`the warm-up start's /health answered ${health}`)
  })
  // Whatever a module's top-level code left running (a timer, a handle) does not hold the build up.
  process.exit(0)
}
